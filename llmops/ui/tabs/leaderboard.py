"""Leaderboard tab: Bradley–Terry ratings with intervals, win-rate heatmap, votes over time, separation."""

from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from ...errors import LLMOpsError
from ...i18n import t
from ...services import prefs as prefs_service
from ...services import ratings
from ...services.container import Services
from ..i18n import Labels, user_error

SOURCES = ("all", "human", "synthetic")


def _votes(services: Services, source: str):
    votes = services.prefs.read().votes
    return [v for v in votes if source == "all" or v.source == source]


def heatmap(models: list[str], matrix) -> go.Figure:
    """Row model's win rate against the column model."""
    fig = go.Figure(go.Heatmap(z=matrix, x=models, y=models, zmin=0, zmax=1, colorscale="RdBu",
                               hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(height=420, margin={"l": 40, "r": 20, "t": 30, "b": 40}, title="win rate (row beats column)")
    return fig


def timeline(by_day: dict) -> go.Figure:
    """Votes per day."""
    days = sorted(by_day)
    fig = go.Figure(go.Bar(x=days, y=[by_day[d] for d in days]))
    fig.update_layout(height=280, margin={"l": 40, "r": 20, "t": 30, "b": 40}, title="votes per day")
    return fig


def build(services: Services, labels: Labels, lang_state: gr.State) -> None:
    """Draw the tab and wire refresh and the separation estimate."""
    lang = labels.lang
    with gr.Row():
        source = labels(gr.Radio(list(SOURCES), value="all", label=t("ui.lb.source", lang)), "ui.lb.source")
        refresh = labels(gr.Button(t("ui.lb.refresh", lang), variant="primary", scale=0), "ui.lb.refresh",
                         attr="value")
    summary = gr.Markdown()
    table = labels(gr.Dataframe(headers=["model", "rating", "ci_low", "ci_high", "votes"], interactive=False,
                                label=t("ui.lb.table", lang)), "ui.lb.table")
    with gr.Row():
        matrix_plot = gr.Plot()
        time_plot = gr.Plot()
    with gr.Row():
        first = labels(gr.Dropdown([], label=t("ui.lb.first", lang), allow_custom_value=True), "ui.lb.first")
        second = labels(gr.Dropdown([], label=t("ui.lb.second", lang), allow_custom_value=True), "ui.lb.second")
        separate = labels(gr.Button(t("ui.lb.separate", lang), scale=0), "ui.lb.separate", attr="value")
    separation = gr.Markdown()

    def on_refresh(src, lang_now):
        votes = _votes(services, src)
        stats = prefs_service.stats(votes)
        if not votes:
            return t("ui.lb.empty", lang_now), [], None, None, gr.update(choices=[]), gr.update(choices=[])
        board = ratings.leaderboard(votes, rounds=100)
        rows = [[r["model"], round(r["rating"], 1), round(r["ci_low"], 1), round(r["ci_high"], 1), r["votes"]]
                for r in board]
        models, matrix = ratings.win_matrix(votes)
        ids = [r["model"] for r in board]
        text = t("ui.lb.summary", lang_now, total=stats["total"], human=stats["by_source"].get("human", 0),
                 synthetic=stats["by_source"].get("synthetic", 0))
        return (text, rows, heatmap(models, matrix), timeline(stats["by_day"]),
                gr.update(choices=ids, value=ids[0]), gr.update(choices=ids, value=ids[min(1, len(ids) - 1)]))

    def on_separate(a, b, src, lang_now):
        try:
            needed = ratings.votes_to_separate(a, b, _votes(services, src))
        except LLMOpsError as exc:
            raise user_error(exc, lang_now) from exc
        if needed is None:
            return t("prefs.inseparable", lang_now, a=a, b=b)
        if needed == 0:
            return t("prefs.separated", lang_now, a=a, b=b)
        return t("prefs.votes_to_separate", lang_now, n=needed, a=a, b=b)

    refresh.click(on_refresh, [source, lang_state], [summary, table, matrix_plot, time_plot, first, second],
                  api_name="leaderboard")
    separate.click(on_separate, [first, second, source, lang_state], separation, api_name="votes_to_separate")
