"""Argument types that refuse out-of-range values at parse time (argparse names them in its message)."""

from __future__ import annotations

import math


def positive_int(text: str) -> int:
    """An integer ≥ 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def non_negative_int(text: str) -> int:
    """An integer ≥ 0."""
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def non_negative_float(text: str) -> float:
    """A finite number ≥ 0."""
    value = _finite(text)
    if value < 0:
        raise ValueError(text)
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _finite(text)
    if value <= 0:
        raise ValueError(text)
    return value


def unit_float(text: str) -> float:
    """A number in [0, 1]."""
    value = _finite(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(text)
    return value


def text(value: str) -> str:
    """A value that is not empty or blank."""
    if not value.strip():
        raise ValueError(value)
    return value


def devices(value: str) -> str:
    """'cpu', 'all', or GPU ids like '0,1'."""
    value = value.strip().lower()
    if value in ("cpu", "all"):
        return value
    ids = value.split(",")
    if not all(part.strip().isdigit() for part in ids):
        raise ValueError(value)
    return ",".join(part.strip() for part in ids)
