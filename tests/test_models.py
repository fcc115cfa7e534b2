"""The model registry: versions, validation, a corrupt file, concurrent writers, and real training jobs."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shutil
import threading
from pathlib import Path

import pytest

from llmops.errors import InvalidInputError, LLMOpsError, NotFoundError, StorageError
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.schemas.models import Endpoint, ModelEntry, SamplingParams
from llmops.services.device import DeviceInfo
from llmops.services.models import ModelRegistry, ensure_demo
from llmops.services.training import TrainingService
from llmops.settings import Settings

SECRET = "sk-secret-123"


def fake_adapter(folder: Path) -> Path:
    """An adapter folder as the registry sees one (it checks files; loading is the backends' test)."""
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text('{"peft_type": "LORA"}', encoding="utf-8")
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 8)
    return folder


def error_key(call) -> str:
    with pytest.raises(LLMOpsError) as info:
        call()
    return info.value.key


def test_round_trip_versions_and_default(settings, demo_model_dir, tmp_path):
    registry = ModelRegistry(settings)
    assert registry.list() == [] and registry.default() is None and registry.next_version("tiny") == "v1.0"
    base = registry.add_base("tiny", str(demo_model_dir))
    assert (base.id, base.kind, base.template, base.demo) == ("tiny@v1.0", "base", "chatml", True)
    assert registry.next_version("tiny") == "v1.1"
    first = registry.add_adapter("tiny", base.id, str(fake_adapter(tmp_path / "a1")), lineage={"stage": "sft"})
    second = registry.add_adapter("tiny", base.id, str(fake_adapter(tmp_path / "a2")))
    assert (first.id, second.id) == ("tiny@v1.1", "tiny@v1.2")
    assert first.path == str(demo_model_dir.resolve()) and first.adapter == str((tmp_path / "a1").resolve())
    assert first.lineage == {"stage": "sft", "parent_id": "tiny@v1.0"} and first.parent_id == base.id
    assert registry.next_version("tiny") == "v1.3" and registry.next_version("other") == "v1.0"
    hub = registry.add_base("qwen", "Qwen/Qwen2.5-0.5B-Instruct", template="qwen")
    assert hub.path == "Qwen/Qwen2.5-0.5B-Instruct" and not hub.demo

    registry.set_default(first.id)
    reread = ModelRegistry(Settings.from_env())
    assert [e.model_dump() for e in reread.list()] == [e.model_dump() for e in (base, first, second, hub)]
    assert reread.get("tiny@v1.1") == first and reread.default() == first
    assert [e.version for e in reread.versions("tiny")] == ["v1.0", "v1.1", "v1.2"]

    assert error_key(lambda: registry.add_base("tiny", str(demo_model_dir))) == "err.model_exists"
    assert registry.remove(first.id) == first
    assert registry.default() is None, "removing the default clears the choice"
    with pytest.raises(NotFoundError) as info:
        registry.get(first.id)
    assert info.value.key == "err.model_unknown" and "tiny@v1.1" in str(info.value)
    assert error_key(lambda: registry.remove(first.id)) == "err.model_unknown"
    assert error_key(lambda: registry.set_default("nope@v1.0")) == "err.model_unknown"
    # A removed version's number is not handed out again while a later one exists.
    assert registry.next_version("tiny") == "v1.3"


def test_names_paths_and_kinds_are_validated(settings, demo_model_dir, tmp_path):
    registry = ModelRegistry(settings)
    for bad in ("", "a@b", "../up", "a/b", " ", "x" * 101):
        assert error_key(lambda bad=bad: registry.add_base(bad, str(demo_model_dir))) == "err.model_bad_name", bad
    assert error_key(lambda: registry.add_base("m", str(demo_model_dir), version="v1@2")) == "err.model_bad_version"
    (tmp_path / "empty").mkdir()
    for path in (str(tmp_path / "missing"), str(tmp_path / "empty"), "not a model", "./rel/x"):
        assert error_key(lambda path=path: registry.add_base("m", path)) == "err.model_path_missing", path
    assert error_key(lambda: registry.add_merged("m", str(tmp_path / "empty"))) == "err.model_path_missing"
    base = registry.add_base("m", str(demo_model_dir))
    assert error_key(lambda: registry.add_adapter("m", base.id, str(tmp_path / "empty"))) == "err.model_adapter_missing"
    assert error_key(lambda: registry.add_adapter("m", "ghost@v1.0", str(fake_adapter(tmp_path / "a")))) \
        == "err.model_unknown"
    endpoint = registry.add_endpoint("ep", "http://127.0.0.1:9/v1", "tiny")
    assert error_key(lambda: registry.add_adapter("m", endpoint.id, str(tmp_path / "a"))) == "err.model_adapter_base"
    merged = registry.add_merged("m", str(demo_model_dir), lineage={"parent_id": base.id})
    assert (merged.id, merged.kind, merged.template, merged.demo) == ("m@v1.1", "merged", "chatml", True)
    # The schema itself refuses inconsistent entries (what a hand-edited file might hold).
    with pytest.raises(ValueError):
        ModelEntry(name="x", version="v1.0", kind="adapter", path="/p")
    with pytest.raises(ValueError):
        ModelEntry(id="y@v1.0", name="x", version="v1.0", kind="base", path="/p")
    with pytest.raises(ValueError):
        SamplingParams(temperature=2.5)
    with pytest.raises(ValueError):
        SamplingParams(top_p=0)
    assert SamplingParams() == SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=256, seed=None)


