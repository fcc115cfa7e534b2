"""`serve start|list|stop`: a version as an OpenAI-compatible server, run as a job."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .target_opt import add_target
from .types import non_negative_float, text


def register(sub) -> None:
    """Add the serve subcommands."""
    group = sub.add_parser("serve", help="serve a version as an OpenAI-compatible endpoint")
    ssub = group.add_subparsers(dest="serve_command", required=True)
    start = ssub.add_parser("start", help="start a server and wait until it answers")
    start.add_argument("version", type=text, help="a registered version id (name@version)")
    start.add_argument("--engine", choices=("llamafactory", "vllm"), default="llamafactory")
    start.add_argument("--port", type=int, default=None)
    start.add_argument("--set", dest="pairs", action="append", default=[], metavar="KEY=VALUE",
                       help="template, adapters (comma-separated), tensor_parallel_size, gpu_memory_utilization, "
                            "max_model_len, dtype")
    start.add_argument("--timeout", type=non_negative_float, default=180.0, help="seconds to wait for an answer")
    start.add_argument("--print-command", action="store_true", help="print the command and start nothing")
    start.add_argument("--json", action="store_true")
    add_target(start)
    start.set_defaults(handler=_start)
    listing = ssub.add_parser("list", help="serve jobs and their endpoint versions")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    stop = ssub.add_parser("stop", help="stop a server (its whole process tree) and remove its endpoints")
    stop.add_argument("job", type=text)
    stop.add_argument("--json", action="store_true")
    stop.set_defaults(handler=_stop)


def _serving(settings):
    from ..services.container import build_services

    services = build_services(settings)
    services.models.ensure_demo()
    return services.serving


def _start(settings, args) -> int:
    from ..services.serving import options_from_pairs

    options = options_from_pairs(args.pairs, engine=args.engine, port=args.port)
    serving = _serving(settings)
    if args.print_command:
        print(serving.plan(args.version, options).command)
        return 0
    job, made = serving.start(args.version, options, timeout_s=args.timeout, target=args.target)
    data = {"job": job.id, "base_url": job.meta["base_url"], "id": made[0].id if made else None,
            "ids": [entry.id for entry in made], "command": job.meta.get("command", "")}
    emit(data, args.json, t("cli.serve_ready", settings.lang, version=args.version, base_url=data["base_url"],
                            job=job.id, id=data["id"]))
    return 0


def _list(settings, args) -> int:
    rows = [row.to_dict() for row in _serving(settings).list()]
    lines = [f"{r['job_id']}  {r['status']:<9} {r['stage'] or '-':<9} {r['version_id']}  {r['engine']}  "
             f"{r['base_url']}  {','.join(r['endpoints']) or '-'}" for r in rows]
    emit(rows, args.json, "\n".join(lines) or t("cli.serve_none", settings.lang))
    return 0


def _stop(settings, args) -> int:
    job = _serving(settings).stop(args.job)
    removed = job.apply_result.get("removed_model_ids", [])
    emit({"job": job.id, "status": job.status.value, "removed": removed}, args.json,
         t("cli.serve_stopped", settings.lang, job=job.id, status=job.status.value, removed=", ".join(removed) or "-"))
    return 0
