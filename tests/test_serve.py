"""Serving: a real serve job of the tiny model through `llamafactory-cli api`, and vLLM's command and refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from llmops.errors import ConflictError, InvalidInputError
from llmops.schemas.jobs import JobStatus
from llmops.schemas.models import SamplingParams
from llmops.services.container import build_services
from llmops.services.device import DeviceInfo
from llmops.services.jobkinds.registry import read_progress
from llmops.services.models import ModelRegistry
from llmops.services.serving import ServeOptions, ServingService, options_from_pairs
from llmops.services.serving.plan import free_port

ROOT = Path(__file__).resolve().parent.parent


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def test_serve_job_registers_answers_and_stops_with_no_process_left(settings, demo_model_dir):
    """CLI start --json, the endpoint in the registry answering an A/B round, port-in-use refusal, stop, cleanup."""
    ModelRegistry(settings).ensure_demo(demo_model_dir)
    env = {**os.environ, "LLMOPS_HOME": str(settings.home)}
    done = subprocess.run([sys.executable, "-m", "llmops", "serve", "start", "demo@v1.0", "--json", "--timeout", "120"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=150, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["id"] == "demo-served@v1.0" and out["base_url"].startswith("http://127.0.0.1:")

    services = build_services(settings)
    job = services.runner.get(out["job"])
    assert job.kind == "serve" and job.status is JobStatus.RUNNING
    assert read_progress(job.run_dir).stage == "ready"
    entry = services.models.get(out["id"])
    assert entry.kind == "endpoint" and entry.endpoint.base_url == out["base_url"]
    assert entry.lineage["parent_id"] == "demo@v1.0" and entry.lineage["job_id"] == job.id
    services.serving.sweep()  # a later pass registers nothing twice
    assert [e.id for e in services.models.list() if e.kind == "endpoint"] == [out["id"]]

    # The A/B tab's own path: the served endpoint against the local model it serves.
    round_ = services.arena.start_round("s", "What is LoRA?", params=SamplingParams(temperature=0.0, max_new_tokens=8),
                                        model_a="demo@v1.0", model_b=out["id"])
    services.arena.run(round_)
    # An untrained tiny model answers with whitespace; what matters is that the endpoint streamed an answer.
    assert round_.response_b and not round_.errors and round_.latency_ms["b"] > 0

    # The same port again is refused before any job exists.
    jobs_before = len(services.runner.list())
    with pytest.raises(ConflictError) as refused:
        services.serving.submit("demo@v1.0", ServeOptions(port=job.meta["port"]))
    assert str(job.meta["port"]) in refused.value.message("en") and str(job.meta["port"]) in refused.value.message("zh")
    assert len(services.runner.list()) == jobs_before

    procs = _tree(job.pid)
    assert any("api" in " ".join(proc.cmdline()) for proc in procs)
    stopped = services.serving.stop(job.id)
    assert stopped.status is JobStatus.STOPPED and stopped.apply_result["removed_model_ids"] == [out["id"]]
    _, alive = psutil.wait_procs(procs, timeout=10)
    assert not alive, [proc.cmdline() for proc in alive]
    assert out["id"] not in [e.id for e in services.models.list()]

    listed = subprocess.run([sys.executable, "-m", "llmops", "serve", "list", "--json"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=True)
    rows = json.loads(listed.stdout)
    assert [(r["job_id"], r["status"], r["endpoints"]) for r in rows] == [(job.id, "STOPPED", [])]


def _adapter(folder: Path, rank: int) -> Path:
    # vLLM cannot run here, so its adapters need only be registrable folders; the rank is what the argv reads.
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank}), encoding="utf-8")
    (folder / "adapter_model.safetensors").write_bytes(b"")
    return folder


@pytest.fixture
def lora_versions(settings, demo_model_dir):
    """tiny@v1.0 (base) with two LoRA versions on it."""
    models = ModelRegistry(settings)
    base = models.add_base("tiny", str(demo_model_dir))
    one = models.add_adapter("tiny", base.id, str(_adapter(settings.home / "a1", 8)))
    two = models.add_adapter("tiny", base.id, str(_adapter(settings.home / "a2", 32)))
    return models, base, one, two


def test_vllm_argv_for_several_adapters_of_one_base(settings, lora_versions, tmp_path):
    """The exact `vllm serve` argv (flags as vLLM documents them) and the device set it claims."""
    models, base, one, two = lora_versions
    exe = tmp_path / "vllm"
    exe.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    exe.chmod(0o755)
    gpu = ServingService(settings.__class__(**{**settings.__dict__, "vllm": exe}), build_services(settings).runner,
                         models, device=lambda: DeviceInfo(cuda=True, count=2))
    port = free_port()
    options = options_from_pairs([f"adapters={two.id}", "tensor_parallel_size=2", "gpu_memory_utilization=0.85",
                                  "max_model_len=2048", "dtype=bfloat16"], engine="vllm", port=port)
    plan = gpu.plan(one.id, options, checked=True)
    assert plan.argv == [str(exe), "serve", base.path, "--host", "127.0.0.1", "--port", str(port),
                         "--enable-lora", "--lora-modules", f"{one.id}={one.adapter}", f"{two.id}={two.adapter}",
                         "--max-lora-rank", "32", "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.85",
                         "--max-model-len", "2048", "--dtype", "bfloat16"]
    assert plan.devices == "0,1" and plan.served == [(one.id, one.id), (two.id, two.id)]
    assert plan.command.startswith(f"{exe} serve ")
    merged = gpu.plan(base.id, ServeOptions(engine="vllm", port=port), checked=True)
    assert merged.argv[3:] == ["--host", "127.0.0.1", "--port", str(port), "--served-model-name", base.id]
    with pytest.raises(InvalidInputError):
        gpu.plan(one.id, options_from_pairs([f"adapters={base.id}"], engine="vllm"), checked=True)


def test_vllm_refusals_in_both_languages(settings, lora_versions, tmp_path):
    """No vLLM set, a path that is not an executable, no GPU, too few GPUs: refused before any job, en and zh."""
    models, _, one, _ = lora_versions
    runner = build_services(settings).runner
    vllm = ServeOptions(engine="vllm")
    not_exec = tmp_path / "vllm.txt"
    not_exec.write_text("", encoding="utf-8")
    exe = tmp_path / "vllm"
    exe.write_text("#!/bin/sh\n", encoding="utf-8")
    exe.chmod(0o755)
    cases = [
        (settings, DeviceInfo(cuda=True, count=1), vllm, "LLMOPS_VLLM", "LLMOPS_VLLM"),
        (settings.__class__(**{**settings.__dict__, "vllm": not_exec}), DeviceInfo(cuda=True, count=1), vllm,
         str(not_exec), str(not_exec)),
        (settings.__class__(**{**settings.__dict__, "vllm": exe}), DeviceInfo(), vllm, "CUDA GPU", "GPU"),
        (settings.__class__(**{**settings.__dict__, "vllm": exe}), DeviceInfo(cuda=True, count=1),
         ServeOptions(engine="vllm", tensor_parallel_size=2), "2 GPUs", "2 块 GPU"),
    ]
    for case_settings, device, options, en, zh in cases:
        serving = ServingService(case_settings, runner, models, device=lambda device=device: device)
        with pytest.raises(InvalidInputError) as refused:
            serving.submit(one.id, options)
        assert en in refused.value.message("en") and zh in refused.value.message("zh")
        assert "vllm serve" in serving.plan(one.id, options).command.replace(str(case_settings.vllm), "vllm")
    assert runner.list() == []
    with pytest.raises(InvalidInputError) as wrong_engine:
        options_from_pairs(["dtype=half"])
    assert "dtype" in wrong_engine.value.message("en") and "dtype" in wrong_engine.value.message("zh")


def test_serve_section_through_the_app_api(settings, demo_model_dir, app_factory):
    """The Models tab's Serve events by api_name: vLLM's command and its refusal in Chinese, an LF server started and
    stopped."""
    from tests.apphelpers import connect

    ModelRegistry(settings).ensure_demo(demo_model_dir)
    client = connect(app_factory(lang="zh").url)
    vllm_form = ["demo@v1.0", "vllm", 8011, "", 1, 0.5, 256, "half", "zh"]
    command = client.predict(*vllm_form, api_name="/serve_preview")
    assert command.startswith("vllm serve ") and "--port 8011 --served-model-name demo@v1.0" in command
    assert "--gpu-memory-utilization 0.5 --max-model-len 256 --dtype half" in command
    with pytest.raises(Exception, match="LLMOPS_VLLM"):
        client.predict(*vllm_form[:-1], "local", api_name="/serve_start")
    with pytest.raises(Exception, match="没有名为“nowhere”的目标"):
        client.predict(*vllm_form[:-1], "nowhere", api_name="/serve_start")
    command, status, table = client.predict("demo@v1.0", "llamafactory", None, "", None, None, None, "", "local",
                                            api_name="/serve_start")
    job_id = table["data"][0][0]
    assert "llamafactory-cli api" in command and "demo-served@v1.0" in status and "服务" in status
    status, table = client.predict(job_id, "zh", api_name="/serve_stop")
    assert "STOPPED" in status and "demo-served@v1.0" in status
    assert [e.id for e in ModelRegistry(settings).list()] == ["demo@v1.0"]
