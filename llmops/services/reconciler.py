"""The one place finished jobs take effect: versions registered, loop pairs set — whether or not a page is open."""

from __future__ import annotations

import logging
import threading

from ..errors import LLMOpsError
from ..runner.runner import JobRunner
from .loop import LoopService
from .models import ModelRegistry

log = logging.getLogger(__name__)


class Reconciler:
    """Applies each completion once; the app runs it in the background, the CLI and start-up call it directly."""

    def __init__(self, runner: JobRunner, models: ModelRegistry, loop: LoopService):
        self.runner, self.models, self.loop = runner, models, loop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[str]:
        """Register completed trainings as versions and apply finished loop rounds; returns new version ids."""
        self.models.ensure_demo()
        jobs = self.runner.list(1000)
        added = [entry.id for entry in self.models.sync_jobs(jobs)]
        for job in self.loop.pending(jobs):
            added.append(self.loop.complete(job.id).id)
        return added

    def start(self, interval_s: float = 2.0) -> None:
        """Run `run_once` every `interval_s` seconds on a daemon thread until `stop`."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval_s,), name="reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except LLMOpsError as exc:
                # A broken store is reported where it is shown; the next pass tries again.
                log.warning("reconcile pass failed: %s", exc.message("en"))
            self._stop.wait(interval_s)
