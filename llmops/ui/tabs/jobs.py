"""Jobs tab: any job's log (search, level filter, follow, download), runs compared, restart and delete."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from ...i18n import t
from ...services import jobs_logs
from ...services.container import Services
from ...services.jobs_admin import deleted_text, plan_text, restart_text
from ..charts import compare_figure
from ..components import Picker
from ..i18n import Labels
from ..live import Live

LOG_CSS = ("<style>.llmops-log{max-height:480px;overflow:auto;font-size:12px;white-space:pre-wrap}"
           ".llmops-log .log-error{color:#c0392b}.llmops-log .log-warning{color:#b9770e}"
           ".llmops-log .log-debug{color:#888}.llmops-log mark{background:#ffe066;color:inherit}</style>")


def job_choices(services: Services) -> list[tuple[str, str]]:
    """Recent jobs as (name · status · id, id), newest first; one sent to a target says where (· @name)."""
    return [(f"{job.name} · {job.status.value} · {job.id}"
             + (f" · @{job.meta['target']}" if job.meta.get("target") not in (None, "", "local") else ""), job.id)
            for job in services.jobs.list(200)]


def log_view(services: Services, job_id: str | None, query: str, level: str, lang: str) -> tuple[str, str]:
    """(summary line, highlighted HTML) of the job's log tail under the filters."""
    if not job_id:
        return t("ui.jobsx.pick_job", lang), ""
    job = services.jobs.get(job_id)
    query = (query or "").strip()
    result = jobs_logs.view(job.log_path, query=query, level=level or "ALL")
    return jobs_logs.summary(result, jobs_logs.check_filter(level), query, lang), \
        LOG_CSS + jobs_logs.to_html(result.lines, query)


def download_path(services: Services, job_id: str) -> str | None:
    """The full log where the page may serve it from (the temp folder): linked when possible, else copied."""
    job = services.jobs.get(job_id)
    source = Path(job.log_path)
    if not source.is_file():
        return None
    folder = Path(tempfile.gettempdir()) / "llmops-logs"
    folder.mkdir(exist_ok=True)
    target = folder / f"{job.id}-job.log"
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)  # another filesystem: a snapshot copy
    return str(target)


def comparison(services: Services, job_ids: list[str] | None, only_diff: bool, lang: str):
    """(summary, config table, figure) for the picked runs."""
    result = services.jobs_admin.compare(list(job_ids or []))
    names = [f"{job.name} ({job.id})" for job in result.jobs]
    rows = [row for row in result.rows if row.differs or not only_diff]
    table = pd.DataFrame([[row.key, t("jobsx.differs", lang) if row.differs else "", *row.values] for row in rows],
                         columns=[t("ui.jobsx.col.key", lang), "≠", *names])
    text = t("jobsx.compare_summary", lang, count=len(names), differing=len(result.differing), keys=len(result.rows),
             names=", ".join(result.differing) or "-")
    return text, table, compare_figure(result.curves, lang)


def _log_panel(services: Services, labels: Labels, lang_state: gr.State, job: gr.Dropdown) -> None:
    labels.make(gr.Markdown, "ui.jobsx.logs_md", attr="value")
    with gr.Row():
        query = labels.make(gr.Textbox, "ui.jobsx.search", scale=3)
        level = labels.make(gr.Radio, "ui.jobsx.level", list(jobs_logs.FILTERS), value="ALL", scale=2)
        follow = labels.make(gr.Checkbox, "ui.jobsx.follow", value=False, scale=1)
    with gr.Row():
        show = labels.make(gr.Button, "ui.jobsx.show", attr="value", scale=1)
        download = labels.make(gr.DownloadButton, "ui.jobsx.download", attr="label", value=None, scale=1)
    status = gr.Markdown()
    body = gr.HTML()
    seen = gr.State(None)

    def on_show(job_id, text, lvl, lang):
        line, html_text = log_view(services, job_id, text, lvl, lang)
        return line, html_text, download_path(services, job_id) if job_id else None

    def on_follow(job_id, text, lvl, on, last, lang):
        # Reads only when the log changed since the last tick: its size and mtime, never the whole file.
        if not (on and job_id):
            return gr.skip(), gr.skip(), gr.skip()
        path = services.jobs.get(job_id).log_path
        try:
            stat = os.stat(path)
            mark = [job_id, text, lvl, stat.st_size, stat.st_mtime_ns]
        except FileNotFoundError:
            mark = [job_id, text, lvl, 0, 0]
        if mark == last:
            return gr.skip(), gr.skip(), gr.skip()
        return (*log_view(services, job_id, text, lvl, lang), mark)

    inputs = [job, query, level, lang_state]
    show.click(on_show, inputs, [status, body, download], api_name="jobs_log")
    query.submit(on_show, inputs, [status, body, download], api_name="jobs_log_search")
    level.input(on_show, inputs, [status, body, download], api_name="jobs_log_level")
    job.input(on_show, inputs, [status, body, download], api_name="jobs_log_pick")
    gr.Timer(1.5).tick(on_follow, [job, query, level, follow, seen, lang_state], [status, body, seen],
                       api_name="jobs_log_follow", queue=False, show_progress="hidden")


