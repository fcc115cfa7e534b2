"""Labels that follow the language switch: each component is registered with its string keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from ..errors import LLMOpsError
from ..i18n import has, t


@dataclass
class Labels:
    """Remembers (component, label key, info key) so one event can relabel the whole page."""

    lang: str
    entries: list[tuple[Any, str, str | None, str]] = field(default_factory=list)

    def __call__(self, component, key: str, info: str | None = None, attr: str = "label"):
        """Register `component` (already labelled in the start language) and return it, its help text set."""
        self.entries.append((component, key, info, attr))
        if info and has(info) and hasattr(component, "info") and not getattr(component, "info", None):
            # Help texts show from the first load, not only after the language is switched.
            component.info = t(info, self.lang)
        return component

    def text(self, key: str) -> str:
        return t(key, self.lang)

    @property
    def components(self) -> list:
        return [entry[0] for entry in self.entries]

    def updates(self, lang: str) -> list:
        """One gr.update per registered component, in registration order."""
        result = []
        for _, key, info, attr in self.entries:
            change = {attr: t(key, lang)}
            if info and has(info):
                change["info"] = t(info, lang)
            result.append(gr.update(**change))
        return result


def user_error(exc: LLMOpsError, lang: str) -> gr.Error:
    """An LLMOpsError as a Gradio error toast (and an API error for scripted clients)."""
    return gr.Error(exc.message(lang), duration=None)
