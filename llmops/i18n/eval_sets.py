"""Strings that describe an evaluation set's state in listings (rendered by the reader, in its language)."""

from __future__ import annotations

EVAL_SETS: dict[str, dict[str, str]] = {
    "ev.set_problems": {
        "en": "{count} problem(s); the first: {first}",
        "zh": "{count} 个问题；第一个：{first}",
    },
}
