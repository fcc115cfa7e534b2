"""Surgery > Merge-ratio sweep: two versions, a grid, a set and a metric; Start queues one job, a live plot of the
points so far marks the best, Stop keeps the points done."""

from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from ...i18n import t
from ...services.container import Services
from ...services.evaluation import metrics as registry
from ...services.surgery import sweep as sw
from ..choices import version_ids
from ..components import Picker
from ..i18n import Labels
from ..live import Live
from . import targets

TICK_S = 2.0
METHODS = ("linear", "slerp")


def metric_choices(lang: str) -> list[tuple[str, str]]:
    """Every registered metric by its display name."""
    return [(m["display"], m["name"]) for m in registry.describe_all(lang)]


def sweep_figure(points: list[dict], lang: str, metric: str = "perplexity") -> go.Figure:
    """Score against ratio, the points so far in grid order, the best one marked by the metric's direction."""
    fig = go.Figure()
    scored = sorted((p for p in points if p.get("score") is not None), key=lambda p: p["ratio"])
    name = registry.get(metric).display(lang)
    if scored:
        fig.add_trace(go.Scatter(x=[p["ratio"] for p in scored], y=[p["score"] for p in scored],
                                 mode="lines+markers", name=name))
        best = sw.best_point(scored, metric)
        fig.add_trace(go.Scatter(x=[best["ratio"]], y=[best["score"]], mode="markers",
                                 marker={"size": 16, "symbol": "star"}, name=t("ui.sgw.best_marker", lang)))
    fig.update_layout(title=t("ui.sgw.plot", lang), xaxis_title=t("ui.sgw.ratio", lang), yaxis_title=name,
                      height=320, margin={"l": 40, "r": 40, "t": 40, "b": 40}, legend={"orientation": "h"})
    return fig


def status(services: Services, sweep_id: str | None, job_id: str | None, lang: str) -> tuple[str, go.Figure, bool]:
    """The sweep's status line, its plot and whether its job is still running."""
    if not sweep_id:
        return t("ui.sgw.idle", lang), sweep_figure([], lang), False
    shown = sw.read_sweep(services.settings, sweep_id)
    job = services.jobs.get(job_id) if job_id else None
    running = job is not None and not job.status.finished
    text = t("ui.sgw.status", lang, sweep=sweep_id, done=len(shown["points"]), total=len(shown["config"]["grid"]),
             status=job.status.value if job else "-")
    return text, sweep_figure(shown["points"], lang, shown["config"]["metric"]), running


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """The sweep section (placed inside the Surgery tab)."""
    labels.make(gr.Markdown, "ui.sgw.help", attr="value")
    with gr.Row():
        model_a = labels.make(Picker, "ui.sgw.model_a")
        model_b = labels.make(Picker, "ui.sgw.model_b")
        method = labels.make(gr.Dropdown, "ui.sgw.method", value="linear",
                             choices=[(f"ui.sgw.method.{name}", name) for name in METHODS])
    live.picker(model_a, lambda lang: version_ids(services), topics=("models",))
    live.picker(model_b, lambda lang: version_ids(services), topics=("models",))
    with gr.Row():
        grid = labels.make(gr.Textbox, "ui.sgw.grid", value=sw.DEFAULT_GRID)
        set_name = labels.make(Picker, "ui.sgw.set")
        metric = labels.make(gr.Dropdown, "ui.sgw.metric", metric_choices(labels.lang), value="perplexity")
    # The registry is code: its choices exist at build; only their names follow the page's language.
    live.add([metric], lambda lang: [gr.update(choices=metric_choices(lang))], topics=("configs",))
    live.picker(set_name, lambda lang: [s.name for s in services.evals.sets.list()], topics=("evals", "datasets"))
    with gr.Row():
        keep_all = labels.make(gr.Checkbox, "ui.sgw.keep_all", value=False)
        name = labels.make(gr.Textbox, "ui.sgw.name")
        run_on = targets.run_on_picker(services, labels, live)
    with gr.Row():
        start = labels.make(gr.Button, "ui.sgw.start", attr="value", variant="primary")
        stop = labels.make(gr.Button, "ui.sgw.stop", attr="value", variant="stop")
    text = gr.Markdown()
    plot = labels.make(gr.Plot, "ui.sgw.plot")
    sweep_id = gr.Textbox(visible=False)  # the sweep and its job, for the timer and for scripted callers
    job_id = gr.Textbox(visible=False)
    timer = gr.Timer(TICK_S, active=False)

    def do_start(a, b, method_, grid_, set_, metric_, keep, name_, target, lang):
        plan = sw.plan_sweep(services.settings, method_, [a or "", b or ""], set_ or "", grid=grid_, metric=metric_,
                             keep_all=bool(keep), name=(name_ or "").strip() or None)
        job = sw.start_sweep(services.jobs, plan, target or None)
        note = t("ui.sgw.started", lang, sweep=plan.sweep_id, job=job.id, points=len(plan.params.points),
                 models=plan.models_at_once, disk=f"{plan.disk_bytes / 1024**2:.1f} MB")
        return [note, sweep_figure([], lang, plan.params.metric), plan.sweep_id, job.id, gr.Timer(active=True)]

    def tick(sweep, job, lang):
        line, figure, running = status(services, sweep, job, lang)
        return [line, figure, gr.Timer(active=running)]

    def do_stop(sweep, job, lang):
        if job:
            services.jobs.stop(job)
        line, figure, running = status(services, sweep, job, lang)
        note = t("ui.sgw.stopping", lang, job=job) if job else line
        return [f"{note}\n\n{line}" if job else note, figure, gr.Timer(active=running)]

    form = [model_a, model_b, method, grid, set_name, metric, keep_all, name, run_on, lang_state]
    start.click(do_start, form, [text, plot, sweep_id, job_id, timer], api_name="surgery_sweep_start")
    timer.tick(tick, [sweep_id, job_id, lang_state], [text, plot, timer], api_name="surgery_sweep_tick",
               queue=False, show_progress="hidden")
    stop.click(do_stop, [sweep_id, job_id, lang_state], [text, plot, timer], api_name="surgery_sweep_stop")
    gr.Button(visible=False).click(tick, [sweep_id, job_id, lang_state], [text, plot, timer],
                                   api_name="surgery_sweep_status", queue=False)
