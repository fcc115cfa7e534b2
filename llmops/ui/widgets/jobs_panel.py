"""The jobs panel: table, status, live log, loss chart and Stop, refreshed by a timer."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import gradio as gr

from ...i18n import has, t
from ...schemas.jobs import Job
from ...services.container import Services
from ...services.jobs import JobDetails
from ..charts import loss_figure
from ..components import Picker
from ..i18n import Labels

TABLE_HEADERS = ["ui.col.id", "ui.col.name", "ui.col.kind", "ui.col.status", "ui.col.progress", "ui.col.created",
                 "ui.col.where"]


@dataclass
class JobsPanel:
    """Handles other tabs need: select a job after launching it."""

    selected: gr.Dropdown
    table: gr.Dataframe
    status: gr.Markdown
    plot: gr.Plot
    log: gr.Textbox
    stop: gr.Button

    @property
    def outputs(self) -> list:
        return [self.table, self.selected, self.status, self.plot, self.log, self.stop]


def _rows(services: Services) -> list[list]:
    rows = []
    for job, progress in services.jobs.with_progress(50):
        step = services.jobs.progress_cell(job, progress)
        rows.append([job.id, job.name, job.kind, job.status.value, step,
                     time.strftime("%m-%d %H:%M:%S", time.localtime(job.created_at)),
                     job.meta.get("target") or "local"])
    return rows


def _status_markdown(services: Services, details, lang: str) -> str:
    job, progress = details.job, details.progress
    lines = [f"**{job.name}** · `{job.id}` · **{job.status.value}**"]
    if progress.total_steps:
        lines.append(t("ui.jobs.progress", lang, step=progress.current_steps, total=progress.total_steps,
                       pct=progress.percentage, elapsed=progress.elapsed or "-", remaining=progress.remaining or "-"))
    elif details.work.total:
        work = details.work
        lines.append(t("jobs.progress", lang, stage=stage_name(work.stage, lang), done=work.done, total=work.total,
                       pct=work.percentage))
    if job.exit_code is not None or job.message:
        lines.append(t("ui.jobs.exit", lang, code=job.exit_code, message=job.message or ""))
    # A training's failure is its exit line and log tail; other kinds (and any failed completion) say why.
    explain = job.status.finished and (job.kind != "train" or job.apply_error)
    failure = services.jobs.failure(job, lang) if explain else ""
    if failure:
        lines.append(failure)
    if details.failure_tail:
        lines.append("```\n" + details.failure_tail + "\n```")
    lines.append(f"`{job.run_dir}`")
    return "\n\n".join(lines)


def refresh(services: Services, selected: str | None, lang: str, pick: bool = True):
    """Table, selector, status, chart and log for the selected (or newest) job. Without `pick` (the timer) the
    selector's value is sent only when the selected job is gone: a tick that was already on its way when a launch
    selected the new job must not put the old pick back."""
    rows = _rows(services)
    ids = [row[0] for row in rows]
    gone = selected not in ids
    if gone:
        selected = ids[0] if ids else None
    picker = gr.update(choices=ids, value=selected) if pick or gone else gr.update(choices=ids)
    if selected is None:
        return rows, picker, t("ui.jobs.none", lang), None, "", gr.update(interactive=False)
    details = services.jobs.details(selected)
    figure = loss_figure(details.progress, details.job.name, lang) if details.progress.has_points else None
    # Stop is offered only while there is something to stop.
    stoppable = gr.update(interactive=not details.job.status.finished)
    return rows, picker, _status_markdown(services, details, lang), figure, details.log_tail, stoppable


def build(services: Services, labels: Labels, lang_state: gr.State) -> JobsPanel:
    """Draw the panel and wire refresh, selection, stop and the timer."""
    with gr.Group():
        labels.make(gr.Markdown, "ui.jobs.title_md", attr="value")
        table = labels.make(gr.Dataframe, "ui.jobs.table", headers=TABLE_HEADERS, interactive=False, wrap=True)
        with gr.Row():
            selected = labels.make(Picker, "ui.jobs.select", scale=3)
            refresh_btn = labels.make(gr.Button, "ui.jobs.refresh", scale=1, attr="value")
            stop_btn = labels.make(gr.Button, "ui.jobs.stop", variant="stop", scale=1, attr="value")
        status = gr.Markdown()
        with gr.Row():
            plot = labels.make(gr.Plot, "ui.jobs.chart")
            log = labels.make(gr.Textbox, "ui.jobs.log", lines=14, max_lines=14, autoscroll=True, interactive=False)
    panel = JobsPanel(selected, table, status, plot, log, stop_btn)

    def on_refresh(job_id, current_lang):
        return refresh(services, job_id, current_lang)

    def on_stop(job_id, current_lang):
        if not job_id:
            raise gr.Error(t("ui.jobs.none", current_lang))
        services.jobs.stop(job_id)
        return refresh(services, job_id, current_lang)

    refresh_btn.click(on_refresh, [selected, lang_state], panel.outputs, api_name="refresh_jobs", queue=False)
    selected.input(on_refresh, [selected, lang_state], panel.outputs, api_name="select_job", queue=False)
    stop_btn.click(on_stop, [selected, lang_state], panel.outputs, api_name="stop_job")
    def on_tick(job_id, current_lang):
        return refresh(services, job_id, current_lang, pick=False)

    timer = gr.Timer(2.0)
    timer.tick(on_tick, [selected, lang_state], panel.outputs, api_name="poll_jobs", queue=False,
               show_progress="hidden")
    return panel


# --- the compact job widget: one running job of a tab, its progress, log and Stop ------------------------------


@dataclass
class JobWidget:
    """A tab's own job: the id (per browser session), a status line, the log and Stop."""

    job: gr.State
    status: gr.Markdown
    log: gr.Textbox
    stop: gr.Button


