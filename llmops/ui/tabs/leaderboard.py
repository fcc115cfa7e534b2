"""Leaderboard tab: Bradley–Terry ratings with intervals, win-rate heatmap, votes per day, separation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from ...i18n import t
from ...services import ratings
from ...services.container import Services
from ..i18n import Labels

SOURCES = ("human", "synthetic", "all")
DEFAULT_SOURCE = "human"  # synthetic pseudo-models (reference@synthetic) only when asked for
COLUMNS = ("ui.lb.col_model", "ui.lb.col_rating", "ui.lb.col_low", "ui.lb.col_high", "ui.lb.col_votes")
_DAY_MS = 86_400_000


@dataclass
class LeaderboardTab:
    """What the page needs to refill the tab: `view(services, *inputs)` returns values for `outputs`."""

    source: gr.Radio
    inputs: list
    outputs: list


def code(model_id: str) -> str:
    """A model id as a Markdown code span, so `demo@v1.0` is never auto-linked as an e-mail address."""
    fence = "``" if "`" in model_id else "`"
    return f"{fence}{model_id}{fence}"


def heatmap(models: list[str], matrix, lang: str = "en") -> go.Figure:
    """Row model's win rate against the column model."""
    fig = go.Figure(go.Heatmap(z=matrix, x=models, y=models, zmin=0, zmax=1, colorscale="RdBu",
                               hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(height=420, margin={"l": 40, "r": 20, "t": 40, "b": 40}, title=t("ui.lb.heatmap_title", lang))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def timeline(by_day: dict[str, int], lang: str = "en") -> go.Figure:
    """Votes per UTC day; ticks fall on whole days, never on hours."""
    days = sorted(by_day)
    fig = go.Figure(go.Bar(x=days, y=[by_day[d] for d in days], hovertemplate="%{x|%Y-%m-%d}: %{y}<extra></extra>"))
    span = (date.fromisoformat(days[-1]) - date.fromisoformat(days[0])).days + 1 if days else 1
    fig.update_layout(height=280, margin={"l": 40, "r": 20, "t": 40, "b": 40}, title=t("ui.lb.timeline_title", lang),
                      bargap=0.1)
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d", tick0=days[0] if days else None,
                     dtick=_DAY_MS * max(1, math.ceil(span / 10)), title=t("ui.lb.axis_day", lang))
    fig.update_yaxes(title=t("ui.lb.axis_votes", lang), rangemode="tozero")
    return fig


def _source_filter(source: str) -> str | None:
    return None if source == "all" else source


def view(services: Services, source: str, lang: str) -> list:
    """The tab's outputs (summary, table, heatmap, timeline, both pickers) for one vote source, in `lang`."""
    # From the incremental counts: cheap enough for page load, tab select and every change of the votes.
    counts = services.prefs.aggregates()
    picked = _source_filter(source if source in SOURCES else DEFAULT_SOURCE)
    pair_counts = counts.pair_counts(picked)
    every = counts.stats()
    notes = [t("ui.lb.summary", lang, total=every["total"], human=every["by_source"].get("human", 0),
               synthetic=every["by_source"].get("synthetic", 0))]
    if counts.duplicates:
        notes.append(t("ui.lb.duplicates", lang, n=counts.duplicates))
    if counts.problem_count:
        notes.append(t("ui.lb.problems", lang, n=counts.problem_count))
    columns = [t(key, lang) for key in COLUMNS]
    if not pair_counts.models:
        notes.insert(0, t("ui.lb.empty", lang))
        empty = gr.update(choices=[], value=None)
        return ["\n\n".join(notes), pd.DataFrame(columns=columns), None, None, empty, empty]
    board = ratings.leaderboard(pair_counts, rounds=100)
    rows = [[r["model"], round(r["rating"], 1), round(r["ci_low"], 1), round(r["ci_high"], 1), r["votes"]]
            for r in board]
    ids = [r["model"] for r in board]
    models, matrix = ratings.win_matrix(pair_counts, order=ids)
    shown = counts.stats(picked)
    notes.insert(1, t("ui.lb.shown", lang, source=t(f"ui.lb.src_{source if source in SOURCES else DEFAULT_SOURCE}",
                                                     lang), n=shown["total"]))
    return ["\n\n".join(notes), pd.DataFrame(rows, columns=columns), heatmap(models, matrix, lang),
            timeline(shown["by_day"], lang), gr.update(choices=ids, value=ids[0]),
            gr.update(choices=ids, value=ids[min(1, len(ids) - 1)])]


def separation(services: Services, a: str, b: str, source: str, lang: str) -> str:
    """How many more votes between `a` and `b` would separate their intervals, as a sentence."""
    counts = services.prefs.aggregates().pair_counts(_source_filter(source))
    needed = ratings.votes_to_separate(a, b, counts)
    if needed is None:
        return t("prefs.inseparable", lang, a=code(a), b=code(b))
    if needed == 0:
        return t("prefs.separated", lang, a=code(a), b=code(b))
    return t("prefs.votes_to_separate", lang, n=needed, a=code(a), b=code(b))


def build(services: Services, labels: Labels, lang_state: gr.State) -> LeaderboardTab:
    """Draw the tab; the source filter applies on change, Refresh re-reads the log's new votes."""
    with gr.Row():
        source = labels.make(gr.Radio, "ui.lb.source", choices=[(f"ui.lb.src_{s}", s) for s in SOURCES],
                             value=DEFAULT_SOURCE)
        refresh = labels.make(gr.Button, "ui.lb.refresh", variant="primary", scale=0, attr="value")
    summary = gr.Markdown()
    # Plain-text cells: a markdown cell would turn an id like demo@v1.0 into a mailto link.
    table = labels.make(gr.Dataframe, "ui.lb.table", headers=list(COLUMNS), interactive=False,
                        datatype=["str", "number", "number", "number", "number"])
    with gr.Row():
        matrix_plot = labels.make(gr.Plot, "ui.lb.heatmap")
        time_plot = labels.make(gr.Plot, "ui.lb.timeline")
    with gr.Row():
        first = labels.make(gr.Dropdown, "ui.lb.first", [], allow_custom_value=True)
        second = labels.make(gr.Dropdown, "ui.lb.second", [], allow_custom_value=True)
        separate = labels.make(gr.Button, "ui.lb.separate", scale=0, attr="value")
    separation_text = gr.Markdown()
    outputs = [summary, table, matrix_plot, time_plot, first, second]

    def on_view(src, lang_now):
        return view(services, src, lang_now)

    def on_separate(a, b, src, lang_now):
        return separation(services, a, b, src, lang_now)

    refresh.click(on_view, [source, lang_state], outputs, api_name="leaderboard")
    source.change(on_view, [source, lang_state], outputs, api_name="leaderboard_source")
    separate.click(on_separate, [first, second, source, lang_state], separation_text, api_name="votes_to_separate")
    return LeaderboardTab(source=source, inputs=[source, lang_state], outputs=outputs)
