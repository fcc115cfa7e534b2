"""`surgery checkpoints|register-checkpoint|prune|average`: pick a run's checkpoint, register it, free the rest,
or average several (SWA / EMA) into a new version."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .target_opt import add_target
from .types import text


def _steps(value: str) -> list[str]:
    steps = [part.strip() for part in value.split(",") if part.strip()]
    if len(steps) < 2 or not all(part.removeprefix("checkpoint-").isdigit() for part in steps):
        raise ValueError(value)
    return steps


def _decay(value: str) -> float:
    number = float(value)
    if not 0.0 < number < 1.0:
        raise ValueError(value)
    return number


def register(ssub) -> None:
    """Add the checkpoint and averaging subcommands to the surgery group."""
    run_help = "a training job id, a run folder or a registered version id"
    cmd = ssub.add_parser("checkpoints", help="a run's checkpoints: losses, size, eval score, flags, the pick")
    cmd.add_argument("run", type=text, help=run_help)
    cmd.add_argument("--metric", type=text, default=None, help="the eval score column's metric (default: the run's first)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_checkpoints)
    cmd = ssub.add_parser("register-checkpoint", help="register one checkpoint as a version")
    cmd.add_argument("run", type=text, help=run_help)
    cmd.add_argument("name", type=text, help="checkpoint-N (or N)")
    cmd.add_argument("--as", dest="as_name", type=text, default=None, help="model name (default: the run's)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_register)
    cmd = ssub.add_parser("prune", help="delete every checkpoint but the recommended and registered ones")
    cmd.add_argument("run", type=text, help=run_help)
    cmd.add_argument("--confirm", type=text, default=None, help="the token the plan printed (without it: plan only)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_prune)
    cmd = ssub.add_parser("average", help="SWA (uniform) or EMA of a run's checkpoints into a new version, as a job")
    cmd.add_argument("run", type=text, help=run_help)
    cmd.add_argument("--checkpoints", type=_steps, required=True, help="steps, comma-separated, e.g. 2,4,6")
    cmd.add_argument("--ema", type=_decay, default=None, help="EMA decay d in (0,1): state <- d*state + (1-d)*next")
    cmd.add_argument("--lora", choices=("merge", "cat"), default="merge",
                     help="LoRA: merge each into the base and average (a merged model) or one rank k*r adapter")
    cmd.add_argument("--name", type=text, default=None, help="the new model's name")
    cmd.add_argument("--out", type=text, default=None, help="output folder (default: under the models folder)")
    cmd.add_argument("--wait", action="store_true", help="wait for the job and print the new version id")
    cmd.add_argument("--json", action="store_true")
    add_target(cmd)
    cmd.set_defaults(handler=_average)


def _size(count: int) -> str:
    return f"{count / 1024**2:.1f} MB"


def _num(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _checkpoints(settings, args) -> int:
    from ..services.surgery.checkpoints import checkpoint_table

    table = checkpoint_table(settings, args.run, metric=args.metric)
    lang = settings.lang
    header = (f"{'checkpoint':<18} {'step':>6} {'train_loss':>10} {'eval_loss':>10} {table.metric or 'score':>10} "
              f"{'size':>10}  flags")
    lines = [f"{table.run.path}" + (f" ({table.run.version.id})" if table.run.version else ""), header]
    for row in table.rows:
        flags = ", ".join(t(f"sgc.flag.{flag}", lang) for flag in row.flags)
        mark = "*" if row.name == table.recommended else " "
        lines.append(f"{mark}{row.name:<17} {row.step:>6} {_num(row.train_loss):>10} {_num(row.eval_loss):>10} "
                     f"{_num(row.score):>10} {_size(row.bytes):>10}  {flags}")
    lines.append(t("sgc.cli.recommended", lang, name=table.recommended or "-", reason=table.reason.render(lang)))
    emit(table.to_dict(lang), args.json, "\n".join(lines))
    return 0


def _register(settings, args) -> int:
    from ..services.surgery.checkpoints import register_checkpoint

    entry = register_checkpoint(settings, args.run, args.name, as_name=args.as_name)
    emit(entry.model_dump(mode="json"), args.json,
         t("sgc.cli.registered", settings.lang, name=args.name, model_id=entry.id) + f"\n{entry.id}")
    return 0


def _prune(settings, args) -> int:
    from ..services.surgery.checkpoints import prune, prune_plan

    if args.confirm is None:
        plan = prune_plan(settings, args.run)
        emit({**plan.to_dict(), "deleted": False}, args.json,
             "\n".join([f"- {name} ({_size(size)})" for name, size in plan.delete] + [
                 t("sgc.cli.prune_plan", settings.lang, count=len(plan.delete), size=_size(plan.bytes),
                   keep=", ".join(plan.keep) or "-", token=plan.token)]))
        return 0
    plan = prune(settings, args.run, args.confirm)
    emit({**plan.to_dict(), "deleted": True}, args.json,
         t("sgc.cli.pruned", settings.lang, count=len(plan.delete), size=_size(plan.bytes)))
    return 0


def _average(settings, args) -> int:
    from ..services.container import build_services
    from ..services.surgery.averaging import start_average
    from .jobs import checked, wait_applied

    services = build_services(settings)
    job = start_average(settings, services.runner, args.run, args.checkpoints, ema=args.ema, lora=args.lora,
                        name=args.name, out=args.out, target=args.target)
    if not args.wait:
        emit({"job_id": job.id}, args.json, t("sgc.cli.queued", settings.lang, job=job.id) + f"\n{job.id}")
        return 0
    job = wait_applied(settings, services, job)
    job = checked(settings, job)
    result = job.apply_result
    emit({"job_id": job.id, "path": result.get("path"), "model_id": result.get("model_id"),
          "output": result.get("output")}, args.json, f"{result.get('path')}\n{result.get('model_id')}")
    return 0
