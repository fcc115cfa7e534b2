"""All user-facing strings, in English and Chinese, looked up by key."""

from __future__ import annotations

import os

from .arena import ARENA
from .chat import CHAT
from .cli import CLI
from .corpus import CORPUS
from .dashboard import DASHBOARD
from .data_registry import DATA_REGISTRY
from .datagen import DATAGEN
from .error_kinds import ERROR_KINDS
from .errors import ERRORS
from .eval_human import EVAL_HUMAN
from .eval_loop import EVAL_LOOP
from .eval_report import EVAL_REPORT
from .eval_runs import EVAL_RUNS
from .eval_sets import EVAL_SETS
from .evaluation import EVALUATION
from .grpo import GRPO
from .jobs import JOBS
from .jobs_admin import JOBS_ADMIN
from .judge import JUDGE
from .leaderboard import LEADERBOARD
from .lineage import LINEAGE
from .message import Lines, Message, render
from .models import MODELS
from .options import OPTIONS
from .pipelines import PIPELINES
from .prefs import PREFS
from .security import SECURITY
from .serving import SERVING
from .stages import STAGES_I18N
from .stores import STORES
from .surgery import SURGERY
from .surgery_ckpt import SURGERY_CKPT
from .surgery_export import SURGERY_EXPORT
from .surgery_merge import SURGERY_MERGE
from .surgery_sweep import SURGERY_SWEEP
from .targets import TARGETS
from .targets_more import TARGETS_MORE
from .targets_ray import TARGETS_RAY
from .targets_ui import TARGETS_UI
from .targets_work import SERVE_THERE, TARGETS_WORK, UI_TARGETS_WORK
from .train_api import TRAIN_API
from .training import TRAINING
from .ui import UI
from .ui_data import UI_DATA
from .ui_eval import UI_EVAL
from .ui_live import UI_LIVE
from .ui_loop import UI_LOOP
from .ui_surgery import UI_SURGERY
from .upload_limits import UPLOAD_LIMITS

LANGS = ("en", "zh")


def _merge(*tables: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """One lookup table; a key defined in two tables is a bug, caught at import."""
    merged: dict[str, dict[str, str]] = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:
            raise KeyError(f"string keys defined twice: {sorted(twice)}")
        merged.update(table)
    return merged


_TABLE = _merge(ERRORS, CORPUS, DATA_REGISTRY, DATAGEN, PREFS, MODELS, UI, UI_DATA, UI_LOOP, UI_LIVE, CHAT,
                SECURITY, LEADERBOARD, CLI, UPLOAD_LIMITS, TRAINING,
                OPTIONS, EVALUATION, ARENA, JOBS, STORES,
                TRAIN_API, ERROR_KINDS, EVAL_HUMAN, JUDGE, EVAL_LOOP, EVAL_REPORT, EVAL_RUNS, EVAL_SETS,
                SURGERY, UI_EVAL, SURGERY_EXPORT, SURGERY_CKPT, SURGERY_MERGE, SURGERY_SWEEP, UI_SURGERY,
                LINEAGE, DASHBOARD, STAGES_I18N, GRPO, JOBS_ADMIN, PIPELINES, SERVING, TARGETS, TARGETS_UI,
                TARGETS_RAY, TARGETS_WORK, UI_TARGETS_WORK, SERVE_THERE, TARGETS_MORE)


def t(key: str, lang: str = "en", /, **params) -> str:
    """Return the string for `key` in `lang`, formatted with `params` (messages among them rendered in `lang`).

    An unknown key reads as itself, unless LLMOPS_STRICT_I18N=1 (the tests) makes it a KeyError naming the key."""
    entry = _TABLE.get(key)
    if entry is None:
        if os.environ.get("LLMOPS_STRICT_I18N") == "1":
            raise KeyError(f"missing string key: {key}")
        return key
    text = entry.get(lang) or entry["en"]
    if not params:
        return text
    return text.format(**{k: render(v, lang) if isinstance(v, (Message, Lines)) else v for k, v in params.items()})


def has(key: str) -> bool:
    """True when a string exists for `key`."""
    return key in _TABLE
