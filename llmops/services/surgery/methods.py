"""The merge methods mergekit has, each described from its own spec: parameters, base-model rule, input counts.

Nothing here is a hand-kept list: `methods()` reads `mergekit.merge_methods.registered_methods()`, so a form drawn
from `describe(lang)` shows exactly what the installed mergekit accepts. Help text is ours (i18n), with a generic
fallback for a method we have not described.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import NotFoundError
from ...i18n import has, t

SCOPES = ("shared", "input", "non_base")  # mergekit's ParameterScope values
BASE_POLICIES = ("required", "optional", "forbidden", "ignored")
# Value ranges mergekit enforces only deep inside a merge (or not at all); refused before anything runs.
# Keyed (method, name); "*" for every method that has the name.
_RANGES: dict[tuple[str, str], tuple[float, float]] = {("slerp", "t"): (0.0, 1.0), ("*", "density"): (0.0, 1.0),
                                                       ("*", "gamma"): (0.0, 1.0), ("*", "select_topk"): (0.0, 1.0)}


@dataclass(frozen=True)
class MethodParam:
    """One parameter of a merge method: its type, where it is set (shared or per model) and its default."""

    name: str
    type: str  # "float", "int", "bool", "str"; "float?" when it may be left empty
    scope: str  # shared | input (every model) | non_base (every model but the base)
    required: bool
    default: Any = None
    method_name: str = ""
    checker: Callable[[Any], Any] | None = field(default=None, repr=False, compare=False)  # mergekit's own adapter

    @property
    def per_model(self) -> bool:
        return self.scope != "shared"

    @property
    def range(self) -> tuple[float, float] | None:
        return _RANGES.get((self.method_name, self.name)) or _RANGES.get(("*", self.name))

    def validate(self, value: Any) -> Any:
        """`value` as mergekit's own type adapter reads it; ValueError when it is not one (NaN and inf included)."""
        try:
            parsed = self.checker(value) if self.checker else value
        except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError, re-raised as the caller's refusal
            raise ValueError(str(exc)) from None
        if isinstance(parsed, float) and not math.isfinite(parsed):
            raise ValueError(f"{value} is not finite")
        return parsed

    def describe(self, lang: str = "en") -> dict:
        """A plain dict a form or `--json` can show."""
        key = next((k for k in (f"sgm.param.{self.method_name}.{self.name}.help", f"sgm.param.{self.name}.help")
                    if has(k)), None)  # a method's own meaning of a shared name comes first
        help_text = t(key, lang) if key else t("sgm.param.generic.help", lang, type=self.type, method=self.method_name)
        return {"name": self.name, "type": self.type, "scope": self.scope, "scope_text": t(f"sgm.scope.{self.scope}",
                                                                                          lang),
                "required": self.required, "default": self.default, "range": list(self.range) if self.range else None,
                "help": help_text}


@dataclass(frozen=True)
class MergeMethodInfo:
    """One mergekit method as our forms and checks need it."""

    name: str
    pretty_name: str
    reference_url: str
    base: str  # required | optional | forbidden | ignored
    min_inputs: int
    max_inputs: int | None
    min_non_base: int | None
    max_non_base: int | None
    params: tuple[MethodParam, ...]

    @property
    def takes_base(self) -> bool:
        return self.base in ("required", "optional")

    @property
    def shared_params(self) -> tuple[MethodParam, ...]:
        return tuple(p for p in self.params if not p.per_model)

    @property
    def model_params(self) -> tuple[MethodParam, ...]:
        return tuple(p for p in self.params if p.per_model)

    def param(self, name: str) -> MethodParam | None:
        return next((p for p in self.params if p.name == name), None)

    def help(self, lang: str = "en") -> str:
        key = f"sg.method.{self.name}.help"
        if has(key):
            return t(key, lang)
        return t("sg.method.generic.help", lang, pretty=self.pretty_name, url=self.reference_url or "-")

    def describe(self, lang: str = "en") -> dict:
        """A plain dict a form or `--json` can show."""
        return {"name": self.name, "pretty_name": self.pretty_name, "reference_url": self.reference_url,
                "help": self.help(lang), "base": self.base, "base_text": t(f"sgm.base.{self.base}", lang),
                "min_inputs": self.min_inputs, "max_inputs": self.max_inputs, "min_non_base": self.min_non_base,
                "max_non_base": self.max_non_base, "params": [p.describe(lang) for p in self.params]}


def _type_name(value_type: Any) -> str:
    """'float', 'bool', 'int', 'str', or 'float?' for Optional[float]."""
    args = [a for a in typing.get_args(value_type) if a is not type(None)]
    if typing.get_origin(value_type) is typing.Union and len(args) == 1:
        return _type_name(args[0]) + "?"
    return getattr(value_type, "__name__", str(value_type))


def _param(method: str, spec) -> MethodParam:
    required = bool(spec.required)
    return MethodParam(name=spec.name, type=_type_name(spec.value_type), scope=spec.scope.value, required=required,
                       default=None if required else spec.default, method_name=method,
                       checker=spec.validate)


def _info(method) -> MergeMethodInfo:
    spec = method.spec
    contract = spec.contract
    return MergeMethodInfo(name=spec.name, pretty_name=spec.pretty_name or spec.name,
                           reference_url=spec.reference_url or "", base=contract.base.value,
                           min_inputs=contract.min_inputs, max_inputs=contract.max_inputs,
                           min_non_base=contract.min_non_base, max_non_base=contract.max_non_base,
                           params=tuple(_param(spec.name, p) for p in spec.parameters))


@functools.lru_cache(maxsize=1)
def methods() -> tuple[MergeMethodInfo, ...]:
    """Every method the installed mergekit registers, in its own order."""
    from mergekit.merge_methods import registered_methods

    return tuple(_info(method) for method in registered_methods())


def names() -> list[str]:
    """The method names."""
    return [m.name for m in methods()]


def get_method(name: str) -> MergeMethodInfo:
    """The method called `name`; refused with the list of known ones."""
    found = next((m for m in methods() if m.name == (name or "").strip()), None)
    if found is None:
        raise NotFoundError("err.sgm_method_unknown", method=name, known=", ".join(names()))
    return found


def describe_all(lang: str = "en") -> list[dict]:
    """Every method, described for a form or `surgery methods --json`."""
    return [m.describe(lang) for m in methods()]
