"""`jobs list|show|logs|stop`."""

from __future__ import annotations

import time

from ..runner.runner import JobRunner
from .output import emit
from .types import non_negative_float, positive_int, text


def register(sub) -> None:
    """Add the jobs subcommands."""
    jobs = sub.add_parser("jobs", help="inspect and stop jobs")
    jsub = jobs.add_subparsers(dest="jobs_command", required=True)
    for name, handler, needs_id in (("list", _list, False), ("show", _show, True), ("logs", _logs, True),
                                    ("stop", _stop, True)):
        cmd = jsub.add_parser(name)
        if needs_id:
            cmd.add_argument("id", type=text)
        cmd.add_argument("--json", action="store_true")
        if name == "logs":
            cmd.add_argument("--lines", type=positive_int, default=200)
        if name == "stop":
            cmd.add_argument("--wait", type=non_negative_float, default=0.0, help="seconds to wait for the job to end")
        cmd.set_defaults(handler=handler)


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _list(settings, args) -> int:
    jobs = JobRunner(settings).list()
    lines = [f"{'ID':24} {'STATUS':10} {'KIND':6} {'CREATED':19}  NAME"]
    lines += [f"{j.id:24} {j.status.value:10} {j.kind:6} {_when(j.created_at):19}  {j.name}" for j in jobs]
    emit([j.to_dict() for j in jobs], args.json, "\n".join(lines))
    return 0


def _show(settings, args) -> int:
    job = JobRunner(settings).get(args.id)
    text = "\n".join(f"{key}: {value}" for key, value in job.to_dict().items() if key != "meta")
    emit(job.to_dict(), args.json, text)
    return 0


def _logs(settings, args) -> int:
    runner = JobRunner(settings)
    text = runner.log_tail(args.id, args.lines)
    emit({"id": args.id, "log": text}, args.json, text)
    return 0


def _stop(settings, args) -> int:
    job = JobRunner(settings).stop(args.id, wait_s=args.wait)
    emit(job.to_dict(), args.json, f"{job.id} {job.status.value}")
    return 0
