"""Data tab: domain corpus, instruction data, mock preferences and the dataset registry, as sub-tabs.

This module holds what the sub-tabs share (error adapter, option validation, figures, pickers) and wires
them together: every action that registers or removes a dataset writes a token into one hidden textbox,
whose change event refreshes every dataset picker and the registry table.
"""

from __future__ import annotations

import contextlib
import itertools
import shlex
import time
from collections.abc import Iterator

import gradio as gr
import plotly.graph_objects as go
import pydantic

from ...errors import LLMOpsError
from ...i18n import t
from ...services.container import Services
from ...services.datagen import PRESET
from ...services.datagen.common import parse_options
from ..i18n import Labels, user_error

SUB_TABS = (("corpus", "ui.data.tab.corpus"), ("gen", "ui.data.tab.gen"), ("mock", "ui.data.tab.mock"),
            ("registry", "ui.data.tab.registry"))


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


def cli(*args: object) -> str:
    """The equivalent `python -m llmops …` command line, quoted for a POSIX shell."""
    return "python -m llmops " + shlex.join(str(a) for a in args)


def histogram_figure(histogram: dict, title: str, x_title: str) -> go.Figure:
    """Bars from {'bins': edges, 'counts': counts} (len(edges) == len(counts) + 1)."""
    edges, counts = histogram.get("bins") or [], histogram.get("counts") or []
    centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    widths = [b - a for a, b in itertools.pairwise(edges)]
    fig = go.Figure(go.Bar(x=centers, y=counts, width=widths, marker_line_width=1,
                           hovertemplate="%{x:.0f}: %{y}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title="count", height=300, bargap=0.02,
                      margin={"l": 40, "r": 20, "t": 40, "b": 40})
    return fig


def pt_choices(services: Services) -> list[str]:
    """Corpus picker: the shipped documents, then registered pre-training datasets (newest names last)."""
    return [PRESET, *services.training.datasets_for_stage("pt")]


def sft_choices(services: Services) -> list[str]:
    """Registered datasets an SFT run (and mock preferences) can read."""
    return services.training.datasets_for_stage("sft")


def build(services: Services, labels: Labels, lang_state: gr.State) -> None:
    """The whole tab; call inside a gr.Tab."""
    # The sub-tab modules import the helpers above, so they are imported once this module is complete.
    from . import data_corpus, data_gen, data_registry

    lang = labels.lang
    changed = gr.Textbox(visible=False)
    with gr.Tabs():
        with labels(gr.Tab(t("ui.data.tab.corpus", lang), id="data-corpus"), "ui.data.tab.corpus"):
            data_corpus.build(services, labels, lang_state, changed)
        with labels(gr.Tab(t("ui.data.tab.gen", lang), id="data-gen"), "ui.data.tab.gen"):
            corpus_picker = data_gen.build_instructions(services, labels, lang_state, changed)
        with labels(gr.Tab(t("ui.data.tab.mock", lang), id="data-mock"), "ui.data.tab.mock"):
            sft_picker = data_gen.build_mock(services, labels, lang_state)
        with labels(gr.Tab(t("ui.data.tab.registry", lang), id="data-registry"), "ui.data.tab.registry") as tab:
            registry = data_registry.build(services, labels, lang_state, changed)

    def refresh(value, current_lang):
        name = (value or "").partition(":")[2] or None
        pt, sft = pt_choices(services), sft_choices(services)
        return (gr.update(choices=pt, **({"value": name} if name in pt else {})),
                gr.update(choices=sft, **({"value": name} if name in sft else {})),
                *data_registry.table_outputs(services, current_lang, name))

    outputs = [corpus_picker, sft_picker, *registry.table_outputs]
    changed.change(refresh, [changed, lang_state], outputs, api_name="data_refresh", queue=False)
    def listing(current_lang):
        return refresh("", current_lang)

    registry.refresh_button.click(listing, [lang_state], outputs, api_name="data_list", queue=False)
    tab.select(listing, [lang_state], outputs, api_name="data_registry_open", queue=False)
