"""Plotly figures built from service results."""

from __future__ import annotations

import plotly.graph_objects as go

from ..lf.trainer_log import Progress


def loss_figure(progress: Progress, title: str = "") -> go.Figure:
    """Loss and eval loss on one axis; DPO reward accuracy on a second axis when present."""
    fig = go.Figure()
    if progress.steps:
        fig.add_trace(go.Scatter(x=progress.steps, y=progress.loss, mode="lines+markers", name="loss"))
    if progress.eval_steps:
        fig.add_trace(go.Scatter(x=progress.eval_steps, y=progress.eval_loss, mode="lines+markers", name="eval_loss"))
    accuracy = [(s, a) for s, a in zip(progress.steps, progress.accuracy, strict=False) if a is not None]
    if accuracy:
        fig.add_trace(go.Scatter(x=[s for s, _ in accuracy], y=[a for _, a in accuracy], mode="lines",
                                 name="reward accuracy", yaxis="y2"))
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "range": [0, 1], "title": "accuracy"})
    fig.update_layout(title=title, xaxis_title="step", yaxis_title="loss", height=320,
                      margin={"l": 40, "r": 40, "t": 40, "b": 40}, legend={"orientation": "h"})
    return fig
