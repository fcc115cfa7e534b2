"""Evaluation > Results: the comparison table and chart, regressions, samples side by side, errors, a second run,
reports and human rating sheets."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gradio as gr
import plotly.graph_objects as go

from ...i18n import t
from ...services.evaluation.compare import Comparison, SampleFilter
from ...services.evaluation.service import EvalWorkbench
from ..components import Picker
from ..i18n import Labels
from ..live import Live, picker_update
from .evaluation_run import run_choices

BEST = "★"
CHANGE_HEADERS = ["ui.ev.col.model", "ui.ev.col.baseline", "ui.ev.col.column", "ui.ev.col.baseline_value",
                  "ui.ev.col.value", "ui.ev.col.delta", "ui.ev.col.regression"]
SAMPLE_HEADERS = ["ui.ev.col.sample", "ui.ev.col.prompt", "ui.ev.col.reference", "ui.ev.col.model",
                  "ui.ev.col.output", "ui.ev.col.scores", "ui.ev.col.error"]
REPORT_BUTTONS = (("html", "ui.ev.report_html"), ("pdf", "ui.ev.report_pdf"), ("json", "ui.ev.report_json"),
                  ("samples_csv", "ui.ev.report_csv"), ("samples_xlsx", "ui.ev.report_xlsx"))


def _num(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def comparison_grid(table: Comparison, lang: str) -> dict:
    """The table with the best value of each column marked."""
    headers = [t("ui.ev.col.model", lang), t("ui.ev.col.samples", lang), *(c.label for c in table.columns)]
    data = [[row.model, row.samples, *(f"{_num(row.values.get(c.key))}{' ' + BEST if row.model in c.best else ''}"
                                       for c in table.columns)] for row in table.rows]
    return {"headers": headers, "data": data}


def metric_figure(table: Comparison, lang: str) -> go.Figure:
    """One group of bars per metric column, one bar per model."""
    fig = go.Figure()
    columns = [c for c in table.columns if c.group == "metric"]
    for row in table.rows:
        fig.add_trace(go.Bar(name=row.model, x=[c.label for c in columns], y=[row.values.get(c.key) for c in columns]))
    fig.update_layout(barmode="group", title=t("ui.ev.chart_title", lang), height=340, legend={"orientation": "h"},
                      margin={"l": 40, "r": 20, "t": 40, "b": 40})
    return fig


def download(path: Path) -> str:
    """A copy where Gradio may serve it from, whatever LLMOPS_HOME is (the run folder keeps the original)."""
    target = Path(tempfile.mkdtemp(prefix="llmops_eval_")) / path.name
    shutil.copyfile(path, target)
    return str(target)


class _Handlers:
    """Each handler reads the run through the workbench; errors become messages in build_app."""

    def __init__(self, bench: EvalWorkbench):
        self.bench = bench

    def show(self, run_id, lang):
        table = self.bench.comparison(run_id, lang)
        view = self.bench.view(run_id)
        metrics = [c.name for c in table.columns if c.group == "metric"]
        info = t("ui.ev.results_info", lang, run=run_id, set=table.set, status=view.status, models=len(table.models))
        pick = [gr.update(choices=table.models, value=table.models[0] if table.models else None)]
        return [info, comparison_grid(table, lang), metric_figure(table, lang), *pick,
                gr.update(choices=table.models, value=None), gr.update(choices=table.models, value=None),
                gr.update(choices=metrics, value=metrics[0] if metrics else None)]

    def regressions(self, run_id, baseline, threshold, lang):
        found = self.bench.changes(run_id, baseline or "", float(threshold or 0) / 100.0, lang)
        rows = [[c.model, c.baseline, c.label, _num(c.baseline_value), _num(c.value), f"{c.delta:+.4g}",
                 "⚠" if c.regression else ""] for c in found]
        count = sum(1 for c in found if c.regression)
        return t("ui.ev.regressions_found", lang, count=count, baseline=baseline or "-"), rows

    def samples(self, run_id, worse, better, metric, errors_only, text, page, page_size, lang):
        filter = SampleFilter(worse=worse or None, better=better or None, metric=metric or None,
                              errors_only=bool(errors_only), text=text or "")
        found = self.bench.samples(run_id, filter, int(page or 1), int(page_size or 10))
        rows = []
        for row in found.rows:
            for out in row.outputs:
                scores = ", ".join(f"{k} {_num(v)}" for k, v in out.scores.items() if isinstance(v, (int, float)))
                mark = f" {BEST}" if out.model in row.best else ""
                rows.append([row.sample, row.prompt, row.reference or row.label or "", out.model + mark,
                             out.output, scores, out.error or ("truncated" if out.truncated else "")])
        info = t("ui.ev.page_info", lang, page=found.page, pages=found.pages, total=found.total)
        return info, rows

    def errors(self, run_id, lang):
        found = self.bench.errors(run_id)
        headers = [t("ui.ev.col.model", lang), *(t(f"ui.ev.err.{k}", lang) for k in found.kinds)]
        data = [[m.model, *(m.counts.get(k, 0) for k in found.kinds)] for m in found.models]
        return {"headers": headers, "data": data}

    def compare_runs(self, run_a, run_b, lang):
        found = self.bench.compare_runs(run_a, run_b, lang)
        rows = [[c.model, c.baseline, c.label, _num(c.baseline_value), _num(c.value), f"{c.delta:+.4g}",
                 "⚠" if c.regression else ""] for c in found.changes]
        return t("ui.ev.runs_compared", lang, a=found.run_a, b=found.run_b, changes=len(found.changes)), rows

    def report(self, run_id, baseline, kind, lang):
        written = self.bench.report(run_id, kind, lang, baseline or None)
        note = written.note or t("ui.ev.report_written", lang, name=written.path.name)
        return download(written.path), note

    def export_sheet(self, run_id, fmt, blind, lang):
        path = self.bench.export_sheet(run_id, fmt or "xlsx", bool(blind), lang)
        return download(path), t("ui.ev.sheet_written", lang, name=path.name)

    def import_sheet(self, run_id, file, lang):
        if not file:
            raise gr.Error(t("ui.ev.pick_file", lang))
        scores = self.bench.import_sheet(run_id, file, lang)
        models = len({s.model for s in scores.scores})
        return t("ui.ev.sheet_imported", lang, rows=len(scores.scores), models=models,
                 dimensions=", ".join(scores.dimensions))


def build(bench: EvalWorkbench, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the sub-tab and wire its events."""
    h = _Handlers(bench)
    with gr.Row():
        run = labels.make(Picker, "ui.ev.run", scale=3)
        show = labels.make(gr.Button, "ui.ev.show_results", attr="value", variant="primary", scale=0)
    info = gr.Markdown()
    grid = gr.Dataframe(interactive=False, wrap=True, elem_classes=["data-grid"])
    chart = labels.make(gr.Plot, "ui.ev.chart")
    with labels.make(gr.Accordion, "ui.ev.regressions_title", open=True):
        with gr.Row():
            baseline = labels.make(Picker, "ui.ev.baseline")
            threshold = labels.make(gr.Number, "ui.ev.threshold", value=2.0, minimum=0)
            find = labels.make(gr.Button, "ui.ev.find_regressions", attr="value", scale=0)
        reg_info = gr.Markdown()
        reg_table = labels.make(gr.Dataframe, "ui.ev.changes", headers=CHANGE_HEADERS, interactive=False, wrap=True)
    with labels.make(gr.Accordion, "ui.ev.samples_title", open=False):
        with gr.Row():
            worse = labels.make(Picker, "ui.ev.worse")
            better = labels.make(Picker, "ui.ev.better")
            metric = labels.make(Picker, "ui.ev.metric")
            errors_only = labels.make(gr.Checkbox, "ui.ev.errors_only", value=False)
        with gr.Row():
            text = labels.make(gr.Textbox, "ui.ev.text_filter")
            page = labels.make(gr.Number, "ui.ev.page", value=1, precision=0, minimum=1)
            page_size = labels.make(gr.Number, "ui.ev.page_size", value=10, precision=0, minimum=1, maximum=500)
            view = labels.make(gr.Button, "ui.ev.show_samples", attr="value", scale=0)
        page_info = gr.Markdown()
        samples = labels.make(gr.Dataframe, "ui.ev.samples", headers=SAMPLE_HEADERS, interactive=False, wrap=True,
                              max_height=500)
    with labels.make(gr.Accordion, "ui.ev.errors_title", open=False):
        analyse = labels.make(gr.Button, "ui.ev.analyse_errors", attr="value")
        error_grid = gr.Dataframe(interactive=False, wrap=True, elem_classes=["data-grid"])
    with labels.make(gr.Accordion, "ui.ev.compare_title", open=False):
        with gr.Row():
            other = labels.make(Picker, "ui.ev.other_run", scale=3)
            compare = labels.make(gr.Button, "ui.ev.compare_runs", attr="value", scale=0)
        compare_info = gr.Markdown()
        compare_table = labels.make(gr.Dataframe, "ui.ev.changes", headers=CHANGE_HEADERS, interactive=False,
                                    wrap=True)
    with labels.make(gr.Accordion, "ui.ev.reports_title", open=False):
        with gr.Row():
            buttons = {kind: labels.make(gr.Button, key, attr="value") for kind, key in REPORT_BUTTONS}
        report_note = gr.Markdown()
        report_file = labels.make(gr.File, "ui.ev.download", interactive=False, height=90)
    with labels.make(gr.Accordion, "ui.ev.human_title", open=False):
        with gr.Row():
            fmt = labels.make(gr.Radio, "ui.ev.sheet_format", value="xlsx", choices=[("ui.ev.fmt.xlsx", "xlsx"),
                                                                                     ("ui.ev.fmt.csv", "csv")])
            blind = labels.make(gr.Checkbox, "ui.ev.blind", info="ui.ev.blind.info", value=True)
            export = labels.make(gr.Button, "ui.ev.sheet_export", attr="value", scale=0)
        with gr.Row():
            sheet = labels.make(gr.File, "ui.ev.sheet_upload", file_types=[".xlsx", ".csv"])
            import_btn = labels.make(gr.Button, "ui.ev.sheet_import", attr="value", scale=0)
        human_note = gr.Markdown()

    shown = [info, grid, chart, baseline, worse, better, metric]
    show.click(h.show, [run, lang_state], shown, api_name="eval_results")
    find.click(h.regressions, [run, baseline, threshold, lang_state], [reg_info, reg_table], api_name="eval_regressions")
    view.click(h.samples, [run, worse, better, metric, errors_only, text, page, page_size, lang_state],
               [page_info, samples], api_name="eval_samples")
    analyse.click(h.errors, [run, lang_state], [error_grid], api_name="eval_errors")
    compare.click(h.compare_runs, [run, other, lang_state], [compare_info, compare_table], api_name="eval_compare_runs")
    for kind, button in buttons.items():
        button.click(lambda run_id, base, lang, _kind=kind: h.report(run_id, base, _kind, lang),
                     [run, baseline, lang_state], [report_file, report_note], api_name=f"eval_report_{kind}")
    export.click(h.export_sheet, [run, fmt, blind, lang_state], [report_file, human_note], api_name="eval_sheet_export")
    import_btn.click(h.import_sheet, [run, sheet, lang_state], [human_note], api_name="eval_sheet_import")
    for picker in (run, other):
        live.add([picker], lambda current, lang: [picker_update(run_choices(bench), current)], topics=("evals",),
                 inputs=[picker])
