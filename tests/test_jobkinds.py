"""Every job kind through the real runner: worker process, evidence, progress, and a completion applied once."""

from __future__ import annotations

import json
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from llmops.lf import dataset_info
from llmops.runner import evidence
from llmops.schemas.jobs import JobStatus
from llmops.services import jobkinds
from llmops.services.container import build_services

from .apphelpers import finished
from .test_app_data_api import _SlowChat


@pytest.fixture
def services(settings):
    return build_services(settings)


@pytest.fixture
def slow_llm():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowChat)
    server.daemon_threads, server.auth = True, set()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _run(services, kind: str, params: dict, **secrets):
    job = jobkinds.submit(services.settings, services.runner, kind, params, f"test {kind}", **secrets)
    done = services.reconciler.wait_applied(job.id, timeout_s=120)
    assert done.status.finished and done.applied_at, services.runner.log_tail(job.id, 40)
    return done


def _entries(settings) -> dict:
    return dataset_info.read(settings.dataset_info_path).entries


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"Passage {i} about inverter maintenance, long enough to send."})
                              + "\n" for i in range(40)), encoding="utf-8")
    return corpus


def test_every_kind_describes_itself():
    names = {kind.name for kind in jobkinds.kinds()}
    assert names == {"train", "corpus", "datagen", "dedup", "mockprefs", "benchmark", "eval", "surgery_convert",
                     "surgery_export", "surgery_gguf", "surgery_average", "mergekit", "surgery_sweep", "serve"}
    for kind in jobkinds.kinds():
        # One evidence registry (the runner's) judges every kind's unwatched runs.
        assert kind.evidence is not None and kind.evidence.proves_completion, kind.name
        assert (kind.params is None) == (kind.run is None) and callable(kind.complete)


def test_corpus_rules_dedup_and_mockprefs_jobs_register_their_results_once(services, settings):
    corpus = _run(services, "corpus", {"sources": ["preset"], "options": {"max_tokens": 256}})
    assert corpus.status is JobStatus.COMPLETED and corpus.kind == "corpus"
    built = corpus.apply_result
    assert built["dataset_name"] in _entries(settings) and built["stats"]["records"] > 50
    assert sum(1 for _ in open(built["path"], encoding="utf-8")) == built["stats"]["records"]
    work = jobkinds.read_progress(corpus.run_dir)
    assert work.total and work.done == work.total  # the jobs panel's done/total

    rules = _run(services, "datagen", {"corpus": built["dataset_name"], "mode": "rules", "rules": {"count": 6}})
    made = rules.apply_result
    assert made["pairs"] == 6 and len(made["preview"]) == 6
    entry = _entries(settings)[made["dataset_name"]]
    assert entry["formatting"] == "alpaca" and len(json.loads(Path(made["path"]).read_text(encoding="utf-8"))) == 6

    pairs = json.loads(Path(made["path"]).read_text(encoding="utf-8"))
    dup = settings.home / "dup.json"
    dup.write_text(json.dumps(pairs + pairs[:2], ensure_ascii=False), encoding="utf-8")
    services.datasets.upload(str(dup), "dupset", "auto")
    dedup = _run(services, "dedup", {"name": "dupset", "near": False})
    assert (dedup.apply_result["before"], dedup.apply_result["after"], dedup.apply_result["version"]) == (8, 6, "v2")
    assert [v.version for v in services.datasets.versions("dupset")] == ["v1", "v2"]

    prefs = _run(services, "mockprefs", {"sft": made["dataset_name"], "limit": 3})
    assert prefs.apply_result["count"] == 3
    assert len(settings.prefs_path.read_text(encoding="utf-8").splitlines()) == 3

    # Everything was applied exactly once: further passes (the app, the CLI, a restart) find nothing to do.
    applied = {job.id: job.applied_at for job in services.runner.list()}
    assert services.reconciler.run_once() == [] and services.reconciler.run_once() == []
    assert {job.id: job.applied_at for job in services.runner.list()} == applied