def test_endpoint_validation_never_stores_or_echoes_a_key(settings):
    registry = ModelRegistry(settings)
    for url in ("ftp://host/v1", "localhost:8000/v1", "http://", "javascript:alert(1)", "", "http://h:99999/v1"):
        assert error_key(lambda url=url: registry.add_endpoint("ep", url, "m")) == "err.model_endpoint_url", url
    with pytest.raises(InvalidInputError) as info:
        registry.add_endpoint("ep", f"https://user:{SECRET}@api.example.com/v1", "m")
    assert info.value.key == "err.model_endpoint_credentials" and SECRET not in str(info.value)
    for literal in (SECRET, "sk_live_ABCDEF", "openai_api_key", "A" * 20 + "1234567890" + "BCDEFG", "MY-KEY"):
        with pytest.raises(InvalidInputError) as info:
            registry.add_endpoint("ep", "https://api.example.com/v1", "m", api_key_env=literal)
        assert info.value.key == "err.model_api_key_env", literal
        assert literal not in str(info.value) and literal not in info.value.message("zh")
    with pytest.raises(ValueError) as schema_info:
        Endpoint(base_url="http://h/v1", model="m", api_key_env=SECRET)
    assert SECRET not in str(schema_info.value)
    assert error_key(lambda: registry.add_endpoint("ep", "http://h/v1", "  ")) == "err.model_invalid"

    entry = registry.add_endpoint("openai", "https://api.example.com/v1/", "gpt-x", api_key_env="OPENAI_API_KEY")
    assert entry.endpoint == Endpoint(base_url="https://api.example.com/v1", model="gpt-x",
                                      api_key_env="OPENAI_API_KEY")
    assert (entry.id, entry.kind, entry.path) == ("openai@v1.0", "endpoint", None)
    text = registry.path.read_text(encoding="utf-8")
    assert SECRET not in text and "OPENAI_API_KEY" in text
    assert set(Endpoint.model_fields) == {"base_url", "model", "api_key_env"}, "no field could hold a key value"


def test_corrupt_registry_is_reported_and_left_untouched(settings, demo_model_dir):
    registry = ModelRegistry(settings)
    registry.path.parent.mkdir(parents=True, exist_ok=True)
    for garbage in (b'{"models": [ {"id": truncated', b"[1, 2]",
                    json.dumps({"models": [{"name": "x", "version": "v1.0", "kind": "alien", "path": "/p"}]}).encode(),
                    b"\xff\xfe not utf-8"):
        registry.path.write_bytes(garbage)
        for call in (registry.list, lambda: registry.get("x@v1.0"), registry.default,
                     lambda: registry.add_base("m", str(demo_model_dir)),
                     lambda: registry.add_endpoint("ep", "http://127.0.0.1:9/v1", "m"),
                     lambda: registry.set_default(None), lambda: registry.ensure_demo(demo_model_dir)):
            with pytest.raises(StorageError) as info:
                call()
            assert info.value.key == "err.model_registry_corrupt" and str(registry.path) in str(info.value)
        assert registry.path.read_bytes() == garbage, "a corrupt registry must never be overwritten"


def _add_endpoints(home: str, prefix: str, count: int) -> None:
    registry = ModelRegistry(Settings(home=Path(home)))
    for index in range(count):
        registry.add_endpoint(f"{prefix}{index}", "http://127.0.0.1:9/v1", "m")