def stage_name(stage: str, lang: str) -> str:
    """A worker's stage in the user's language (corpus steps have their own names)."""
    for key in (f"jobs.stage.{stage}", f"corpus.step.{stage}"):
        if has(key):
            return t(key, lang)
    return stage


def job_line(services: Services, job_id: str | None, lang: str) -> str:
    """Status, progress and outcome of one job, for the widget."""
    if not job_id:
        return t("ui.jobw.none", lang)
    details = services.jobs.details(job_id, log_lines=1)
    job, work = details.job, details.work
    kind = t(f"jobs.kind.{job.kind}", lang)
    lines = [t("jobs.status_line", lang, job_id=job.id, kind=kind, status=job.status.value)]
    if work.total:
        lines.append(t("jobs.progress", lang, stage=stage_name(work.stage, lang), done=work.done, total=work.total,
                       pct=work.percentage))
    if job.status.finished:
        error = services.jobs.failure(job, lang)
        if error:
            lines.append(error)
        elif job.applied_at:
            lines.append(t("jobs.applied", lang))
        else:
            lines.append(t("jobs.apply_pending", lang))
    lines.append(f"`{job.run_dir}`")
    return "\n\n".join(lines)


def job_widget(services: Services, labels: Labels, lang_state: gr.State, name: str) -> JobWidget:
    """Draw the widget; its timer only reads (the reconciler applies results, never this page)."""
    lang = labels.lang
    job = gr.State(None)
    with labels.make(gr.Accordion, "ui.jobw.title", open=False):
        with gr.Row():
            status = gr.Markdown(t("ui.jobw.none", lang))
            stop = labels.make(gr.Button, "ui.jobw.stop", variant="stop", scale=0, attr="value")
        log = labels.make(gr.Textbox, "ui.jobw.log", lines=8, max_lines=8, autoscroll=True, interactive=False)

    def show(job_id, lang_now):
        if not job_id:
            return gr.skip(), gr.skip()
        return job_line(services, job_id, lang_now), services.jobs.details(job_id, 60).log_tail

    def on_stop(job_id, lang_now):
        if job_id and not services.jobs.get(job_id).status.finished:
            services.jobs.stop(job_id)
            return t("ui.jobw.stopping", lang_now, job_id=job_id)
        return t("ui.jobw.not_running" if job_id else "ui.jobw.none", lang_now)

    gr.Timer(1.0).tick(show, [job, lang_state], [status, log], api_name=f"{name}_job_poll", queue=False,
                       show_progress="hidden")
    stop.click(on_stop, [job, lang_state], [status], api_name=f"{name}_job_stop", queue=False)
    return JobWidget(job, status, log, stop)


def follow(services: Services, job_id: str, render: Callable[[JobDetails], tuple], poll_s: float = 0.3,
           apply_timeout_s: float = 60.0) -> Generator[tuple, None, Job]:
    """Yield `render(details)` while the job runs; return it finished, its completion recorded by the reconciler
    (`job = yield from follow(...)` in a streaming handler)."""
    while True:
        details = services.jobs.details(job_id, log_lines=1)
        if details.job.status.finished:
            break
        yield render(details)
        time.sleep(poll_s)
    return services.reconciler.wait_applied(job_id, timeout_s=apply_timeout_s, apply_here=False)


def outcome(services: Services, job, lang: str) -> dict:
    """A finished job's result; its failure (the worker's own error, in the user's language) as a gr.Error."""
    error = services.jobs.failure(job, lang)
    if error:
        raise gr.Error(error, duration=None)
    if job.applied_at is None:
        raise gr.Error(t("jobs.apply_pending", lang), duration=None)
    return job.apply_result
