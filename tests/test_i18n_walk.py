"""Every string a person sees on the page comes from the string tables, in the page's language."""

from __future__ import annotations

import re

import gradio as gr
import pytest

from llmops.i18n import _TABLE
from llmops.services.container import build_services
from llmops.settings import Settings
from llmops.ui.app import build_app
from llmops.ui.components import ChoiceOrTyped, Picker

# Words that are the same in both languages: names of formats, libraries and units a user types or reads as is.
NEUTRAL = {"English", "中文", "Language / 语言", "YAML", "JSON", "CSV", "XLSX", "URL", "API", "ID"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"[A-Za-z]{3,}")
# What a person types as is: URLs and environment variable names (placeholders show their shape).
_LITERAL = re.compile(r"[a-z]+://\S+|[A-Z][A-Z0-9_]+")


def _patterns(lang: str) -> tuple[set[str], list[re.Pattern]]:
    """Exact strings of `lang` and regexes for those with placeholders."""
    exact, patterns = set(), []
    for entry in _TABLE.values():
        text = entry.get(lang) or entry["en"]
        if _PLACEHOLDER.search(text):
            parts = _PLACEHOLDER.split(text)
            regex = "".join(re.escape(p) if i % 2 == 0 else ".*?" for i, p in enumerate(parts))
            patterns.append(re.compile(regex, re.S))
        else:
            exact.add(text.strip())
    return exact, patterns


def visible_strings(demo: gr.Blocks) -> list[tuple[str, str, str]]:
    """(component, attribute, text) for every label, help text, choice, header, button and static text."""
    found = []
    for block in demo.blocks.values():
        if getattr(block, "visible", True) is False and isinstance(block, gr.Button):
            continue  # a hidden button only names an API endpoint
        texts = [(attr, getattr(block, attr)) for attr in ("label", "info", "placeholder")
                 if isinstance(getattr(block, attr, None), str) and getattr(block, attr)]
        if isinstance(block, (gr.Button, gr.Markdown)) and isinstance(block.value, str) and block.value:
            texts.append(("value", block.value))
        if isinstance(block, (gr.Radio, gr.Dropdown, gr.CheckboxGroup)) and not isinstance(block, (Picker,
                                                                                              ChoiceOrTyped)):
            # These two offer workspace data (dataset names, model ids, checkpoints), not interface strings.
            texts += [("choice", str(c[0])) for c in block.choices or []]
        if isinstance(block, gr.Dataframe) and isinstance(block.value, dict) and "data-grid" not in (
                block.elem_classes or []):
            texts += [("header", str(h)) for h in block.value.get("headers") or []]
        if isinstance(block, gr.Plot) and not block.label:
            texts.append(("label", "Plot"))  # Gradio's own fallback title, never translated
        found += [(f"{type(block).__name__}#{block._id}", attr, text) for attr, text in texts]
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_visible_string_is_from_the_tables(lang, llmops_home):
    demo = build_app(build_services(Settings.from_env(lang=lang)))
    exact, patterns = _patterns(lang)
    other = "en" if lang == "zh" else "zh"
    foreign_exact, _ = _patterns(other)
    bad = []
    for where, attr, text in visible_strings(demo):
        stripped = text.strip()
        if (stripped in exact or stripped in NEUTRAL or _LITERAL.fullmatch(stripped)
                or any(p.fullmatch(stripped) for p in patterns)):
            continue
        if lang == "zh" and not _WORD.search(stripped):
            continue  # no English word in it: numbers, symbols or Chinese that came from data
        if lang == "en" and stripped not in foreign_exact and not re.search(r"[\u4e00-\u9fff]", stripped):
            continue
        bad.append(f"{where}.{attr}: {stripped[:70]!r}")
    assert not bad, f"{len(bad)} strings not from the {lang} tables:\n" + "\n".join(sorted(bad))


def test_help_texts_show_on_first_load(llmops_home):
    demo = build_app(build_services(Settings.from_env(lang="zh")))
    infos = [b.info for b in demo.blocks.values() if isinstance(getattr(b, "info", None), str) and b.info]
    assert len(infos) > 10 and all(not _WORD.fullmatch(i) for i in infos)
