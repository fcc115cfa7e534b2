"""All user-facing strings, in English and Chinese, looked up by key."""

from __future__ import annotations

from .arena import ARENA
from .corpus import CORPUS
from .data_registry import DATA_REGISTRY
from .datagen import DATAGEN
from .errors import ERRORS
from .models import MODELS
from .prefs import PREFS
from .ui import UI
from .ui_data import UI_DATA
from .ui_loop import UI_LOOP

LANGS = ("en", "zh")
_TABLE: dict[str, dict[str, str]] = {**ERRORS, **CORPUS, **DATA_REGISTRY, **DATAGEN, **PREFS, **MODELS, **UI, **UI_DATA, **UI_LOOP, **ARENA}


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
