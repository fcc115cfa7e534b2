"""Data › Datasets: the registry table, upload and validation, paged preview, stats, dedup, versions, delete, CSV."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ...i18n import render, t
from ...i18n.options import option_keys
from ...services.container import Services
from ...services.datasets import FORMAT_CHOICES, DatasetStats, ValidationReport
from ...services.datasets.results import human_size
from ..charts import histogram_figure
from ..common import require_name, token
from ..components import Picker
from ..i18n import Labels
from ..live import picker_update
from ..widgets.jobs_panel import follow, job_line, job_widget, outcome

TABLE_HEADERS = ["ui.col.name", "ui.col.kind", "ui.col.format", "ui.col.samples", "ui.col.size", "ui.col.version",
                 "ui.col.created", "ui.col.problem"]
VERSION_HEADERS = ["ui.col.version", "ui.col.samples", "ui.col.parent", "ui.col.format", "ui.col.created",
                   "ui.col.note", "ui.col.file"]
UPLOAD_TYPES = [".json", ".jsonl", ".csv", ".txt", ".parquet"]
_CELL_CHARS = 400


@dataclass
class RegistryTab:
    """What the tab frame refreshes when datasets change."""

    table: gr.Dataframe
    problems: gr.Markdown
    name: gr.Dropdown
    refresh_button: gr.Button

    @property
    def table_outputs(self) -> list:
        return [self.table, self.problems, self.name]


def table_outputs(services: Services, lang: str, current: str | None = None, prefer: str | None = None) -> tuple:
    """Registry rows, the problems line and the dataset picker (keeping `current`, selecting `prefer`)."""
    rows = services.datasets.table()
    data = [[r.name, r.kind, r.format, r.samples, human_size(r.size_bytes), r.version or "", (r.created or "")[:19],
             render(r.problem, lang)] for r in rows]
    problems = [p.render(lang) for p in services.datasets.problems()]
    text = "\n".join(f"- ⚠️ {p}" for p in problems) if problems else ""
    return data, text, picker_update([r.name for r in rows], current, prefer=prefer)


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _CELL_CHARS else text[:_CELL_CHARS] + "…"


def report_text(report: ValidationReport, lang: str) -> str:
    """A validation report: the verdict, then one 'file:line: reason' per problem."""
    key = "ui.data.reg.valid" if report.ok else "ui.data.reg.invalid"
    head = t(key, lang, path=report.path, format=report.format or "?", valid=report.valid_rows,
             total=report.total_rows, count=report.error_count, encoding=report.encoding)
    if report.needs_conversion:
        head += "\n" + t("ui.data.reg.needs_conversion", lang, encoding=report.encoding)
    return "\n".join([head, *report.lines(lang)])


def stats_text(stats: DatasetStats, lang: str) -> str:
    """Samples, token lengths, duplicates and empty fields as a short markdown table."""
    tok = stats.tokens
    rows = [(t("ui.data.reg.samples", lang), stats.samples), (t("ui.data.reg.format", lang), stats.format),
            (t("ui.data.reg.tokens", lang), " / ".join(str(tok.get(k, "-")) for k in ("min", "median", "mean", "p90",
                                                                                      "max"))),
            (t("ui.data.reg.tokens_total", lang), tok.get("total", "-")),
            (t("ui.data.reg.duplicates", lang), stats.duplicates),
            (t("ui.data.reg.empty", lang), ", ".join(f"{k}: {v}" for k, v in stats.empty_fields.items()) or "-")]
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


class _Handlers:
    """Thin handlers over services.datasets; every LLMOpsError becomes a message in the user's language."""

    def __init__(self, services: Services):
        self.services = services
        self.registry = services.datasets

    def validate(self, file, fmt, lang):
        if not file:
            raise gr.Error(t("ui.data.reg.pick_file", lang))
        return report_text(self.registry.validate_file(file, fmt or "auto", label=Path(file).name), lang)

    def upload(self, file, name, fmt, note, confirm, lang):
        if not file:
            raise gr.Error(t("ui.data.reg.pick_file", lang))
        name = (name or "").strip() or Path(file).stem
        row = self.registry.upload(file, name, fmt or "auto", confirm_conversion=bool(confirm), note=note or "",
                                   label=Path(file).name)
        return t("ui.data.reg.uploaded", lang, name=row.name, samples=row.samples, format=row.format), token(row.name)

    def preview(self, name, page, page_size, lang):
        found = self.registry.preview(require_name(name, lang), int(page or 1), int(page_size or 20))
        info = t("ui.data.reg.page", lang, page=found.page, pages=found.pages, total=found.total,
                 version=found.version or "-")
        data = [[_cell(row.get(c) if isinstance(row, dict) else row) for c in found.columns] for row in found.rows]
        return info, {"headers": found.columns or ["-"], "data": data}, found.page

    def stats(self, name, lang):
        found = self.registry.stats(require_name(name, lang))
        figure = histogram_figure(found.histogram, t("ui.data.reg.hist", lang, name=found.name), lang)
        return stats_text(found, lang), figure

    def versions(self, name, lang):
        found = self.registry.versions(require_name(name, lang))
        return [[v.version, v.samples, v.parent or "", v.format, v.created, v.note_text(lang), v.file] for v in found]

    def dedup(self, name, mode, threshold, note, lang):
        """Run the dedup as a job; the call streams its progress and returns once the new version is registered."""
        name = require_name(name, lang)
        self.registry.row(name)
        job = self.services.jobs.submit(
            "dedup", {"name": name, "near": mode == "near", "threshold": float(threshold), "note": note or ""},
            f"dedup {name}")
        job_id = job.id
        job = yield from follow(self.services, job_id, lambda details: (
            job_line(self.services, job_id, lang), gr.skip(), gr.skip(), job_id))
        done = outcome(self.services, job, lang)
        key = "ui.data.reg.dedup_done" if done["version"] else "ui.data.reg.dedup_none"
        text = t(key, lang, name=name, before=done["before"], after=done["after"], exact=done["exact_removed"],
                 near=done["near_removed"], version=done["version"] or "-")
        yield text, self.versions(name, lang), token(name), job.id

    def delete(self, name, delete_files, lang):
        name = require_name(name, lang)
        removed = self.registry.delete(name, delete_files=bool(delete_files))
        return t("ui.data.reg.deleted", lang, name=name, files=len(removed)), token()

    def export(self, name, lang):
        name = require_name(name, lang)
        # A download, not workspace data: written where Gradio may serve it from, whatever LLMOPS_HOME is.
        out = Path(tempfile.mkdtemp(prefix="llmops_export_")) / f"{name}_{time.strftime('%Y%m%d_%H%M%S')}.csv"
        return str(self.registry.export_csv(name, out))


