"""Labels that follow the language switch: each component is registered with its string keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from ..errors import LLMOpsError
from ..i18n import has, t


@dataclass
class _Entry:
    """What to relabel on one component: its label (or value) key, help key, choice and header keys."""

    component: Any
    key: str | None
    info: str | None
    attr: str
    choices: list[tuple[str, Any]] | None = None
    headers: list[str] | None = None


def translated_choices(choices: list[tuple[str, Any]], lang: str) -> list[tuple[str, Any]]:
    """(key, value) pairs as (text in `lang`, value) pairs."""
    return [(t(key, lang), value) for key, value in choices]


@dataclass
class Labels:
    """Remembers each labelled component with its string keys so one event can relabel the whole page."""

    lang: str
    entries: list[_Entry] = field(default_factory=list)

    def __call__(self, component, key: str | None, info: str | None = None, attr: str = "label", *,
                 choices: list[tuple[str, Any]] | None = None, headers: list[str] | None = None):
        """Register `component` (already labelled in the start language) and return it, its help text set.

        `choices` are (string key, value) pairs and `headers` string keys, relabelled with the page too.
        """
        self.entries.append(_Entry(component, key, info, attr, choices, headers))
        if info and has(info) and hasattr(component, "info") and not getattr(component, "info", None):
            # Help texts show from the first load, not only after the language is switched.
            component.info = t(info, self.lang)
        return component

    def make(self, cls, key: str | None, *args, info: str | None = None, attr: str = "label",
             choices: list[tuple[str, Any]] | None = None, headers: list[str] | None = None, **kwargs):
        """Create a component labelled in the page's language and register it, in one call."""
        if key is not None:
            kwargs[attr] = t(key, self.lang)
        if info and has(info):
            kwargs["info"] = t(info, self.lang)
        if choices is not None:
            kwargs["choices"] = translated_choices(choices, self.lang)
        if headers is not None:
            kwargs["headers"] = [t(h, self.lang) for h in headers]
        return self(cls(*args, **kwargs), key, info, attr, choices=choices, headers=headers)

    def text(self, key: str) -> str:
        return t(key, self.lang)

    @property
    def components(self) -> list:
        return [entry.component for entry in self.entries]

    def updates(self, lang: str) -> list:
        """One gr.update per registered component, in registration order."""
        result = []
        for entry in self.entries:
            change: dict = {entry.attr: t(entry.key, lang)} if entry.key else {}
            if entry.info and has(entry.info):
                change["info"] = t(entry.info, lang)
            if entry.choices is not None:
                change["choices"] = translated_choices(entry.choices, lang)
            if entry.headers is not None:
                change["headers"] = [t(h, lang) for h in entry.headers]
            result.append(gr.update(**change))
        return result


def user_error(exc: LLMOpsError, lang: str) -> gr.Error:
    """An LLMOpsError as a Gradio error toast (and an API error for scripted clients)."""
    return gr.Error(exc.message(lang), duration=None)