def test_concurrent_adds_all_survive(settings, demo_model_dir, tmp_path):
    registry = ModelRegistry(settings)
    base = registry.add_base("tiny", str(demo_model_dir))
    adapters = [fake_adapter(tmp_path / f"a{index}") for index in range(8)]
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def add(call):
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    calls = [lambda i=i: ModelRegistry(settings).add_endpoint(f"ep{i}", "http://127.0.0.1:9/v1", "m") for i in range(8)]
    calls += [lambda p=p: ModelRegistry(settings).add_adapter("tiny", base.id, str(p)) for p in adapters]
    threads = [threading.Thread(target=add, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    ids = {entry.id for entry in registry.list()}
    assert {f"ep{i}@v1.0" for i in range(8)} <= ids
    # Auto-numbered versions never collide: each writer saw the others' entries under the lock.
    assert {e.version for e in registry.versions("tiny")} == {"v1.0"} | {f"v1.{i}" for i in range(1, 9)}
    assert {e.adapter for e in registry.versions("tiny") if e.kind == "adapter"} == {str(p.resolve()) for p in adapters}

    # Separate processes too (the lock is an flock on models.json.lock).
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_add_endpoints, args=(str(settings.home), f"p{n}-", 5)) for n in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    assert len(registry.list()) == 1 + 8 + 8 + 10


def test_ensure_demo_registers_the_demo_model_once(settings, demo_model_dir):
    assert ensure_demo(settings) is None, "no demo folder yet: nothing registered"
    assert ModelRegistry(settings).list() == []
    shutil.copytree(demo_model_dir, settings.demo_model_dir)
    entry = ensure_demo(settings)
    assert (entry.id, entry.kind, entry.demo, entry.template) == ("demo@v1.0", "base", True, "chatml")
    assert entry.path == str(settings.demo_model_dir.resolve())
    assert ensure_demo(settings) == entry and len(ModelRegistry(settings).list()) == 1


def test_sync_jobs_registers_a_real_lora_training_exactly_once(settings, demo_model_dir, tmp_path):
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], finetuning_type="lora", max_steps=3,
                           logging_steps=1, gradient_accumulation_steps=1, save_steps=1000, cutoff_len=128)
    _, job = service.launch_config(config)
    job = service.runner.wait(job.id, 180, poll_s=0.2)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)

    registry = ModelRegistry(settings)
    demo = registry.ensure_demo(demo_model_dir)
    jobs = service.runner.list()
    added = registry.sync_jobs(jobs)
    assert [entry.id for entry in added] == ["demo@v1.1"]
    adapter = added[0]
    assert adapter.kind == "adapter" and adapter.demo and adapter.template == "chatml"
    assert adapter.path == demo.path and adapter.adapter == str(Path(job.run_dir).resolve())
    assert adapter.lineage["job_id"] == job.id and adapter.lineage["datasets"] == ["sample_sft"]
    assert adapter.lineage["stage"] == "sft" and adapter.lineage["parent_id"] == "demo@v1.0"
    assert registry.sync_jobs(jobs) == [] and ModelRegistry(settings).sync_jobs(service.runner.list()) == []
    assert [e.id for e in registry.list()] == ["demo@v1.0", "demo@v1.1"]

    # Unfinished or failed jobs register nothing; a job naming its parent is filed under that parent.
    others = [dataclasses.replace(job, id="running", status=JobStatus.RUNNING),
              dataclasses.replace(job, id="failed", status=JobStatus.FAILED),
              dataclasses.replace(job, id="dpo", meta={**job.meta, "stage": "dpo", "parent_model_id": adapter.id})]
    full_dir = shutil.copytree(demo_model_dir, tmp_path / "full-out")
    others.append(dataclasses.replace(job, id="full", meta={**job.meta, "stage": "pt", "finetuning_type": "full",
                                                             "output_dir": str(full_dir)}))
    added = registry.sync_jobs(others)
    assert [(e.id, e.kind, e.lineage["parent_id"]) for e in added] == [
        ("demo@v1.2", "adapter", "demo@v1.1"), ("demo@v1.3", "merged", "demo@v1.0")]
    assert added[1].path == str(full_dir.resolve())
    assert registry.sync_jobs(jobs + others) == []


def test_sync_jobs_registers_an_unknown_base_first(settings, demo_model_dir, tmp_path):
    from llmops.schemas.jobs import Job

    out = fake_adapter(tmp_path / "run")
    job = Job(id="j1", kind="train", name="run", status=JobStatus.COMPLETED, argv=["x"], cwd=".", run_dir=str(out),
              log_path=str(out / "job.log"), devices="cpu", created_at=1.0, finished_at=2.0,
              meta={"stage": "sft", "model": str(demo_model_dir), "dataset": "a,b", "finetuning_type": "lora",
                    "template": "chatml", "output_dir": str(out)})
    added = ModelRegistry(settings).sync_jobs([job, dataclasses.replace(job, kind="merge", id="j2")])
    assert [(e.id, e.kind) for e in added] == [("demo@v1.0", "base"), ("demo@v1.1", "adapter")]
    assert added[1].lineage["datasets"] == ["a", "b"]
