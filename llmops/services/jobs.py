"""A job as the jobs panel and the CLI show it: state, progress, log tail."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..i18n import has, t
from ..lf.trainer_log import Progress, read_progress
from ..runner.runner import JobRunner, tail_file
from ..schemas.jobs import Job, JobStatus
from .jobkinds import JobProgress
from .jobkinds import read_progress as read_work_progress
from .jobkinds.registry import ERROR_FILE, read_json, recorded_message


@dataclass
class JobDetails:
    """Everything a panel needs about one job."""

    job: Job
    progress: Progress  # a training's steps from trainer_log.jsonl
    log_tail: str
    work: JobProgress = JobProgress()  # a worker job's progress.json

    @property
    def failure_tail(self) -> str:
        """The last log lines, shown when a job failed."""
        if self.job.status is not JobStatus.FAILED:
            return ""
        return "\n".join(self.log_tail.splitlines()[-20:])

    @property
    def duration_s(self) -> float | None:
        if not self.job.started_at:
            return None
        return (self.job.finished_at or time.time()) - self.job.started_at


@dataclass(frozen=True)
class ProgressView:
    """One job's progress as a table shows it: the short cell, a percentage and the time left ('' unknown)."""

    cell: str
    percent: float | None
    eta: str


def clock(seconds: float) -> str:
    """H:MM:SS, the way LLaMA-Factory writes its remaining time."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class JobsService:
    """Read-only views over the runner plus stop."""

    def __init__(self, runner: JobRunner):
        self.runner = runner

    def list(self, limit: int = 50) -> list[Job]:
        return self.runner.list(limit)

    def get(self, job_id: str) -> Job:
        return self.runner.get(job_id)

    def submit(self, kind: str, values, name: str, target: str | None = None, **secrets) -> Job:
        """Queue a job of a registered kind (corpus, datagen, dedup, mockprefs…) on `target`; the reconciler
        applies it."""
        from .jobkinds import submit

        return submit(self.runner.settings, self.runner, kind, values, name, target=target, **secrets)

    def with_progress(self, limit: int = 50) -> list[tuple[Job, Progress]]:
        """Recent jobs, newest first, each with its progress from the trainer's log."""
        return [(job, read_progress(Path(job.run_dir))) for job in self.runner.list(limit)]

    def details(self, job_id: str, log_lines: int = 200) -> JobDetails:
        job = self.runner.get(job_id)
        return JobDetails(job, read_progress(Path(job.run_dir)), tail_file(Path(job.log_path), log_lines),
                          read_work_progress(job.run_dir))

    def progress_cell(self, job: Job, progress: Progress) -> str:
        """One short progress text for a table: training steps, or a worker's done/total."""
        if progress.total_steps:
            return f"{progress.current_steps}/{progress.total_steps}"
        work = read_work_progress(job.run_dir)
        return f"{work.done}/{work.total}" if work.total else "-"

    def counts(self) -> dict[JobStatus, int]:
        """Jobs per state in the whole table, vanished processes settled first."""
        self.runner.store.reconcile()
        return self.runner.store.count_by_status()

    def active(self, limit: int = 50) -> list[Job]:
        """Queued and running jobs, newest first, however old they are."""
        self.runner.store.reconcile()
        return self.runner.store.list(limit, (JobStatus.PENDING, JobStatus.RUNNING))

    def progress_view(self, job: Job) -> ProgressView:
        """How far a job is and how long it has left: a training's own figures, else its worker's done/total."""
        progress = read_progress(Path(job.run_dir))
        cell = self.progress_cell(job, progress)
        if progress.total_steps:
            return ProgressView(cell, progress.percentage, progress.remaining or "")
        work = read_work_progress(job.run_dir)
        if not work.total:
            return ProgressView(cell, None, "")
        eta = ""
        if work.done and job.started_at:
            # The worker's pace so far, extrapolated: items are alike enough within one job for a rough ETA.
            elapsed = max(0.0, time.time() - job.started_at)
            eta = clock(elapsed * (work.total - work.done) / work.done)
        return ProgressView(cell, work.percentage, eta)

    def failure(self, job: Job, lang: str) -> str:
        """Why a finished job produced nothing (its worker's own error, else its status) or why its result could
        not be applied; '' when it succeeded."""
        if job.status in (JobStatus.FAILED, JobStatus.LOST) or (
                job.status is JobStatus.STOPPED and job.applied_at and not job.apply_result.get("path")
                and job.kind != "train"):
            recorded = read_json(Path(job.run_dir) / ERROR_FILE)
            if recorded and has(str(recorded.get("key"))):
                return recorded_message(recorded).render(lang)
            return t("err.job_failed", lang, job_id=job.id, status=job.status.value, message=job.message or "-")
        if job.apply_error:
            key = job.apply_result.get("error_key")
            reason = t(key, lang, **job.apply_result.get("error_params", {})) if key and has(key) else job.apply_error
            return t("err.job_apply_failed", lang, job_id=job.id, reason=reason)
        return ""

    def recorded_error(self, job: Job) -> dict | None:
        """The user error a worker ended with (key, params, an empty run's stats), if it recorded one."""
        return read_json(Path(job.run_dir) / ERROR_FILE)

    def stop(self, job_id: str) -> Job:
        return self.runner.stop(job_id)
