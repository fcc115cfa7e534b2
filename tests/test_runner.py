"""The job runner with plain Python jobs: lifecycle, queueing, stop, LOST and re-attach."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import textwrap
import time

import psutil
import pytest

from llmops.errors import PermissionDeniedError
from llmops.runner import procs
from llmops.runner.runner import JobRunner
from llmops.runner.store import devices_conflict
from llmops.schemas.jobs import JobSpec, JobStatus

from .apphelpers import finished


def spec(settings, name: str, code: str, devices: str = "cpu", env=None) -> JobSpec:
    return JobSpec(kind="test", name=name, argv=[sys.executable, "-c", textwrap.dedent(code)],
                   cwd=str(settings.home), run_dir=str(settings.checkpoints_dir / name), devices=devices,
                   env=env or {})


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_completed_job_records_exit_code_and_log(settings):
    runner = JobRunner(settings)
    job = runner.submit(spec(settings, "ok", "print('hello from job'); import sys; sys.exit(0)"))
    job = runner.wait(job.id, 30)
    assert job.status is JobStatus.COMPLETED and job.exit_code == 0
    assert "hello from job" in runner.log_tail(job.id)


def test_failed_job_shows_exit_code_and_last_lines(settings):
    runner = JobRunner(settings)
    job = runner.wait(runner.submit(spec(settings, "bad", "print('boom line'); raise SystemExit(3)")).id, 30)
    assert job.status is JobStatus.FAILED and job.exit_code == 3
    assert "boom line" in runner.log_tail(job.id)


def test_jobs_queue_per_device_set(settings):
    runner = JobRunner(settings)
    first = runner.submit(spec(settings, "first", "import time; time.sleep(3)"))
    second = runner.submit(spec(settings, "second", "print('second ran')"))
    other_gpu = runner.submit(spec(settings, "gpu0", "print('gpu job')", devices="0"))
    wait_for(lambda: runner.get(first.id).status is JobStatus.RUNNING)
    assert runner.get(second.id).status is JobStatus.PENDING
    assert runner.wait(other_gpu.id, 30).status is JobStatus.COMPLETED  # a different device set is not blocked
    assert runner.get(second.id).status is JobStatus.PENDING
    finished(runner, second.id, 40)
    first_done = runner.get(first.id)
    assert first_done.finished_at <= runner.get(second.id).started_at


def test_devices_conflict_rules():
    assert devices_conflict("0,1", "1,2") and not devices_conflict("0", "1")
    assert devices_conflict("all", "3") and devices_conflict("cpu", "cpu") and not devices_conflict("cpu", "0")


def test_stop_kills_whole_tree_including_children_that_ignore_signals(settings):
    # Both processes ignore the stop signal, so the whole grace is sat out before the kill: keep it short.
    runner = JobRunner(dataclasses.replace(settings, stop_grace_s=2.0))
    code = """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGABRT, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, '-c',
            'import signal,time; signal.signal(signal.SIGABRT, signal.SIG_IGN); time.sleep(600)'])
        print('child', child.pid, flush=True)
        time.sleep(600)
    """
    job = runner.submit(spec(settings, "stubborn", code))
    log_has_child = wait_for(lambda: "child" in runner.log_tail(job.id) and runner.get(job.id).pid)
    assert log_has_child
    job = runner.get(job.id)
    child_pid = int(runner.log_tail(job.id).split("child")[1].split()[0])
    pids = [job.pid, child_pid]
    stopped = runner.stop(job.id, wait_s=40)
    assert stopped.status is JobStatus.STOPPED
    assert procs.wait_gone(pids, 5), "a process of the stopped job survived"


def test_stop_pending_job(settings):
    runner = JobRunner(settings)
    blocker = runner.submit(spec(settings, "blocker", "import time; time.sleep(30)"))
    queued = runner.submit(spec(settings, "queued", "print('never')"))
    wait_for(lambda: runner.get(blocker.id).status is JobStatus.RUNNING)
    assert runner.stop(queued.id, wait_s=10).status is JobStatus.STOPPED
    assert runner.stop(blocker.id, wait_s=30).status is JobStatus.STOPPED


def test_supervisor_and_job_killed_means_lost(settings):
    runner = JobRunner(settings)
    job = runner.submit(spec(settings, "victim", "import time; time.sleep(600)"))
    job = wait_for(lambda: (j := runner.get(job.id)).pid and j)
    os.kill(job.sup_pid, signal.SIGKILL)
    os.killpg(job.pid, signal.SIGKILL)
    procs.wait_gone([job.sup_pid, job.pid], 5)
    assert wait_for(lambda: runner.get(job.id).status is JobStatus.LOST)


def test_live_trainer_is_reattached_after_supervisor_dies(settings):
    runner = JobRunner(settings)
    job = runner.submit(spec(settings, "orphan", "import time; time.sleep(600)"))
    job = wait_for(lambda: (j := runner.get(job.id)).pid and j)
    os.kill(job.sup_pid, signal.SIGKILL)
    procs.wait_gone([job.sup_pid], 5)
    assert runner.get(job.id).status is JobStatus.RUNNING  # pid and start time still match
    assert runner.stop(job.id, wait_s=10).status is JobStatus.STOPPED
    assert procs.wait_gone([job.pid], 5)


def test_pid_reuse_is_not_mistaken_for_the_job():
    me = psutil.Process()
    assert procs.is_alive(me.pid, me.create_time())
    assert not procs.is_alive(me.pid, me.create_time() - 100)


def test_secret_env_is_refused(settings):
    with pytest.raises(PermissionDeniedError) as info:
        JobRunner(settings).submit(spec(settings, "secret", "pass", env={"OPENAI_API_KEY": "sk-x"}))
    assert info.value.key == "err.job_secret_env"
