"""Helpers every tab shares: the error adapter, option validation, name guards and the CLI echo."""

from __future__ import annotations

import contextlib
import functools
import inspect
import shlex
import time
from collections.abc import Iterator

import gradio as gr
import pydantic

from ..errors import LLMOpsError
from ..i18n import t
from ..services.datagen.common import parse_options
from .i18n import user_error


@contextlib.contextmanager
def guard(lang: str) -> Iterator[None]:
    """Turn an LLMOpsError raised inside the block into a message in the user's language."""
    try:
        yield
    except LLMOpsError as exc:
        raise user_error(exc, lang) from exc


def validated(model: type[pydantic.BaseModel], values: dict) -> pydantic.BaseModel:
    """Build an options model; refused values become one user error naming each field."""
    return parse_options(model, values)


def require_name(name: str | None, lang: str) -> str:
    """The chosen dataset name, or a user error asking for one."""
    if not (name or "").strip():
        raise gr.Error(t("ui.data.pick_dataset", lang))
    return name.strip()


def token(name: str | None = None) -> str:
    """A fresh value for the 'datasets changed' textbox, naming the dataset the pickers should select."""
    return f"{time.time_ns()}:{name or ''}"


def token_name(value: str | None) -> str | None:
    """The dataset a 'datasets changed' token names, if any."""
    return (value or "").partition(":")[2] or None


def cli(*args: object) -> str:
    """The equivalent `python -m llmops …` command line, quoted for a POSIX shell."""
    return "python -m llmops " + shlex.join(str(a) for a in args)


def errors_to_messages(demo: gr.Blocks, lang_state: gr.State, default_lang: str) -> None:
    """The one error path: every event's LLMOpsError becomes a message in the session's language.

    Applied once, where the page's events are wired; a handler (a timer tick included) needs no guard of its
    own, and a user error never reaches the browser as a stack trace.
    """
    for block_fn in demo.fns.values():
        if block_fn.fn is None:
            continue
        index = next((i for i, comp in enumerate(block_fn.inputs) if comp is lang_state), None)
        block_fn.fn = _guarded(block_fn.fn, index, default_lang)


def _guarded(fn, lang_index: int | None, default_lang: str):
    """`fn` with LLMOpsError turned into gr.Error; generators are guarded over every step."""
    def lang_of(args) -> str:
        value = args[lang_index] if lang_index is not None and lang_index < len(args) else None
        return value if value in ("en", "zh") else default_lang

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def stream(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except LLMOpsError as exc:
                raise user_error(exc, lang_of(args)) from exc
        return stream

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LLMOpsError as exc:
            raise user_error(exc, lang_of(args)) from exc
    return call
