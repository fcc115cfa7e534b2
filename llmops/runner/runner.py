"""The one owner of subprocesses: queue a job, watch it, stop it, read its log."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from ..errors import InvalidInputError, NotFoundError, PermissionDeniedError
from ..schemas.jobs import Job, JobSpec, JobStatus
from ..security.environ import child_env, is_secret_name
from ..settings import Settings
from . import procs
from .store import JobStore

LOG_NAME = "job.log"


class JobRunner:
    """Queues jobs in SQLite; a detached supervisor per job runs it, so jobs outlive the app."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = JobStore(settings.jobs_db_path)

    def submit(self, spec: JobSpec) -> Job:
        """Queue `spec` and start its supervisor; returns the PENDING (or already RUNNING) job."""
        if not spec.argv or not all(isinstance(part, str) for part in spec.argv):
            raise InvalidInputError("err.job_bad_argv")
        leaked = [key for key in spec.env if is_secret_name(key)]
        if leaked:
            # Secrets stay in the environment the app inherited; the job table is a plain file.
            raise PermissionDeniedError("err.job_secret_env", keys=", ".join(leaked))
        run_dir = Path(spec.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        job = self.store.create(spec, str(run_dir / LOG_NAME))
        argv = [sys.executable, "-m", "llmops.runner.supervisor", "--db", str(self.store.path), "--job", job.id,
                "--grace", str(self.settings.stop_grace_s), "--per-set", str(self.settings.jobs_per_device_set)]
        keep = (*spec.secret_env, *spec.secret_values)
        if keep:
            argv += ["--keep-env", ",".join(keep)]  # names only; the values stay in the environment
        # The supervisor (and so the job) starts without the app's secrets, bar the ones the spec names.
        env = {**child_env(os.environ, spec.secret_env), **spec.secret_values, "PYTHONPATH": _pythonpath(self.settings)}
        with open(run_dir / "supervisor.log", "ab") as sup_log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sup_log, stderr=subprocess.STDOUT,
                                    start_new_session=True, cwd=str(self.settings.install_root),
                                    env=env)
        self.store.update(job.id, sup_pid=proc.pid, sup_start=procs.start_time(proc.pid))
        # Reap the supervisor when it ends so it never lingers as a zombie of the app.
        threading.Thread(target=proc.wait, name=f"reap-{job.id}", daemon=True).start()
        return self.get(job.id)

    def get(self, job_id: str) -> Job:
        """A job's current state, with vanished processes already marked LOST."""
        self.store.reconcile()
        job = self.store.get(job_id)
        if job is None:
            raise NotFoundError("err.job_unknown", job_id=job_id)
        return job

    def list(self, limit: int = 100) -> list[Job]:
        """Recent jobs, newest first."""
        self.store.reconcile()
        return self.store.list(limit)

    def stop(self, job_id: str, wait_s: float = 0.0) -> Job:
        """Ask a job to stop gracefully; its supervisor kills the whole tree after the grace period."""
        job = self.get(job_id)
        if job.status.finished:
            return job
        self.store.request_stop(job_id)
        if not procs.is_alive(job.sup_pid, job.sup_start) and job.pid and procs.is_alive(job.pid, job.pid_start):
            # Nobody supervises this trainer any more (its supervisor was killed): stop it ourselves.
            procs.kill_tree(job.pid, pgid=job.pid)
            self.store.finish(job_id, JobStatus.STOPPED, None, "stopped by user (unsupervised)")
        return self.wait(job_id, wait_s) if wait_s else self.get(job_id)

    def wait(self, job_id: str, timeout_s: float | None = None, poll_s: float = 0.5) -> Job:
        """Block until the job finishes or `timeout_s` passes; returns its state either way."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = self.get(job_id)
            if job.status.finished or (deadline is not None and time.monotonic() >= deadline):
                return job
            time.sleep(poll_s)

    def log_tail(self, job_id: str, lines: int = 200) -> str:
        """The last `lines` lines of the job's console log."""
        return tail_file(Path(self.get(job_id).log_path), lines)


def tail_file(path: Path, lines: int) -> str:
    """Last lines of a text file, tolerant of partial UTF-8 and carriage-return progress bars."""
    if not path.exists():
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 256 * 1024))
        data = handle.read().decode("utf-8", errors="replace")
    rows = [row.rsplit("\r", 1)[-1] for row in data.splitlines()]
    return "\n".join(deque(rows, maxlen=lines))


def _pythonpath(settings: Settings) -> str:
    existing = os.environ.get("PYTHONPATH", "")
    root = str(settings.install_root)
    return root if not existing else f"{root}{os.pathsep}{existing}"
