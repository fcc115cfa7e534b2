"""The one place finished jobs take effect — datasets registered, versions registered, loop pairs set — once each,
recorded in the job table, whether or not a page is open."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import LLMOpsError
from ..runner.runner import JobRunner
from ..schemas.jobs import Job, JobStatus
from ..settings import Settings
from . import jobkinds
from .loop import LoopService
from .models import ModelRegistry

log = logging.getLogger(__name__)
# Jobs whose completion may do something; any other finished job has nothing to apply.
_APPLICABLE = (JobStatus.COMPLETED, JobStatus.STOPPED)


@dataclass(frozen=True)
class CompletionContext:
    """What a kind's completion may use."""

    settings: Settings
    models: ModelRegistry
    loop: LoopService


class Reconciler:
    """Applies each completion once; the app runs it in the background, the CLI and start-up call it directly."""

    def __init__(self, runner: JobRunner, models: ModelRegistry, loop: LoopService):
        self.runner, self.models, self.loop = runner, models, loop
        self.context = CompletionContext(runner.settings, models, loop)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # Run after each pass's completions took effect (pipeline runs advance here), in order.
        self.after_pass: list[Callable[[], object]] = []

    def run_once(self) -> list[str]:
        """Apply every finished job's completion not yet recorded; returns the ids of the jobs applied now."""
        self.models.ensure_demo()
        self.runner.store.reconcile()
        applied = [job.id for job in self.runner.store.unapplied(_APPLICABLE) if self.apply(job)]
        for follow in self.after_pass:
            follow()
        return applied

    def apply(self, job: Job) -> bool:
        """Apply one job's completion unless it is (being) applied elsewhere; a failure is recorded, not raised."""
        store = self.runner.store
        if not store.claim_completion(job.id):
            return False
        kind = jobkinds.get(job.kind)
        if kind is None or job.status not in kind.applies_on:
            store.record_completion(job.id, {"skipped": f"nothing to apply for a {job.status.value} {job.kind} job"})
            return True
        try:
            result = kind.complete(self.context, job)
        except LLMOpsError as exc:
            # Shown on the job in the user's language; never retried, so a bad completion cannot fail every tick.
            store.record_completion(job.id, {"error_key": exc.key, "error_params": _plain(exc.params)},
                                    exc.message("en"))
            log.warning("completion of job %s failed: %s", job.id, exc.message("en"))
            return True
        except (OSError, ValueError, KeyError, TypeError) as exc:
            store.record_completion(job.id, {}, f"{type(exc).__name__}: {exc}"[:500])
            log.warning("completion of job %s failed: %s", job.id, exc)
            return True
        store.record_completion(job.id, result)
        return True

    def wait_applied(self, job_id: str, timeout_s: float | None = None, poll_s: float = 0.3,
                     apply_here: bool = True) -> Job:
        """Block until the job finished and its completion was recorded: by the background pass when it runs, else
        (the CLI) by this call unless `apply_here` is False (a page waits; it never applies anything itself)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = self.runner.get(job_id)
            if job.status.finished:
                if job.applied_at is not None or job.status not in _APPLICABLE:
                    return job
                if self.running:
                    self.wake()
                elif apply_here:
                    self.apply(job)
            if deadline is not None and time.monotonic() >= deadline:
                return job
            time.sleep(poll_s)

    @property
    def running(self) -> bool:
        """True while the background pass runs in this process."""
        return bool(self._thread and self._thread.is_alive())

    def wake(self) -> None:
        """Run the background pass now rather than at its next tick."""
        self._wake.set()

    def start(self, interval_s: float = 2.0) -> None:
        """Run `run_once` now (start-up: what finished while the app was down takes effect before any page is
        drawn), then every `interval_s` seconds on a daemon thread until `stop`."""
        if self.running:
            return
        try:
            self.run_once()
        except LLMOpsError as exc:
            log.warning("start-up reconcile pass failed: %s", exc.message("en"))
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval_s,), name="reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except LLMOpsError as exc:
                # A broken store is reported where it is shown; the next pass tries again.
                log.warning("reconcile pass failed: %s", exc.message("en"))
            self._wake.wait(interval_s)
            self._wake.clear()


def _plain(params: dict) -> dict:
    return {key: value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
            for key, value in params.items()}