def _upload_section(labels: Labels) -> tuple[list, gr.Button, gr.Button]:
    with labels.make(gr.Accordion, "ui.data.reg.upload_title", open=True), gr.Row():
        file = labels.make(gr.File, "ui.data.reg.file", file_types=UPLOAD_TYPES, scale=2)
        with gr.Column(scale=3):
            with gr.Row():
                name = labels.make(gr.Textbox, "ui.data.reg.name", info="ui.data.reg.name.info")
                fmt = labels.make(gr.Dropdown, "ui.data.reg.format", choices=option_keys("format", FORMAT_CHOICES),
                                  value="auto")
            note = labels.make(gr.Textbox, "ui.data.reg.note")
            confirm = labels.make(gr.Checkbox, "ui.data.reg.confirm", info="ui.data.reg.confirm.info", value=False)
            with gr.Row():
                validate = labels.make(gr.Button, "ui.data.reg.validate", attr="value")
                upload = labels.make(gr.Button, "ui.data.reg.upload", variant="primary", attr="value")
    return [file, name, fmt, note, confirm], validate, upload


def _button(labels: Labels, key: str, variant: str = "secondary") -> gr.Button:
    return labels.make(gr.Button, key, variant=variant, scale=0, min_width=140, attr="value")


def _inspect_section(labels: Labels, names: list[str]) -> dict:
    """Preview pager, stats, dedup with versions, delete and export: all act on the picked dataset."""
    c: dict = {}
    labels.make(gr.Markdown, "ui.data.reg.inspect_md", attr="value")
    with gr.Row():
        c["name"] = labels.make(Picker, "ui.data.reg.dataset", names, value=None, scale=3)
        c["page"] = labels.make(gr.Number, "ui.data.reg.page_no", value=1, precision=0, minimum=1)
        c["page_size"] = labels.make(gr.Number, "ui.data.reg.page_size", value=20, precision=0, minimum=1, maximum=500)
        c["preview"] = _button(labels, "ui.data.reg.preview", "primary")
    c["page_info"] = gr.Markdown()
    c["grid"] = gr.Dataframe(headers=["-"], interactive=False, wrap=True, max_height=420)
    with gr.Row():
        with gr.Column():
            c["stats"] = _button(labels, "ui.data.reg.stats")
            c["stats_md"] = gr.Markdown()
        c["stats_plot"] = labels.make(gr.Plot, "ui.data.reg.stats_chart")
    with gr.Row():
        with gr.Column():
            c["mode"] = labels.make(gr.Radio, "ui.data.reg.dedup_mode", value="near",
                                    choices=option_keys("dedup_mode", ("exact", "near")))
            c["threshold"] = labels.make(gr.Slider, "ui.data.reg.threshold", 0.5, 1.0, value=0.8, step=0.01)
            c["note"] = labels.make(gr.Textbox, "ui.data.reg.note")
            c["dedup"] = _button(labels, "ui.data.reg.dedup")
            c["dedup_md"] = gr.Markdown()
        with gr.Column():
            c["versions"] = _button(labels, "ui.data.reg.versions")
            c["versions_table"] = labels.make(gr.Dataframe, None, headers=VERSION_HEADERS, interactive=False, wrap=True)
    with gr.Row():
        c["delete_files"] = labels.make(gr.Checkbox, "ui.data.reg.delete_files", value=False)
        c["delete"] = _button(labels, "ui.data.reg.delete", "stop")
        c["export"] = _button(labels, "ui.data.reg.export")
        c["download"] = labels.make(gr.File, "ui.data.reg.download", interactive=False, height=90)
    c["delete_md"] = gr.Markdown()
    return c


