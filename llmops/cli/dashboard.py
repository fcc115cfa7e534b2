"""`dashboard [--json]`: the first tab's snapshot in a terminal, built by the same service."""

from __future__ import annotations

from ..i18n import t
from .output import emit

_GIB = 1024 ** 3


def register(sub) -> None:
    """Add the dashboard command."""
    cmd = sub.add_parser("dashboard", help="counts, running jobs, recent work and the machine, at a glance")
    cmd.add_argument("--json", action="store_true")
    cmd.add_argument("--recent", type=int, default=8, help="rows per recent list")
    cmd.set_defaults(handler=_dashboard)


def _dashboard(settings, args) -> int:
    from ..services.container import build_services

    # One reading, so CPU % is measured over a short window rather than since a previous call there never was.
    snap = build_services(settings).dashboard.snapshot(recent=max(1, args.recent), cpu_interval=0.2)
    emit(snap.to_dict(), args.json, _text(snap, settings.lang))
    return 0


def _text(snap, lang: str) -> str:
    from ..services.dashboard import WEEK_DAYS

    counts, system = snap.counts, snap.system
    jobs = ", ".join(f"{state.lower()} {n}" for state, n in counts.jobs.items() if n) or "0"
    lines = [t("dash.cli.counts", lang, datasets=counts.datasets, versions=counts.versions, jobs=jobs,
               week=counts.votes_week, days=WEEK_DAYS, total=counts.votes_total)]
    for job in snap.running:
        pct = f"{job.percent:.0f}%" if job.percent is not None else "-"
        lines.append(f"  {job.status:8} {job.id:24} {job.kind:10} {job.progress:>10} {pct:>5} eta {job.eta or '-'}")
    for job in snap.recent_jobs:
        lines.append(f"  {job.status:9} {job.id:24} {job.kind:10} {job.name}")
    for run in snap.recent_evals:
        lines.append(f"  eval {run.run_id} {run.status:9} {','.join(run.models)} on {run.set}")
    for merge in snap.recent_merges:
        lines.append(f"  merge {merge.id} {merge.operation} {merge.status}")
    current = snap.current
    lines.append(f"current: {current.id if current else '-'}"
                 + (f" · last eval {current.last_eval.run_id}" if current and current.last_eval else ""))
    lines.append(f"cpu {system.cpu_percent:.0f}% of {system.cpu_count} · memory {system.memory_used / _GIB:.1f}/"
                 f"{system.memory_total / _GIB:.1f} GiB · disk {system.disk_free / _GIB:.1f} GiB free of "
                 f"{system.disk_total / _GIB:.1f} ({system.disk_path})")
    if not system.gpu.present:
        lines.append(t("ui.dash.no_gpu", lang, reason=system.gpu.reason))
    for gpu in system.gpu.gpus:
        util = f"{gpu.utilisation}%" if gpu.utilisation is not None else "-"
        temp = f"{gpu.temperature_c}°C" if gpu.temperature_c is not None else "-"
        lines.append(f"gpu {gpu.index} {gpu.name} · {gpu.memory_used / _GIB:.1f}/{gpu.memory_total / _GIB:.1f} GiB · "
                     f"util {util} · {temp}")
    return "\n".join(lines)
