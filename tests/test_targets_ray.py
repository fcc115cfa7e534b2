"""A Ray target played by a real local head (`ray start --head` on 127.0.0.1, ephemeral ports, stopped after): a
tiny-model training submitted through the Ray Jobs API, its status and log in the job table, a stop that reaches the
Ray job, a silent cluster turning a job LOST, and an unreachable address refused before a job exists."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("ray.job_submission")

from llmops.errors import InvalidInputError  # noqa: E402
from llmops.runner.runner import JobRunner  # noqa: E402
from llmops.runner.targets import ray_jobs  # noqa: E402
from llmops.schemas.jobs import JobStatus  # noqa: E402
from llmops.services.device import DeviceInfo  # noqa: E402
from llmops.services.targets import TargetsService  # noqa: E402
from llmops.services.training import TrainingService  # noqa: E402
from llmops.settings import Settings  # noqa: E402
from tests.test_targets import _remote, _wait  # noqa: E402

RAY = Path(sys.executable).parent / "ray"
# Ray's processes find "their" address by asking which interface leads outside; told that this is no cluster, every
# one of them (head, workers, job supervisors) takes 127.0.0.1, so the test's traffic stays on loopback.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head():
    """(dashboard url, ray:// address, dashboard port, head process) of a one-node cluster on loopback."""
    # Short: Ray's unix sockets live under the temp dir and their paths are length-limited.
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    port, dash, client = _free_port(), _free_port(), _free_port()
    # --block keeps the head in this process's hands: stopping it stops the processes it started, and only those.
    head = subprocess.Popen([str(RAY), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port",
                             str(port), "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dash),
                             "--ray-client-server-port", str(client), "--include-dashboard", "true",
                             "--disable-usage-stats", "--num-cpus", "2", "--temp-dir", str(temp)],
                            stdout=open(temp / "head.log", "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, **LOOPBACK_ONLY})
    url = f"http://127.0.0.1:{dash}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and head.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/api/version", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        head.kill()
        pytest.fail((temp / "head.log").read_text()[-3000:])
    yield url, f"ray://127.0.0.1:{client}", dash, head
    head.terminate()
    head.wait(60)
    shutil.rmtree(temp, ignore_errors=True)


def test_an_evaluation_runs_on_the_cluster_through_a_shared_path(ray_head, settings, demo_model_dir, tmp_path):
    """An evaluation job submitted through the Jobs API: its run folder goes onto the shared path with llmops, the
    same job-worker answers there, and the run folder comes back."""
    import json

    from llmops.services.container import build_services

    url = ray_head[0]
    services = build_services(settings)
    shared = tmp_path / "shared"
    shared.mkdir()
    services.targets.add({"type": "ray", "name": "cluster", "address": url, "shared_path": str(shared),
                          "python": sys.executable})
    base = services.models.add_base("tiny", str(demo_model_dir))
    set_path = settings.home / "ray-set.jsonl"
    set_path.write_text("".join(json.dumps({"prompt": f"q{i}", "reference": f"a{i}"}) + "\n" for i in range(2)))
    folder, job = services.evals.start({"models": [base.id], "set": str(set_path), "metrics": ["exact_match"],
                                        "generation": {"max_new_tokens": 4}}, target="cluster")
    done = services.reconciler.wait_applied(job.id, 240)
    assert done.status is JobStatus.COMPLETED, services.runner.log_tail(done.id, 80)
    remote = _remote(done)
    assert ray_jobs.state(ray_jobs.client(url), remote["submission_id"])[0] == "SUCCEEDED"
    assert remote["root"].startswith(str(shared)) and (Path(remote["root"]) / "llmops" / "__main__.py").is_file()
    view = services.evals.show(folder.run_id)
    assert view.summary is not None and view.summary.done == 2 == view.summary.total
    assert "ended: SUCCEEDED" in services.runner.log_tail(done.id, 400)


def test_ray_target_end_to_end(ray_head, tmp_path, monkeypatch, demo_model_dir):
    url, client_address, dash, head = ray_head
    monkeypatch.setenv("LLMOPS_TARGET_LOST_S", "3")
    settings = Settings.from_env()
    service = TargetsService(settings)
    training = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    runner = training.runner
    lf_cli = str(Path(sys.executable).parent / "llamafactory-cli")
    shared = tmp_path / "shared"
    shared.mkdir()
    sleeper = tmp_path / "slow-trainer"  # a stand-in trainer for the lost-cluster case: it only has to keep running
    sleeper.write_text("#!/bin/sh\nsleep 120\n")
    sleeper.chmod(0o755)
    service.add({"type": "ray", "name": "gone", "address": f"http://127.0.0.1:{_free_port()}"})
    service.add({"type": "ray", "name": "shipped", "address": client_address, "dashboard_port": dash, "lf_cli": lf_cli})
    service.add({"type": "ray", "name": "shared", "address": url, "shared_path": str(shared), "lf_cli": lf_cli})
    service.add({"type": "ray", "name": "flaky", "address": url, "shared_path": str(shared), "lf_cli": str(sleeper)})
    short = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="ray-short",
                                         max_steps=1, logging_steps=1, save_steps=1, cutoff_len=64))
    long = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="ray-long",
                                        max_steps=2000, logging_steps=1, save_steps=100000, cutoff_len=64))

    # An unreachable address is refused before any job exists, in both languages; a live one answers.
    gone = service.check("gone", "zh")
    assert not gone.ok and "无法通过 Jobs API" in gone.detail
    with pytest.raises(InvalidInputError, match="cannot be reached through its Jobs API") as caught:
        service.launch_train(training, short.path, "gone")
    assert "无法通过 Jobs API" in caught.value.message("zh")
    assert runner.list() == []
    health = service.check("shipped")
    assert health.ok and url in health.detail and "2.52.0" in health.detail  # ray:// reaches the head's dashboard

    done_job = service.launch_train(training, short.path, "shared")
    stop_job = service.launch_train(training, long.path, "shipped")  # working files shipped as runtime_env
    api = ray_jobs.client(url)
    remote = _wait(lambda: _remote(stop_job))
    # The long run's trainer output arrives in our job's log while the Ray job runs.
    _wait(lambda: "'loss'" in runner.log_tail(stop_job.id, 400), 150)
    assert ray_jobs.state(api, remote["submission_id"])[0] == "RUNNING"
    stopped = runner.stop(stop_job.id, wait_s=60)
    assert stopped.status is JobStatus.STOPPED, runner.log_tail(stop_job.id)
    assert _wait(lambda: ray_jobs.state(api, remote["submission_id"])[0] == "STOPPED", 30)  # the stop reached Ray

    done = runner.wait(done_job.id, 150)
    assert done.status is JobStatus.COMPLETED, runner.log_tail(done.id, 60)
    out = Path(done.run_dir)
    assert (out / "adapter_model.safetensors").is_file() and (out / "trainer_log.jsonl").is_file()
    assert not any(out.glob("checkpoint-*"))  # checkpoints stay on the shared path unless asked for
    log = runner.log_tail(done.id, 400)
    assert "ended: SUCCEEDED" in log and "Running entrypoint" in log
    assert _remote(done)["root"].startswith(str(shared))

    # A cluster that falls silent mid-job turns the job LOST, with the reason.
    lost_cfg = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="ray-lost",
                                            max_steps=1, cutoff_len=64))
    lost_job = service.launch_train(training, lost_cfg.path, "flaky")
    lost_remote = _wait(lambda: _remote(lost_job), 60)
    _wait(lambda: ray_jobs.state(api, lost_remote["submission_id"])[0] == "RUNNING", 60)
    head.terminate()
    head.wait(60)
    lost = runner.wait(lost_job.id, 60)
    assert lost.status is JobStatus.LOST and "unreachable for 3 s" in lost.message, lost.message


def test_llamafactory_ray_mode_in_yaml_and_command(settings, demo_model_dir, monkeypatch):
    from llamafactory.hparams.parser import get_ray_args
    import yaml

    training = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    plain = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="plain", max_steps=1))
    saved = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="on-ray", max_steps=1,
                                         use_ray=True, ray_num_workers=2))
    text = saved.path.read_text()
    assert "ray_num_workers: 2" in text and "USE_RAY=1" in text
    assert "ray_num_workers" not in plain.path.read_text() and "USE_RAY" not in plain.commands.single
    assert saved.commands.single == f"USE_RAY=1 llamafactory-cli train {saved.rel_path}"
    # LLaMA-Factory's own parser reads the file as Ray mode with two workers.
    monkeypatch.setenv("USE_RAY", "1")
    ray_args = get_ray_args(yaml.safe_load(text))
    assert ray_args.use_ray and ray_args.ray_num_workers == 2
