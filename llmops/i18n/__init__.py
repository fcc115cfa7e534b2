"""All user-facing strings, in English and Chinese, looked up by key."""

from __future__ import annotations

from .corpus import CORPUS
from .errors import ERRORS
from .prefs import PREFS
from .ui import UI

LANGS = ("en", "zh")
_TABLE: dict[str, dict[str, str]] = {**ERRORS, **CORPUS, **PREFS, **UI}


def t(key: str, lang: str = "en", /, **params) -> str:
    """Return the string for `key` in `lang`, formatted with `params`; the key itself if unknown."""
    entry = _TABLE.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**params) if params else text


def has(key: str) -> bool:
    """True when a string exists for `key`."""
    return key in _TABLE
