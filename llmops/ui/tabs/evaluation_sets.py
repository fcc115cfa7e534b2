"""Evaluation > Sets: the sets table, upload, preview, a seeded sample, a held-out split, the contamination check."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ...i18n import render, t
from ...services.container import Services
from ...services.evaluation.service import EvalWorkbench
from ..choices import sft_choices, version_ids
from ..components import Picker
from ..i18n import Labels
from ..live import Live

SET_HEADERS = ["ui.ev.col.name", "ui.ev.col.source", "ui.ev.col.samples", "ui.ev.col.problem"]
MATCH_HEADERS = ["ui.ev.col.sample", "ui.ev.col.field", "ui.ev.col.dataset", "ui.ev.col.row", "ui.ev.col.kind",
                 "ui.ev.col.similarity"]
SET_TOPICS = ("evals", "datasets")


def set_rows(bench: EvalWorkbench, lang: str) -> list[list]:
    """One row per set: its name, where it comes from, its sample count and any problem reading it (in `lang`)."""
    return [[s.name, s.source, s.samples if s.samples is not None else "", render(s.problem, lang) if s.problem else ""]
            for s in bench.sets()]


def _button(labels: Labels, key: str, variant: str = "secondary") -> gr.Button:
    return labels.make(gr.Button, key, attr="value", variant=variant, scale=0)


class _Handlers:
    """Each handler: typed call into the workbench, result as updates; errors become messages in build_app."""

    def __init__(self, bench: EvalWorkbench, services: Services):
        self.bench, self.services = bench, services

    def add(self, file, name, lang):
        if not file:
            raise gr.Error(t("ui.ev.pick_file", lang))
        info = self.bench.add_set(file, (name or "").strip() or Path(file).stem)
        return t("ui.ev.set_added", lang, name=info.name, samples=info.samples), set_rows(self.bench, lang)

    def preview(self, name, page, page_size, lang):
        found = self.bench.runs.sets.preview(name or "", int(page or 1), int(page_size or 20))
        pages = max(1, -(-found.total // found.page_size))
        rows = [[(found.page - 1) * found.page_size + i, s.prompt, s.reference or "", s.label or "",
                 len(s.history)] for i, s in enumerate(found.samples)]
        headers = [t(k, lang) for k in ("ui.ev.col.sample", "ui.ev.col.prompt", "ui.ev.col.reference",
                                        "ui.ev.col.label", "ui.ev.col.history")]
        info = t("ui.ev.page_info", lang, page=found.page, pages=pages, total=found.total)
        return info, {"headers": headers, "data": rows}, found.page

    def sample(self, name, n, seed, save, lang):
        picked = self.bench.runs.sets.sample(name or "", int(n or 0), int(seed or 0), save=(save or "").strip() or None)
        key = "ui.ev.sampled_saved" if (save or "").strip() else "ui.ev.sampled"
        return t(key, lang, count=len(picked), name=(save or "").strip()), set_rows(self.bench, lang)

    def split(self, dataset, fraction, seed, lang):
        result = self.bench.runs.sets.split(dataset or "", float(fraction or 0.1), int(seed or 0))
        return t("ui.ev.split_done", lang, set=result.eval_set, eval=result.eval_samples, train=result.train_samples,
                 train_version=result.train_version), set_rows(self.bench, lang)

    def contamination(self, set_name, version, lang):
        report = self.bench.contamination(set_name or "", version or "")
        rows = [[m.sample, m.field, m.dataset, m.row, m.kind, round(m.similarity, 3)] for m in report.matches]
        text = t("ui.ev.contamination_done", lang, set=report.set, version=report.version,
                 contaminated=report.contaminated, samples=report.samples, exact=report.exact,
                 datasets=", ".join(d.name for d in report.datasets) or "-")
        return text, rows


def build(bench: EvalWorkbench, services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the sub-tab and wire its events."""
    table = labels.make(gr.Dataframe, "ui.ev.sets_table", headers=SET_HEADERS, interactive=False, wrap=True,
                        max_height=300)
    live.add([table], lambda lang: [set_rows(bench, lang)], topics=SET_TOPICS)
    h = _Handlers(bench, services)
    with labels.make(gr.Accordion, "ui.ev.upload_title", open=True), gr.Row():
        file = labels.make(gr.File, "ui.ev.set_file", file_types=[".jsonl"], scale=2)
        with gr.Column(scale=2):
            name = labels.make(gr.Textbox, "ui.ev.set_name", info="ui.ev.set_name.info")
            add = _button(labels, "ui.ev.add_set", "primary")
    added = gr.Markdown()
    add.click(h.add, [file, name, lang_state], [added, table], api_name="eval_set_add")

    with labels.make(gr.Accordion, "ui.ev.preview_title", open=False):
        with gr.Row():
            preview_set = labels.make(Picker, "ui.ev.set")
            page = labels.make(gr.Number, "ui.ev.page", value=1, precision=0, minimum=1)
            page_size = labels.make(gr.Number, "ui.ev.page_size", value=20, precision=0, minimum=1, maximum=500)
            show = _button(labels, "ui.ev.preview")
        page_info = gr.Markdown()
        grid = gr.Dataframe(interactive=False, wrap=True, elem_classes=["data-grid"], max_height=400)
    show.click(h.preview, [preview_set, page, page_size, lang_state], [page_info, grid, page],
               api_name="eval_set_preview", queue=False)

    with labels.make(gr.Accordion, "ui.ev.sample_title", open=False), gr.Row():
        sample_set = labels.make(Picker, "ui.ev.set")
        count = labels.make(gr.Number, "ui.ev.sample_n", value=50, precision=0, minimum=1)
        sample_seed = labels.make(gr.Number, "ui.ev.seed", value=0, precision=0, minimum=0)
        save = labels.make(gr.Textbox, "ui.ev.sample_save")
        draw = _button(labels, "ui.ev.sample")
    sampled = gr.Markdown()
    draw.click(h.sample, [sample_set, count, sample_seed, save, lang_state], [sampled, table], api_name="eval_set_sample")

    with labels.make(gr.Accordion, "ui.ev.split_title", open=False), gr.Row():
        dataset = labels.make(Picker, "ui.ev.split_dataset")
        fraction = labels.make(gr.Slider, "ui.ev.split_fraction", minimum=0.01, maximum=0.5, value=0.1, step=0.01)
        split_seed = labels.make(gr.Number, "ui.ev.seed", value=0, precision=0, minimum=0)
        split = _button(labels, "ui.ev.split")
    split_out = gr.Markdown()
    split.click(h.split, [dataset, fraction, split_seed, lang_state], [split_out, table], api_name="eval_set_split")

    with labels.make(gr.Accordion, "ui.ev.contamination_title", open=False):
        with gr.Row():
            contam_set = labels.make(Picker, "ui.ev.set")
            contam_version = labels.make(Picker, "ui.ev.version")
            check = _button(labels, "ui.ev.contamination")
        contam_out = gr.Markdown()
        matches = labels.make(gr.Dataframe, "ui.ev.matches", headers=MATCH_HEADERS, interactive=False, wrap=True)
    check.click(h.contamination, [contam_set, contam_version, lang_state], [contam_out, matches],
                api_name="eval_contamination")

    for picker in (preview_set, sample_set, contam_set):
        live.picker(picker, lambda lang: bench.set_names(), topics=SET_TOPICS)
    live.picker(dataset, lambda lang: sft_choices(services), topics=("datasets",))
    live.picker(contam_version, lambda lang: version_ids(services), topics=("models",))