def build(services: Services, labels: Labels, lang_state: gr.State, changed: gr.Textbox) -> RegistryTab:
    """Draw the sub-tab and wire every registry action."""
    # The table counts every file's rows, so it is filled when the sub-tab opens, not at start-up.
    names = list(services.training.dataset_entries())
    with gr.Row(equal_height=True):
        labels.make(gr.Markdown, "ui.data.reg.table_md", attr="value")
        refresh = _button(labels, "ui.data.reg.refresh")
    table = labels.make(gr.Dataframe, "ui.data.reg.table", headers=TABLE_HEADERS, interactive=False, wrap=True,
                        max_height=320)
    problems = gr.Markdown()
    (file, up_name, fmt, note, confirm), validate_btn, upload_btn = _upload_section(labels)
    upload_out = gr.Markdown()
    report = labels.make(gr.Textbox, "ui.data.reg.report", lines=6, max_lines=20, interactive=False)
    c = _inspect_section(labels, names)
    name = c["name"]

    h = _Handlers(services)
    validate_btn.click(h.validate, [file, fmt, lang_state], [report], api_name="data_validate")
    upload_btn.click(h.upload, [file, up_name, fmt, note, confirm, lang_state], [upload_out, changed],
                     api_name="data_upload")
    c["preview"].click(h.preview, [name, c["page"], c["page_size"], lang_state], [c["page_info"], c["grid"], c["page"]],
                       api_name="data_preview")
    c["stats"].click(h.stats, [name, lang_state], [c["stats_md"], c["stats_plot"]], api_name="data_stats")
    c["dedup_job"] = job_widget(services, labels, lang_state, "data_dedup")
    c["dedup"].click(h.dedup, [name, c["mode"], c["threshold"], c["note"], lang_state],
                     [c["dedup_md"], c["versions_table"], changed, c["dedup_job"].job], api_name="data_dedup")
    c["versions"].click(h.versions, [name, lang_state], [c["versions_table"]], api_name="data_versions", queue=False)
    c["delete"].click(h.delete, [name, c["delete_files"], lang_state], [c["delete_md"], changed], api_name="data_delete")
    c["export"].click(h.export, [name, lang_state], [c["download"]], api_name="data_export_csv")
    return RegistryTab(table, problems, name, refresh)
