"""`surgery sweep`: merge two models at each ratio of a grid, score each merge, keep the best (one job)."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .surgery_merge import key_value
from .target_opt import add_target
from .types import text


def register(ssub) -> None:
    """Add `surgery sweep`."""
    from .jobs import add_wait_flags

    cmd = ssub.add_parser("sweep", help="merge two models over a grid of ratios, score each, keep the best (a job); "
                                        "prints the kept version id last")
    cmd.add_argument("--method", type=text, default="linear",
                     help="linear (A gets weight t, B 1-t) or slerp (t=0 is A, t=1 is B); another method with --param")
    cmd.add_argument("--model", type=text, action="append", required=True, dest="models",
                     help="version id or model folder (twice: A then B)")
    cmd.add_argument("--grid", type=text, default=None, help="0:1:0.25 (stop included) or 0,0.5,1 (default 0:1:0.25)")
    cmd.add_argument("--set", type=text, required=True, dest="set_name", help="evaluation set to score each merge on")
    cmd.add_argument("--metric", type=text, default="perplexity", help="see `eval metrics` (default perplexity)")
    cmd.add_argument("--param", type=text, default=None, help="the method parameter to sweep (default weight / t)")
    cmd.add_argument("--fixed", type=key_value, action="append", default=[], dest="params", metavar="KEY=VALUE",
                     help="another method parameter, the same at every point")
    cmd.add_argument("--limit", type=int, default=None, help="score on the first N samples of the set")
    cmd.add_argument("--keep-all", action="store_true", help="keep every point's merge in the sweep folder")
    cmd.add_argument("--name", type=text, default=None, help="registered name of the kept model (default sweep-METHOD)")
    add_wait_flags(cmd)
    add_target(cmd)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_sweep)


def _score(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def _sweep(settings, args) -> int:
    from ..services.surgery.sweep import created, plan_sweep
    from .jobs import run_job

    plan = plan_sweep(settings, args.method, args.models, args.set_name, grid=args.grid, metric=args.metric,
                      param=args.param, params=dict(args.params), keep_all=args.keep_all, name=args.name,
                      limit=args.limit)
    job = run_job(settings, args, "surgery_sweep", plan.job_params(), plan.job_name(), prepare=created(plan))
    if job is None:
        return 0
    result = job.apply_result
    points, best = result.get("points") or [], result.get("best")
    lang = settings.lang
    lines = [t("sgw.point", lang, ratio=p["ratio"], metric=p["metric"], score=_score(p["score"])) for p in points]
    lines.append(t("sgw.best", lang, ratio=best["ratio"], metric=best["metric"], score=_score(best["score"]))
                 if best else t("sgw.no_points", lang))
    lines += [f"{job.id} {result.get('path')}", str(result.get("model_id"))]
    emit({"path": result.get("path"), "points": points, "best": best, "model_id": result.get("model_id"),
          "sweep_id": plan.sweep_id, "folder": str(plan.folder), "stopped": result.get("stopped"), "job_id": job.id},
         args.json, "\n".join(lines))
    return 0
