"""`surgery methods` (mergekit's methods, described from its own specs) and `surgery merge` (a mergekit merge job)."""

from __future__ import annotations

import math

from ..i18n import render
from .output import emit
from .target_opt import add_target
from .types import non_negative_int, text


def model_weight(value: str) -> tuple[str, dict]:
    """MODEL or MODEL:WEIGHT (a finite number after the last colon)."""
    head, sep, tail = value.rpartition(":")
    if sep and head.strip():
        try:
            weight = float(tail)
        except ValueError:
            return text(value), {}
        if not math.isfinite(weight):
            raise ValueError(value)
        return head.strip(), {"weight": weight}
    return text(value), {}


def key_value(value: str) -> tuple[str, str]:
    """KEY=VALUE with a non-empty key."""
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise ValueError(value)
    return key.strip(), rest.strip()


def register(ssub) -> None:
    """Add `surgery methods` and `surgery merge`."""
    from .jobs import add_wait_flags

    cmd = ssub.add_parser("methods", help="the merge methods mergekit offers, with their parameters")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_methods)
    cmd = ssub.add_parser("merge", help="merge 2-8 models with mergekit (a job); prints the new version id last")
    cmd.add_argument("--method", type=text, required=True, help="see `surgery methods`")
    cmd.add_argument("--model", type=model_weight, action="append", required=True, dest="models",
                     help="version id or model folder, optionally :WEIGHT (repeat)")
    cmd.add_argument("--base", type=text, default=None, help="the base model (methods that take one)")
    cmd.add_argument("--set", type=key_value, action="append", default=[], dest="params", metavar="KEY=VALUE",
                     help="a method parameter (a per-model one set here applies to every model)")
    cmd.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None)
    cmd.add_argument("--tokenizer-source", type=text, default=None, help="base, union, or one of the models")
    cmd.add_argument("--seed", type=non_negative_int, default=0, help="for the random methods (DARE, DELLA)")
    cmd.add_argument("--out", type=text, default=None, help="output folder inside the workspace")
    cmd.add_argument("--name", type=text, default=None, help="registered model name (default merge-METHOD)")
    cmd.add_argument("--plan", action="store_true", help="print the recipe and command; run nothing")
    add_wait_flags(cmd)
    add_target(cmd)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_merge)


def _methods(settings, args) -> int:
    from ..services.surgery.methods import describe_all

    described = describe_all(settings.lang)
    lines = []
    for method in described:
        lines.append(f"{method['name']} ({method['pretty_name']}; {method['base_text']}): {method['help']}")
        for param in method["params"]:
            default = "required" if param["required"] else f"default {param['default']}"
            lines.append(f"    {param['name']} [{param['type']}, {param['scope_text']}, {default}] {param['help']}")
    emit(described, args.json, "\n".join(lines))
    return 0


def _merge(settings, args) -> int:
    from ..services.surgery.merge import plan_merge
    from .jobs import run_job

    plan = plan_merge(settings, args.method, args.models, base=args.base, params=dict(args.params), dtype=args.dtype,
                      out=args.out, name=args.name, tokenizer_source=args.tokenizer_source, seed=args.seed)
    notes = [render(note, settings.lang) for note in plan.notes]
    if args.plan:
        emit({"recipe": plan.recipe, "command": plan.command, "path": str(plan.output.final),
              "disk_bytes": plan.disk_bytes, "notes": notes}, args.json,
             "\n".join([*notes, plan.yaml.rstrip(), " ".join(plan.command), str(plan.output.final)]))
        return 0
    job = run_job(settings, args, "mergekit", plan.job_params(), f"merge {plan.method} -> {plan.name}")
    if job is None:
        return 0
    result = job.apply_result
    emit({**result, "job_id": job.id, "notes": notes}, args.json,
         "\n".join([*notes, f"{job.id} {result.get('path')}", str(result.get("model_id"))]))
    return 0
