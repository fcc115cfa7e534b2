"""Plotly figures built from service results."""

from __future__ import annotations

import itertools

import plotly.graph_objects as go

from ..i18n import t
from ..services.jobs import Progress


def loss_figure(progress: Progress, title: str = "", lang: str = "en") -> go.Figure:
    """Loss and eval loss on one axis; DPO reward accuracy on a second axis when present."""
    fig = go.Figure()
    if progress.steps:
        fig.add_trace(go.Scatter(x=progress.steps, y=progress.loss, mode="lines+markers",
                                 name=t("ui.chart.loss", lang)))
    if progress.eval_steps:
        fig.add_trace(go.Scatter(x=progress.eval_steps, y=progress.eval_loss, mode="lines+markers",
                                 name=t("ui.chart.eval_loss", lang)))
    accuracy = [(s, a) for s, a in zip(progress.steps, progress.accuracy, strict=False) if a is not None]
    if accuracy:
        fig.add_trace(go.Scatter(x=[s for s, _ in accuracy], y=[a for _, a in accuracy], mode="lines",
                                 name=t("ui.chart.accuracy", lang), yaxis="y2"))
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "range": [0, 1],
                                  "title": t("ui.chart.accuracy", lang)})
    if not accuracy:
        _grpo_traces(fig, progress, lang)
    fig.update_layout(title=title, xaxis_title=t("ui.chart.step", lang), yaxis_title=t("ui.chart.loss", lang),
                      height=320, margin={"l": 40, "r": 40, "t": 40, "b": 40}, legend={"orientation": "h"})
    return fig


def _grpo_traces(fig: go.Figure, progress: Progress, lang: str) -> None:
    """GRPO's mean reward and KL on a second axis, its completion length on a third (only where logged)."""
    series = (("reward", "ui.chart.grpo_reward", "y2"), ("kl", "ui.chart.grpo_kl", "y2"),
              ("completion_length", "ui.chart.grpo_length", "y3"))
    for attr, key, axis in series:
        points = [(s, v) for s, v in zip(progress.steps, getattr(progress, attr, []), strict=False) if v is not None]
        if points:
            fig.add_trace(go.Scatter(x=[s for s, _ in points], y=[v for _, v in points], mode="lines+markers",
                                     name=t(key, lang), yaxis=axis))
            layout = {"overlaying": "y", "side": "right"}
            if axis == "y3":
                layout.update(anchor="free", position=1.0, showgrid=False, title=t(key, lang))
            fig.update_layout({"yaxis2" if axis == "y2" else "yaxis3": layout})


def histogram_figure(histogram: dict, title: str, lang: str, x_key: str = "ui.chart.tokens",
                     y_key: str = "ui.chart.count") -> go.Figure:
    """Bars from {'bins': edges, 'counts': counts} (len(edges) == len(counts) + 1)."""
    edges, counts = histogram.get("bins") or [], histogram.get("counts") or []
    centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    widths = [b - a for a, b in itertools.pairwise(edges)]
    fig = go.Figure(go.Bar(x=centers, y=counts, width=widths, marker_line_width=1,
                           hovertemplate="%{x:.0f}: %{y}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=t(x_key, lang), yaxis_title=t(y_key, lang), height=300, bargap=0.02,
                      margin={"l": 40, "r": 20, "t": 40, "b": 40})
    return fig
