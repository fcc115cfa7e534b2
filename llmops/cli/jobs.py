"""`jobs list|show|logs|stop`, the hidden `job-worker`, and the submit-and-wait path every long command shares."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from ..errors import JobError, LLMOpsError
from ..i18n import t
from ..schemas.jobs import Job, JobStatus
from . import jobs_admin
from .output import emit
from .types import non_negative_float, positive_int, text


def register(sub) -> None:
    """Add the jobs subcommands and the worker entry point."""
    jobs = sub.add_parser("jobs", help="inspect, follow, compare, restart, stop and delete jobs")
    jsub = jobs.add_subparsers(dest="jobs_command", required=True)
    for name, handler, needs_id in (("list", _list, False), ("show", _show, True), ("logs", _logs, True),
                                    ("stop", _stop, True)):
        cmd = jsub.add_parser(name)
        if needs_id:
            cmd.add_argument("id", type=text)
        cmd.add_argument("--json", action="store_true")
        if name == "logs":
            cmd.add_argument("--lines", type=positive_int, default=200)
            jobs_admin.add_log_flags(cmd)
        if name == "stop":
            cmd.add_argument("--wait", type=non_negative_float, default=0.0, help="seconds to wait for the job to end")
        cmd.set_defaults(handler=handler)
    jobs_admin.register(jsub)
    worker = sub.add_parser("job-worker", help=argparse.SUPPRESS)
    worker.add_argument("run_dir", type=text)
    worker.set_defaults(handler=_worker)


def add_wait_flags(cmd) -> None:
    """--wait (the default: block until the result is registered) and --detach (print the job id at once)."""
    group = cmd.add_mutually_exclusive_group()
    group.add_argument("--wait", action="store_true", default=True, help="wait for the job and its result (default)")
    group.add_argument("--detach", action="store_true", help="queue the job and print its id at once")


def _services(settings):
    from ..services.container import build_services

    return build_services(settings)


def run_job(settings, args, kind: str, params: dict, name: str, prepare=None, **secrets) -> Job | None:
    """Submit a worker job; with --detach print its id and return None, else wait and return it with its result.

    `prepare` (a context manager) is entered around the submission alone: what it wrote is undone on a refusal.
    Ctrl-C while waiting stops the job (a generation keeps its pairs so far) and still waits for its result.
    A failed job re-raises the worker's own error, so the exit code and message are as if it ran here.
    """
    from ..services import jobkinds

    services = _services(settings)
    with prepare or contextlib.nullcontext():
        job = jobkinds.submit(settings, services.runner, kind, params, name, target=getattr(args, "target", None),
                              **secrets)
    if getattr(args, "detach", False):
        emit({"job_id": job.id, "kind": kind}, getattr(args, "json", False), job.id)
        return None
    job = wait_applied(settings, services, job)
    return checked(settings, job)


def wait_applied(settings, services, job: Job) -> Job:
    """Follow a job until its completion took effect; Ctrl-C stops it (what it kept stays) and waits for that."""
    try:
        return services.reconciler.wait_applied(job.id)
    except KeyboardInterrupt:
        print(t("cli.interrupted", settings.lang), file=sys.stderr)
        services.runner.stop(job.id)
        return services.reconciler.wait_applied(job.id)


def checked(settings, job: Job) -> Job:
    """The job when its result took effect; else the error that explains why not."""
    from ..services.jobkinds.registry import ERROR_FILE, read_json

    if job.status in (JobStatus.FAILED, JobStatus.LOST) or (job.status is JobStatus.STOPPED and not job.apply_result
                                                            .get("path")):
        error = read_json(Path(job.run_dir) / ERROR_FILE)
        if error:
            raise WorkerError(error)
        raise JobError("err.job_failed", job_id=job.id, status=job.status.value, message=job.message or "-")
    if job.apply_error:
        raise JobError("err.job_apply_failed", job_id=job.id, reason=job.apply_error)
    return job


class WorkerError(LLMOpsError):
    """The user error a worker job ended with, as it recorded it; `.stats` holds an empty run's counts."""

    def __init__(self, recorded: dict):
        from ..services.jobkinds.registry import recorded_message

        message = recorded_message(recorded)
        super().__init__(message.key, **message.params)
        self.stats = recorded.get("stats")


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _list(settings, args) -> int:
    services = _services(settings)
    services.reconciler.run_once()
    jobs = services.runner.list()
    lines = [f"{'ID':24} {'STATUS':10} {'KIND':9} {'PROGRESS':10} {'CREATED':19}  NAME"]
    for j, progress in services.jobs.with_progress(100):
        lines.append(f"{j.id:24} {j.status.value:10} {j.kind:9} {services.jobs.progress_cell(j, progress):10} "
                     f"{_when(j.created_at):19}  {j.name}")
    emit([j.to_dict() for j in jobs], args.json, "\n".join(lines))
    return 0


def _show(settings, args) -> int:
    services = _services(settings)
    services.reconciler.run_once()
    details = services.jobs.details(args.id)
    data = {**details.job.to_dict(), "progress": vars(details.work)}
    text = "\n".join(f"{key}: {value}" for key, value in data.items() if key not in ("meta", "apply_result"))
    if details.job.apply_result:
        text += "\nresult: " + ", ".join(f"{k}={v}" for k, v in details.job.apply_result.items()
                                         if k not in ("preview", "stats"))
    emit(data, args.json, text)
    return 0


def _logs(settings, args) -> int:
    return jobs_admin.logs(settings, args)


def _stop(settings, args) -> int:
    services = _services(settings)
    job = services.runner.stop(args.id, wait_s=args.wait)
    if job.status.finished:
        job = services.reconciler.wait_applied(job.id, timeout_s=args.wait or 5.0)
    emit(job.to_dict(), args.json, f"{job.id} {job.status.value}")
    return 0


def _worker(settings, args) -> int:
    from ..services.jobkinds.worker import run

    return run(Path(args.run_dir), settings)
