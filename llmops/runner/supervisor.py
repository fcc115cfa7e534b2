"""One detached supervisor per job: waits its turn, runs the argv, records how it ended.

It lives in its own session, so closing the browser or restarting the app never touches the job,
and as the trainer's parent it learns the real exit code.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..schemas.jobs import JobStatus
from ..security.environ import child_env
from . import procs, targets
from .store import JobStore

POLL_S = 0.5


class Supervisor:
    """Owns one job's process from claim to finish."""

    def __init__(self, store: JobStore, job_id: str, grace_s: float, per_set: int, keep_env: tuple[str, ...] = ()):
        self.keep_env = keep_env
        self.store = store
        self.job_id = job_id
        self.grace_s = grace_s
        self.per_set = per_set
        self._signalled = False

    def on_signal(self, signum, frame) -> None:
        """SIGTERM/SIGINT to the supervisor means: stop the job the graceful way."""
        self._signalled = True

    def _stop_wanted(self) -> bool:
        job = self.store.get(self.job_id)
        return self._signalled or job is None or job.stop_requested

    def wait_turn(self) -> bool:
        """Block until claimed (True) or stopped while queued (False)."""
        while True:
            if self._stop_wanted():
                self.store.finish(self.job_id, JobStatus.STOPPED, None, "stopped while queued")
                return False
            if self.store.try_claim(self.job_id, self.per_set):
                return True
            time.sleep(POLL_S)

    def run(self) -> int:
        """Run the job to its end and record the outcome."""
        job = self.store.get(self.job_id)
        self.store.update(self.job_id, sup_pid=os.getpid(), sup_start=procs.start_time(os.getpid()))
        if not self.wait_turn():
            return 0
        # Scrubbed again here, so a supervisor started some other way still withholds the app's secrets.
        env = {**child_env(os.environ, self.keep_env), **job.env}
        try:
            with open(job.log_path, "ab", buffering=0) as log:
                # A new session makes the trainer its own process group: one killpg reaches all of it.
                proc = subprocess.Popen(job.argv, cwd=job.cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            self.store.finish(self.job_id, JobStatus.FAILED, None, f"could not start: {exc}")
            return 1
        self.store.update(self.job_id, pid=proc.pid, pid_start=procs.start_time(proc.pid))
        code = self._watch(proc)
        procs.kill_tree(proc.pid, pgid=proc.pid)  # leftovers (e.g. orphaned workers) never outlive the job
        lost = Path(job.run_dir) / targets.LOST_FILE
        if code == targets.LOST_EXIT and lost.is_file():
            # A remote job's watcher lost its target: the job's fate is unknown, and says why.
            self.store.finish(self.job_id, JobStatus.LOST, None, lost.read_text(encoding="utf-8").strip()[:500])
        elif self._stop_wanted():
            self.store.finish(self.job_id, JobStatus.STOPPED, code, "stopped by user")
        elif code == 0:
            self.store.finish(self.job_id, JobStatus.COMPLETED, code)
        else:
            self.store.finish(self.job_id, JobStatus.FAILED, code, f"exit code {code}")
        return 0

    def _watch(self, proc: subprocess.Popen) -> int:
        stop_sent_at = None
        while True:
            try:
                return proc.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                pass
            if stop_sent_at is None and self._stop_wanted():
                # LLaMA-Factory's trainer ends its current step and saves on SIGABRT.
                procs.signal_tree(proc.pid, signal.SIGABRT)
                stop_sent_at = time.monotonic()
            elif stop_sent_at is not None and time.monotonic() - stop_sent_at > self.grace_s:
                procs.kill_tree(proc.pid, pgid=proc.pid)


def main(argv: list[str] | None = None) -> int:
    """Entry point: python -m llmops.runner.supervisor --db DB --job ID."""
    parser = argparse.ArgumentParser(description="Supervise one llmops job.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--grace", type=float, default=30.0)
    parser.add_argument("--per-set", type=int, default=1)
    parser.add_argument("--keep-env", default="", help="comma-separated secret variables the job may see")
    args = parser.parse_args(argv)
    keep = tuple(name for name in args.keep_env.split(",") if name)
    supervisor = Supervisor(JobStore(args.db), args.job, args.grace, args.per_set, keep)
    signal.signal(signal.SIGTERM, supervisor.on_signal)
    signal.signal(signal.SIGINT, supervisor.on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
