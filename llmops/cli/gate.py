"""`gate show|set|off|check`: the regression gate that guards making a version current."""

from __future__ import annotations

from ..errors import InvalidInputError
from ..i18n import t
from .output import emit
from .types import text


def _threshold(value: str) -> float:
    """A tolerated regression: a finite number ≥ 0."""
    number = float(value)
    if not 0.0 <= number < float("inf"):
        raise ValueError(value)
    return number


def register(sub) -> None:
    """Add the gate subcommands."""
    group = sub.add_parser("gate", help="the regression gate on making a version current")
    gsub = group.add_subparsers(dest="gate_command", required=True)
    cmd = gsub.add_parser("show", help="the stored gate setting")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_show)
    cmd = gsub.add_parser("set", help="turn the gate on for one evaluation set and metric")
    cmd.add_argument("--set", dest="set_name", type=text, required=True, help="evaluation set name")
    cmd.add_argument("--metric", type=text, required=True, help="a metric name or column (eval metrics)")
    cmd.add_argument("--threshold", type=_threshold, default=0.0, help="largest regression allowed (default 0)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_set)
    cmd = gsub.add_parser("off", help="turn the gate off (its set and metric are kept)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_off)
    cmd = gsub.add_parser("check", help="verdict for CANDIDATE against PREVIOUS; exit 0 passed, 1 not")
    cmd.add_argument("candidate", type=text)
    cmd.add_argument("previous", type=text)
    cmd.add_argument("--set", dest="set_name", type=text, default=None, help="default: the stored gate's")
    cmd.add_argument("--metric", type=text, default=None, help="default: the stored gate's")
    cmd.add_argument("--threshold", type=_threshold, default=None, help="default: the stored gate's")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_check)


def _describe(setting, lang: str) -> str:
    if not setting.enabled:
        return t("gate.off", lang)
    return t("gate.on", lang, set=setting.set, metric=setting.metric, threshold=setting.threshold)


def _show(settings, args) -> int:
    from ..services.evaluation import gate

    setting = gate.read_setting(settings)
    emit(setting.model_dump(mode="json"), args.json, _describe(setting, settings.lang))
    return 0


def _set(settings, args) -> int:
    from ..services.evaluation import gate

    setting = gate.configure(settings, set_name=args.set_name, metric=args.metric, threshold=args.threshold)
    emit(setting.model_dump(mode="json"), args.json, _describe(setting, settings.lang))
    return 0


def _off(settings, args) -> int:
    from ..services.evaluation import gate

    setting = gate.disable(settings)
    emit(setting.model_dump(mode="json"), args.json, _describe(setting, settings.lang))
    return 0


def _check(settings, args) -> int:
    from ..services.evaluation import gate

    stored = gate.read_setting(settings)
    set_name, metric = args.set_name or stored.set, args.metric or stored.metric
    if not set_name or not metric:
        raise InvalidInputError("err.gate.no_args")
    threshold = args.threshold if args.threshold is not None else stored.threshold
    result = gate.check(settings, args.candidate, args.previous, set_name=set_name, metric=metric, threshold=threshold)
    emit({**result.to_dict(), "message": result.message(settings.lang)}, args.json, result.message(settings.lang))
    return 0 if result.passed else 1
