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
    _stage_metrics(fig, progress, lang, beside_accuracy=bool(accuracy))
    fig.update_layout(title=title, xaxis_title=t("ui.chart.step", lang), yaxis_title=t("ui.chart.loss", lang),
                      height=320, margin={"l": 40, "r": 40, "t": 40, "b": 40}, legend={"orientation": "h"})
    return fig


def _stage_metrics(fig: go.Figure, progress: Progress, lang: str, beside_accuracy: bool) -> None:
    """Rewards, margins and KL on their own right-hand axis (their scale is not the loss's)."""
    axis = "y3" if beside_accuracy else "y2"
    drawn = False
    for name, points in progress.metrics.items():
        if not points:
            continue
        fig.add_trace(go.Scatter(x=[s for s, _ in points], y=[v for _, v in points], mode="lines+markers",
                                 name=t(f"ui.chart.{name}", lang), yaxis=axis, meta=name))
        drawn = True
    if drawn:
        layout = {"overlaying": "y", "side": "right"}
        if beside_accuracy:
            layout["anchor"] = "free"
            layout["position"] = 1.0
        fig.update_layout({"yaxis3" if beside_accuracy else "yaxis2": layout})


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


_CURVE_KEYS = {"loss": "ui.chart.loss", "eval_loss": "ui.chart.eval_loss", "reward": "ui.chart.reward"}


def compare_figure(curves: list, lang: str = "en") -> go.Figure:
    """Every run's loss, eval loss and reward overlaid on one figure (reward on a second axis)."""
    fig = go.Figure()
    dashes = {"loss": "solid", "eval_loss": "dash", "reward": "dot"}
    for run in curves:
        for name, (steps, values) in run.series.items():
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers", line={"dash": dashes.get(name, "solid")},
                                     name=f"{run.name} · {t(_CURVE_KEYS.get(name, 'ui.chart.loss'), lang)}",
                                     yaxis="y2" if name == "reward" else "y"))
    if any("reward" in run.series for run in curves):
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "title": t("ui.chart.reward", lang)})
    fig.update_layout(xaxis_title=t("ui.chart.step", lang), yaxis_title=t("ui.chart.loss", lang), height=360,
                      margin={"l": 40, "r": 40, "t": 30, "b": 40}, legend={"orientation": "h"})
    return fig
