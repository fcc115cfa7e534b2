"""`jobs logs --grep/--level/--follow`, `jobs compare`, `jobs restart [--resume]`, `jobs delete --yes`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..i18n import t
from .output import emit
from .types import text


def register(jsub) -> None:
    """Add compare, restart and delete to the jobs group."""
    compare = jsub.add_parser("compare", help="configs side by side and the curves of two or more runs")
    compare.add_argument("ids", nargs="+", type=text)
    compare.add_argument("--all-keys", action="store_true", help="list every config key, not only differing ones")
    compare.add_argument("--json", action="store_true")
    compare.set_defaults(handler=_compare)
    restart = jsub.add_parser("restart", help="run a finished job again (same config, new run folder)")
    restart.add_argument("id", type=text)
    restart.add_argument("--resume", action="store_true", help="a training: continue from its last checkpoint")
    restart.add_argument("--json", action="store_true")
    restart.set_defaults(handler=_restart)
    delete = jsub.add_parser("delete", help="delete a finished job and its run folder")
    delete.add_argument("id", type=text)
    delete.add_argument("--yes", action="store_true", help="really delete (without it, show what would go)")
    delete.add_argument("--json", action="store_true")
    delete.set_defaults(handler=_delete)


def add_log_flags(cmd) -> None:
    """The viewer's filters on `jobs logs`."""
    cmd.add_argument("--grep", type=text, default=None, help="only lines containing this text (case-insensitive)")
    cmd.add_argument("--level", default="ALL", type=str.upper, choices=("ALL", "INFO", "WARNING", "ERROR"),
                     help="only lines at this level or above (a traceback counts as ERROR)")
    cmd.add_argument("--follow", action="store_true", help="keep printing new lines until the job ends")
    cmd.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)


def _services(settings):
    from ..services.container import build_services

    return build_services(settings)


def logs(settings, args) -> int:
    """The log's last lines that pass the filters; with --follow, then every new one until the job ends."""
    from ..runner.runner import JobRunner
    from ..services import jobs_logs

    runner = JobRunner(settings)
    job = runner.get(args.id)
    level, query = jobs_logs.check_filter(args.level), args.grep or ""
    # Without --follow a filter reads the whole file (streamed, bounded memory); a plain tail reads its end.
    window = None if (query or level != "ALL") else jobs_logs.WINDOW_BYTES
    result = jobs_logs.view(job.log_path, query=query, level=level, window_bytes=window, max_lines=args.lines)
    if not args.follow:
        emit({"id": job.id, "log": "\n".join(line.text for line in result.lines), "matches": result.matches,
              "lines": [vars(line) for line in result.lines]}, args.json,
             "\n".join(line.text for line in result.lines))
        return 0
    for line in result.lines:
        print(line.text, flush=True)
    cursor = jobs_logs.Cursor(_line_start(job.log_path, result.size))
    while True:
        finished = runner.get(job.id).status.finished
        for line in jobs_logs.read_new(job.log_path, cursor):
            if jobs_logs.keep(line, level, query):
                print(line.text, flush=True)
        if finished:
            return 0
        time.sleep(max(0.05, args.poll))


def _line_start(path, size: int) -> int:
    """`size` moved back to the start of the line it falls in (a line still being written is printed later)."""
    if not size:
        return 0
    with open(Path(path), "rb") as handle:
        start = max(0, size - 64 * 1024)
        handle.seek(start)
        data = handle.read(size - start)
    return start + data.rfind(b"\n") + 1


def _compare(settings, args) -> int:
    services = _services(settings)
    result = services.jobs_admin.compare(args.ids)
    rows = result.rows if args.all_keys else [row for row in result.rows if row.differs]
    names = [job.id for job in result.jobs]
    lines = [t("jobsx.compare_summary", settings.lang, count=len(names), differing=len(result.differing),
               keys=len(result.rows), names=", ".join(result.differing) or "-")]
    width = max([len(row.key) for row in rows] + [3])
    lines.append(f"  {'KEY':{width}}  " + "  ".join(f"{name:24}" for name in names))
    for row in rows:
        mark = "≠" if row.differs else " "
        lines.append(f"{mark} {row.key:{width}}  " + "  ".join(f"{value[:24]:24}" for value in row.values))
    for curves in result.curves:
        for name, (steps, values) in curves.series.items():
            lines.append(f"{curves.job_id} {name}: " + " ".join(f"{s}:{v:.4g}" for s, v in zip(steps, values,
                                                                                               strict=True)))
    data = {"jobs": names, "differing": result.differing,
            "rows": [{"key": row.key, "values": row.values, "differs": row.differs} for row in result.rows],
            "curves": {c.job_id: {k: {"steps": s, "values": v} for k, (s, v) in c.series.items()}
                       for c in result.curves}}
    emit(data, args.json, "\n".join(lines))
    return 0


def _restart(settings, args) -> int:
    from ..services.jobs_admin import restart_text

    services = _services(settings)
    restarted = services.jobs_admin.restart(args.id, resume=args.resume)
    emit({"source": restarted.source.id, "job_id": restarted.job.id, "mode": restarted.mode,
          "checkpoint": restarted.checkpoint, "run_dir": restarted.job.run_dir}, args.json,
         restart_text(restarted, settings.lang))
    return 0


def _delete(settings, args) -> int:
    from ..services.jobs_admin import deleted_text, plan_text

    services = _services(settings)
    if not args.yes:
        plan = services.jobs_admin.plan_delete(args.id)
        data = {"deleted": False, "job_ids": plan.job_ids, "folders": [str(f) for f in plan.folders],
                "bytes": plan.bytes}
        emit(data, args.json, t("cli.jobsx.not_confirmed", settings.lang, plan=plan_text(plan, settings.lang)))
        return 1
    deleted = services.jobs_admin.delete(args.id)
    emit({"deleted": True, "job_ids": deleted.job_ids, "folders": [str(f) for f in deleted.folders],
          "freed_bytes": deleted.freed_bytes}, args.json, deleted_text(deleted, settings.lang))
    return 0

