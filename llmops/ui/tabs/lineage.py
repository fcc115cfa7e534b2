"""Lineage tab: pick a version (or any artifact) and see where it came from and what came from it."""

from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from ...i18n import t
from ...services.container import Services
from ...services.lineage.service import (
    LAYER_ORDER,
    LineageService,
    LineageView,
    kind_label,
    summary,
)
from ..components import Picker
from ..i18n import Labels
from ..live import Live

TABLE_HEADERS = ["ui.lineage.col.side", "ui.lineage.col.depth", "ui.lineage.col.kind", "ui.lineage.col.id",
                 "ui.lineage.col.details"]
COLORS = {"documents": "#8c564b", "corpus": "#bcbd22", "dataset": "#17becf", "dataset_version": "#1f77b4",
          "base_model": "#7f7f7f", "votes_batch": "#e377c2", "job": "#ff7f0e", "checkpoint": "#ffbb78",
          "model_version": "#2ca02c", "merge_recipe": "#9467bd", "eval_run": "#d62728"}


def figure(view: LineageView, lang: str = "en") -> go.Figure:
    """A layered DAG: one column per depth, one marker trace per kind, hover text with each node's details."""
    nodes = view.nodes()
    columns: dict[int, list[str]] = {}
    for node in sorted(nodes, key=lambda n: (LAYER_ORDER.index(n.kind) if n.kind in LAYER_ORDER else 99, n.id)):
        columns.setdefault(view.depth.get(node.id, 0), []).append(node.id)
    where = {node_id: (depth, -row + (len(ids) - 1) / 2) for depth, ids in columns.items()
             for row, node_id in enumerate(ids)}
    fig = go.Figure()
    xs, ys = [], []
    for edge in view.edges:
        (x0, y0), (x1, y1) = where[edge.parent], where[edge.child]
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#bbbbbb", "width": 1}, hoverinfo="skip",
                             showlegend=False, name="edges"))
    for kind in LAYER_ORDER:
        members = [n for n in nodes if n.kind == kind]
        if not members:
            continue
        hover = [f"<b>{n.id}</b><br>{kind_label(n.kind, lang)}<br>{summary(n)}" for n in members]
        sizes = [20 if n.id == view.node.id else 12 for n in members]
        fig.add_trace(go.Scatter(x=[where[n.id][0] for n in members], y=[where[n.id][1] for n in members],
                                 mode="markers+text", text=[n.id for n in members], textposition="top center",
                                 hovertext=hover, hoverinfo="text", name=kind_label(kind, lang),
                                 customdata=[n.id for n in members],
                                 marker={"size": sizes, "color": COLORS.get(kind, "#333333")}))
    fig.update_layout(height=max(360, 70 * max((len(ids) for ids in columns.values()), default=1)),
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="closest",
                      title=t("lineage.text.title", lang, id=view.node.id, kind=kind_label(view.node.kind, lang)),
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def table_rows(view: LineageView, lang: str = "en") -> list[list]:
    """The layered table: ancestors by kind, the artifact itself, then what came from it."""
    rows = []
    for side in ("up", "down"):
        if side == "down":
            rows.append([t("ui.lineage.side.self", lang), view.depth.get(view.node.id, 0),
                         kind_label(view.node.kind, lang), view.node.id, summary(view.node)])
        for kind, nodes in view.layers(side):
            rows.extend([t(f"ui.lineage.side.{side}", lang), view.depth.get(n.id, 0), kind_label(kind, lang), n.id,
                         summary(n)] for n in nodes)
    return rows


def show(service: LineageService, ref: str | None, down: bool, lang: str) -> list:
    """Figure, table, command and JSON for `ref`; an empty pick shows a hint instead of an error."""
    if not ref:
        return [None, [], t("ui.lineage.empty", lang), {}]
    view = service.view(ref, down=bool(down))
    command = f"`python -m llmops lineage {view.node.id}{' --down' if down else ''} --json`"
    return [figure(view, lang), table_rows(view, lang), f"{t('ui.lineage.command', lang)}: {command}",
            view.to_dict()]


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the tab; the picker follows the registry, the view follows the picker."""
    service = LineageService(services.settings)
    labels.make(gr.Markdown, "ui.lineage.intro", attr="value")
    with gr.Row():
        picked = labels.make(Picker, "ui.lineage.pick", allow_custom_value=True)
        down = labels.make(gr.Checkbox, "ui.lineage.down", value=True)
        go_button = labels.make(gr.Button, "ui.lineage.show", variant="primary", scale=0, attr="value")
    plot = labels.make(gr.Plot, "ui.lineage.graph")
    table = labels.make(gr.Dataframe, "ui.lineage.table", headers=TABLE_HEADERS, interactive=False, wrap=True)
    command = gr.Markdown()
    as_json = gr.JSON(visible=False)
    outputs = [plot, table, command, as_json]

    def on_show(ref, down_now, lang_now):
        return show(service, ref, down_now, lang_now)

    def default_pick(choices):
        current = services.models.default()
        return current.id if current and current.id in choices else next((c for c in choices if "@" in c), None)

    live.picker(picked, lambda lang_now: service.choices(), topics=("models",), default=default_pick)
    go_button.click(on_show, [picked, down, lang_state], outputs, api_name="lineage")
    picked.change(on_show, [picked, down, lang_state], outputs, api_name="lineage_pick")
