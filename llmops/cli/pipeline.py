"""`pipeline run|validate|list|show|resume|stop`: multi-stage flows run as dependent jobs."""

from __future__ import annotations

import sys
import time

from ..i18n import t
from .output import emit
from .types import positive_float, text

_POLL_S = 1.0


def register(sub) -> None:
    """Add the pipeline subcommands."""
    group = sub.add_parser("pipeline", help="run multi-stage pipelines (train, evaluate, gate, promote, ...)")
    psub = group.add_subparsers(dest="pipeline_command", required=True)
    for name, handler, arg, waits in (("run", _run, "file", True), ("validate", _validate, "file", False),
                                      ("list", _list, None, False), ("show", _show, "run", False),
                                      ("resume", _resume, "run", True), ("stop", _stop, "run", False)):
        cmd = psub.add_parser(name)
        if arg:
            cmd.add_argument(arg, type=text)
        if waits:
            cmd.add_argument("--wait", action="store_true", help="drive the run until it ends")
            cmd.add_argument("--timeout", type=positive_float, default=None, help="seconds to wait at most")
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(handler=handler)


def _services(settings):
    from ..services.container import build_services

    services = build_services(settings)
    services.reconciler.run_once()  # what finished while nobody watched takes effect, runs advance
    return services


def _validate(settings, args) -> int:
    services = _services(settings)
    path, body = services.pipelines.read_file(args.file)
    graph, previews = services.pipelines.validate(body, str(path))
    lines = [t("pl.valid", settings.lang, name=graph.pipeline.name, count=len(previews))]
    for index, stage in enumerate(previews, 1):
        needs = f" <- {', '.join(stage.needs)}" if stage.needs else ""
        lines.append(f"{index}. {stage.id} [{stage.kind}]{needs}")
        lines += [f"     {key}: {value}" for key, value in stage.config.items()]
    emit({"name": graph.pipeline.name, "stages": [p.to_dict() for p in previews]}, args.json, "\n".join(lines))
    return 0


def _run(settings, args) -> int:
    services = _services(settings)
    state = services.pipelines.start_file(args.file)
    print(t("pl.started", settings.lang, run=state.run_id), file=sys.stderr)
    return _follow(settings, services, state, args)


def _resume(settings, args) -> int:
    services = _services(settings)
    return _follow(settings, services, services.pipelines.resume(args.run), args)


def _follow(settings, services, state, args) -> int:
    """With --wait, drive reconciler passes until the run ends (Ctrl-C stops it); exit 1 unless it completed."""
    if args.wait:
        deadline = None if args.timeout is None else time.monotonic() + args.timeout
        try:
            while state.status == "running" and (deadline is None or time.monotonic() < deadline):
                time.sleep(_POLL_S)
                services.reconciler.run_once()
                state = services.pipelines.show(state.run_id)
        except KeyboardInterrupt:
            print(t("cli.interrupted", settings.lang), file=sys.stderr)
            state = services.pipelines.stop(state.run_id)
    _print_run(settings, services, state, args.json)
    return 0 if not args.wait or state.status == "completed" else 1


def _list(settings, args) -> int:
    services = _services(settings)
    runs = services.pipelines.list()
    lines = [f"{'RUN':26} {'STATUS':10} {'AT':10} NAME"]
    lines += [f"{r.run_id:26} {r.status:10} {r.position()}/{len(r.order):<8} {r.name}" for r in runs]
    emit([r.model_dump(mode="json") for r in runs], args.json, "\n".join(lines))
    return 0


def _show(settings, args) -> int:
    services = _services(settings)
    _print_run(settings, services, services.pipelines.show(args.run), args.json)
    return 0


def _stop(settings, args) -> int:
    services = _services(settings)
    _print_run(settings, services, services.pipelines.stop(args.run), args.json)
    return 0


def _print_run(settings, services, state, as_json: bool) -> None:
    lang = settings.lang
    pipelines = services.pipelines
    data = {**state.model_dump(mode="json"),
            "reasons": {sid: pipelines.reason(stage, lang) for sid, stage in state.stages.items() if stage.error}}
    at = t("pl.position", lang, at=state.position(), total=len(state.order))
    lines = [f"{state.run_id} {state.name}: {state.status} ({at})"]
    for stage_id in state.order:
        stage = state.stages[stage_id]
        took = f" {stage.duration_s:.0f}s" if stage.duration_s is not None else ""
        outputs = ", ".join(f"{k}={v}" for k, v in stage.outputs.items() if k != "verdict")
        lines.append(f"  {stage_id:16} {stage.status:9}{took:6} {outputs}")
        if stage.error:
            lines.append(f"    {pipelines.reason(stage, lang)}")
    emit(data, as_json, "\n".join(lines))
