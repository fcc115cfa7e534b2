"""The jobs panel: table, status, live log, loss chart and Stop, refreshed by a timer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import gradio as gr

from ...errors import LLMOpsError
from ...i18n import t
from ...services.container import Services
from ..charts import loss_figure
from ..components import Picker
from ..i18n import Labels, user_error

TABLE_HEADERS = ["id", "name", "kind", "status", "progress", "created"]


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
                     time.strftime("%m-%d %H:%M:%S", time.localtime(job.created_at))])
    return rows


def _status_markdown(details, lang: str) -> str:
    job, progress = details.job, details.progress
    lines = [f"**{job.name}** · `{job.id}` · **{job.status.value}**"]
    if progress.total_steps:
        lines.append(t("ui.jobs.progress", lang, step=progress.current_steps, total=progress.total_steps,
                       pct=progress.percentage, elapsed=progress.elapsed or "-", remaining=progress.remaining or "-"))
    if job.exit_code is not None or job.message:
        lines.append(t("ui.jobs.exit", lang, code=job.exit_code, message=job.message or ""))
    if details.failure_tail:
        lines.append("```\n" + details.failure_tail + "\n```")
    lines.append(f"`{job.run_dir}`")
    return "\n\n".join(lines)


def refresh(services: Services, selected: str | None, lang: str):
    """Table, selector, status, chart and log for the selected (or newest) job."""
    rows = _rows(services)
    ids = [row[0] for row in rows]
    if selected not in ids:
        selected = ids[0] if ids else None
    if selected is None:
        return rows, gr.update(choices=ids, value=None), t("ui.jobs.none", lang), None, "", gr.update(interactive=False)
    details = services.jobs.details(selected)
    figure = loss_figure(details.progress, details.job.name, lang) if details.progress.has_points else None
    # Stop is offered only while there is something to stop.
    stoppable = gr.update(interactive=not details.job.status.finished)
    return (rows, gr.update(choices=ids, value=selected), _status_markdown(details, lang), figure,
            details.log_tail, stoppable)


def build(services: Services, labels: Labels, lang_state: gr.State) -> JobsPanel:
    """Draw the panel and wire refresh, selection, stop and the timer."""
    lang = labels.lang
    with gr.Group():
        labels(gr.Markdown(f"### {t('ui.jobs.title', lang)}"), "ui.jobs.title_md", attr="value")
        table = labels(gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True,
                                    label=t("ui.jobs.table", lang)), "ui.jobs.table")
        with gr.Row():
            selected = labels(Picker(scale=3, label=t("ui.jobs.select", lang)), "ui.jobs.select")
            refresh_btn = labels(gr.Button(t("ui.jobs.refresh", lang), scale=1), "ui.jobs.refresh", attr="value")
            stop_btn = labels(gr.Button(t("ui.jobs.stop", lang), variant="stop", scale=1), "ui.jobs.stop",
                              attr="value")
        status = gr.Markdown()
        with gr.Row():
            plot = labels(gr.Plot(label=t("ui.jobs.chart", lang)), "ui.jobs.chart")
            log = labels(gr.Textbox(label=t("ui.jobs.log", lang), lines=14, max_lines=14, autoscroll=True,
                                    interactive=False), "ui.jobs.log")
    panel = JobsPanel(selected, table, status, plot, log, stop_btn)

    def on_refresh(job_id, current_lang):
        return refresh(services, job_id, current_lang)

    def on_stop(job_id, current_lang):
        if not job_id:
            raise gr.Error(t("ui.jobs.none", current_lang))
        try:
            services.jobs.stop(job_id)
        except LLMOpsError as exc:
            raise user_error(exc, current_lang) from exc
        return refresh(services, job_id, current_lang)

    refresh_btn.click(on_refresh, [selected, lang_state], panel.outputs, api_name="refresh_jobs", queue=False)
    selected.input(on_refresh, [selected, lang_state], panel.outputs, api_name="select_job", queue=False)
    stop_btn.click(on_stop, [selected, lang_state], panel.outputs, api_name="stop_job")
    timer = gr.Timer(2.0)
    timer.tick(on_refresh, [selected, lang_state], panel.outputs, api_name="poll_jobs", queue=False,
               show_progress="hidden")
    return panel
