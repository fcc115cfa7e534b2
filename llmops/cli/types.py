"""Argument types that refuse out-of-range values at parse time (argparse names them in its message)."""

from __future__ import annotations

import math
from collections.abc import Callable


def _checked(parse: Callable[[str], float], ok: Callable[[float], bool], name: str, doc: str):
    """An argparse type: `parse` the text, then refuse values `ok` rejects. argparse names it by `name`."""
    def convert(text: str):
        value = parse(text)
        if not ok(value):
            raise ValueError(text)
        return value

    convert.__name__, convert.__doc__ = name, doc
    return convert


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


positive_int = _checked(int, lambda v: v >= 1, "positive_int", "An integer ≥ 1.")
non_negative_int = _checked(int, lambda v: v >= 0, "non_negative_int", "An integer ≥ 0.")
non_negative_float = _checked(_finite, lambda v: v >= 0, "non_negative_float", "A finite number ≥ 0.")
positive_float = _checked(_finite, lambda v: v > 0, "positive_float", "A finite number > 0.")
unit_float = _checked(_finite, lambda v: 0.0 <= v <= 1.0, "unit_float", "A number in [0, 1].")


def text(value: str) -> str:
    """A value that is not empty or blank."""
    if not value.strip():
        raise ValueError(value)
    return value


def comma_list(value: str) -> list[str]:
    """Comma-separated items, blanks dropped; at least one."""
    items = [part.strip() for part in value.split(",") if part.strip()]
    if not items:
        raise ValueError(value)
    return items


def devices(value: str) -> str:
    """'cpu', 'all', or GPU ids like '0,1'."""
    value = value.strip().lower()
    if value in ("cpu", "all"):
        return value
    ids = value.split(",")
    if not all(part.strip().isdigit() for part in ids):
        raise ValueError(value)
    return ",".join(part.strip() for part in ids)