def _compare_panel(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    labels.make(gr.Markdown, "ui.jobsx.compare_md", attr="value")
    with gr.Row():
        picked = labels.make(Picker, "ui.jobsx.compare_pick", multiselect=True, scale=4)
        only_diff = labels.make(gr.Checkbox, "ui.jobsx.only_diff", value=True, scale=1)
        run = labels.make(gr.Button, "ui.jobsx.compare", attr="value", scale=1)
    summary = gr.Markdown()
    table = labels.make(gr.Dataframe, "ui.jobsx.config_table", interactive=False, wrap=True)
    plot = labels.make(gr.Plot, "ui.jobsx.curves")
    live.picker(picked, lambda lang: job_choices(services), topics=("jobs",))
    run.click(lambda ids, only, lang: comparison(services, ids, bool(only), lang), [picked, only_diff, lang_state],
              [summary, table, plot], api_name="jobs_compare")


def _manage_panel(services: Services, labels: Labels, lang_state: gr.State, job: gr.Dropdown) -> None:
    labels.make(gr.Markdown, "ui.jobsx.manage_md", attr="value")
    with gr.Row():
        resume = labels.make(gr.Checkbox, "ui.jobsx.resume", value=False, scale=2)
        restart = labels.make(gr.Button, "ui.jobsx.restart", attr="value", scale=1)
        delete = labels.make(gr.Button, "ui.jobsx.delete", variant="stop", attr="value", scale=1)
    result = gr.Markdown()
    with gr.Row(visible=False) as confirm_row:
        confirm = labels.make(gr.Button, "ui.jobsx.confirm_delete", variant="stop", attr="value")
        cancel = labels.make(gr.Button, "ui.jobsx.cancel", attr="value")
    # The job a shown plan is for: Confirm deletes that one, not a newer pick (hidden, so a script can name it).
    pending = gr.Textbox(visible=False)

    def require(job_id, lang):
        if not job_id:
            raise gr.Error(t("ui.jobsx.pick_job", lang))
        return job_id

    def on_restart(job_id, resume_on, lang):
        return restart_text(services.jobs_admin.restart(require(job_id, lang), resume=bool(resume_on)), lang)

    def on_plan(job_id, lang):
        plan = services.jobs_admin.plan_delete(require(job_id, lang))
        return plan_text(plan, lang), gr.update(visible=True), plan.job.id

    def on_confirm(job_id, lang):
        deleted = services.jobs_admin.delete(require(job_id, lang))
        return deleted_text(deleted, lang), gr.update(visible=False), ""

    def on_cancel(lang):
        return t("ui.jobsx.cancelled", lang), gr.update(visible=False), ""

    restart.click(on_restart, [job, resume, lang_state], [result], api_name="jobs_restart")
    delete.click(on_plan, [job, lang_state], [result, confirm_row, pending], api_name="jobs_delete_plan")
    confirm.click(on_confirm, [pending, lang_state], [result, confirm_row, pending], api_name="jobs_delete")
    cancel.click(on_cancel, [lang_state], [result, confirm_row, pending], api_name="jobs_delete_cancel")


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the tab; the pickers follow the job table through the live refresh."""
    job = labels.make(Picker, "ui.jobsx.job")
    live.picker(job, lambda lang: job_choices(services), topics=("jobs",),
                default=lambda choices: choices[0][1] if choices else None)
    _log_panel(services, labels, lang_state, job)
    _manage_panel(services, labels, lang_state, job)
    _compare_panel(services, labels, lang_state, live)
    labels.make(gr.Markdown, "ui.jobsx.cli_md", attr="value")