def test_a_failed_completion_is_recorded_once_and_shown(services, settings):
    job = jobkinds.submit(settings, services.runner, "corpus", {"sources": ["preset"]}, "clash")
    finished(services.runner, job.id, 120)
    path = Path(json.loads((Path(job.run_dir) / evidence.RESULT_FILE).read_text(encoding="utf-8"))["path"])
    # Someone registered the same name for another file before the result could take effect.
    dataset_info.register(dataset_info.ensure(settings), path.stem, {"file_name": "elsewhere.jsonl"})
    assert services.reconciler.run_once() == [job.id]
    failed = services.runner.get(job.id)
    assert failed.applied_at and "already registered" in failed.apply_error
    assert failed.apply_result["error_key"] == "err.dataset_exists"
    assert "already registered" in services.jobs.failure(failed, "en")
    assert "配置不同的数据集" in services.jobs.failure(failed, "zh")
    assert services.reconciler.run_once() == []  # never retried on every tick
    assert _entries(settings)[path.stem] == {"file_name": "elsewhere.jsonl"}


def test_a_stopped_generation_keeps_its_partial_pairs(services, settings, slow_llm, tmp_path):
    params = {"corpus": str(_corpus(tmp_path)), "mode": "llm", "base_url": slow_llm, "model": "slow",
              "llm": {"pairs_per_chunk": 2, "max_workers": 1}}
    job = jobkinds.submit(settings, services.runner, "datagen", params, "stop me")
    deadline = time.monotonic() + 60
    while jobkinds.read_progress(job.run_dir).counts.get("ok", 0) < 2:
        assert time.monotonic() < deadline, services.runner.log_tail(job.id, 40)
        time.sleep(0.1)
    services.runner.stop(job.id)
    done = services.reconciler.wait_applied(job.id, timeout_s=60)
    assert done.status is JobStatus.STOPPED and not done.apply_error
    result = done.apply_result
    stats = result["stats"]
    assert stats["stopped"] and 2 <= stats["ok"] < 40 and result["pairs"] == 2 * stats["ok"]
    rows = json.loads(Path(result["path"]).read_text(encoding="utf-8"))
    assert len(rows) == result["pairs"] and result["dataset_name"] in _entries(settings)


def test_llm_datagen_job_against_the_real_lf_api(services, settings, lf_api, tmp_path):
    params = {"corpus": str(_corpus(tmp_path)), "mode": "llm", "base_url": lf_api.base_url, "model": "tiny",
              "llm": {"pairs_per_chunk": 2, "max_workers": 2, "max_chunks": 3, "max_tokens": 48, "max_retries": 1}}
    job = jobkinds.submit(settings, services.runner, "datagen", params, "tiny llm")
    done = services.reconciler.wait_applied(job.id, timeout_s=120)
    work = jobkinds.read_progress(done.run_dir)
    assert (work.stage, work.done, work.total) == ("llm", 3, 3)
    if done.status is JobStatus.FAILED:  # the random 140k-parameter model almost surely answers no usable pair
        recorded = services.jobs.recorded_error(done)
        assert recorded["key"] == "err.gen_no_pairs_llm" and recorded["stats"]["requests"] == 3
        assert "nothing was written or registered" in services.jobs.failure(done, "en")
        assert not any(name.startswith("sft_data_") for name in _entries(settings))
    else:
        assert done.status is JobStatus.COMPLETED and done.apply_result["dataset_name"] in _entries(settings)


def test_typed_key_reaches_the_worker_only_through_its_environment(services, settings, tmp_path):
    from .test_app_data_api import KEY

    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowChat)
    server.daemon_threads, server.auth = True, set()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        params = {"corpus": str(_corpus(tmp_path)), "mode": "llm", "model": "slow", "typed_key": True,
                  "base_url": f"http://127.0.0.1:{server.server_address[1]}/v1", "llm": {"max_chunks": 2}}
        done = _run(services, "datagen", params, secret_values={jobkinds.data.TYPED_KEY_VAR: KEY})
    finally:
        server.shutdown()
        server.server_close()
    assert done.status is JobStatus.COMPLETED and server.auth == {f"Bearer {KEY}"}
    leaked = [p for p in settings.home.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not leaked
