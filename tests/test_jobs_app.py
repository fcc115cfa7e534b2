"""Jobs outlive the app: a generation launched through the API finishes while the app is down, and the next
start registers its result exactly once; the CLI follows and stops jobs of every kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from llmops.lf import dataset_info
from llmops.schemas.jobs import JobStatus
from llmops.services import jobkinds
from llmops.services.container import build_services

from .apphelpers import ROOT, connect
from .test_app_data_api import _SlowChat


def _slow_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowChat)
    server.daemon_threads, server.auth = True, set()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def _sft_names(settings) -> list[str]:
    return [n for n in dataset_info.read(settings.dataset_info_path).entries if n.startswith("sft_data_")]


def test_app_killed_mid_job_applies_the_completion_once_after_restart(settings, tmp_path, app_factory):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"Passage {i} about inverter maintenance, long enough to send."})
                              + "\n" for i in range(25)), encoding="utf-8")
    server = _slow_server()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    services = build_services(settings)
    app = app_factory()
    try:
        client = connect(app.url)
        client.submit(str(corpus), "llm", 0, base_url, "slow", "", "", 2, 1, 0, api_name="/data_generate")
        deadline = time.monotonic() + 60
        while not services.runner.list():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        job_id = services.runner.list()[0].id
        app.kill()  # a crash mid-job: the job's own supervisor keeps it running
        assert not services.runner.get(job_id).status.finished
        done = services.runner.wait(job_id, timeout_s=60)
        assert done.status is JobStatus.COMPLETED and done.applied_at is None  # nobody applied it while down
        assert _sft_names(settings) == []
        app = app_factory()  # start-up applies what finished while the app was down
        applied = services.runner.get(job_id)
        assert applied.applied_at and applied.apply_result["pairs"] == 50
        assert _sft_names(settings) == [applied.apply_result["dataset_name"]]
        app.kill()
        app = app_factory()
        time.sleep(2.5)  # at least one background pass of the restarted app
        again = services.runner.get(job_id)
        assert again.applied_at == applied.applied_at and _sft_names(settings) == [applied.apply_result["dataset_name"]]
    finally:
        app.stop()
        server.shutdown()
        server.server_close()


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmops", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ), check=False)


def test_cli_detach_then_jobs_list_show_logs_and_stop(settings, tmp_path):
    detached = _cli("data", "corpus", "--source", "preset", "--detach", "--json")
    assert detached.returncode == 0, detached.stderr
    job_id = json.loads(detached.stdout)["job_id"]
    services = build_services(settings)
    services.runner.wait(job_id, timeout_s=60)
    shown = json.loads(_cli("jobs", "show", job_id, "--json").stdout)  # `jobs` commands apply what finished
    assert shown["status"] == "COMPLETED" and shown["kind"] == "corpus" and shown["applied_at"]
    assert shown["apply_result"]["dataset_name"] in dataset_info.read(settings.dataset_info_path).entries
    assert shown["progress"]["done"] == shown["progress"]["total"] > 0
    assert "result.json written" in _cli("jobs", "logs", job_id).stdout
    listed = _cli("jobs", "list")
    assert job_id in listed.stdout and "corpus" in listed.stdout

    server = _slow_server()
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"Passage {i} about inverter maintenance, long enough."}) + "\n"
                              for i in range(60)), encoding="utf-8")
    try:
        gen = _cli("data", "sft-gen", "--corpus", str(corpus), "--mode", "llm", "--model", "slow", "--concurrency",
                   "1", "--base-url", f"http://127.0.0.1:{server.server_address[1]}/v1", "--detach")
        gen_id = gen.stdout.strip()
        deadline = time.monotonic() + 60
        while jobkinds.read_progress(services.runner.get(gen_id).run_dir).counts.get("ok", 0) < 1:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stopped = json.loads(_cli("jobs", "stop", gen_id, "--wait", "30", "--json").stdout)
    finally:
        server.shutdown()
        server.server_close()
    assert stopped["status"] == "STOPPED" and stopped["apply_result"]["stats"]["stopped"]
    assert stopped["apply_result"]["dataset_name"] in dataset_info.read(settings.dataset_info_path).entries
    missing = _cli("jobs", "show", "no-such-job")
    assert missing.returncode == 2 and "no-such-job" in missing.stderr
