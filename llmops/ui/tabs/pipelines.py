"""Pipelines tab: pick or edit a pipeline YAML, validate it with every stage's generated config, run it, and follow
its runs (stage N of M, each stage's status, duration and outputs) with stop and resume."""

from __future__ import annotations

import gradio as gr
import yaml

from ...i18n import t
from ...services.container import Services
from ...services.pipelines.store import RunState
from ..components import Picker
from ..i18n import Labels
from ..live import Live

RUN_HEADERS = ["ui.pl.col.run", "ui.pl.col.name", "ui.pl.col.status", "ui.pl.col.at", "ui.pl.col.source"]
STAGE_HEADERS = ["ui.pl.col.stage", "ui.pl.col.kind", "ui.pl.col.status", "ui.pl.col.duration",
                 "ui.pl.col.outputs", "ui.pl.col.reason"]


def run_rows(services: Services, lang: str) -> list[list]:
    """One row per run, newest first."""
    return [[r.run_id, r.name, r.status, t("pl.position", lang, at=r.position(), total=len(r.order)), r.source]
            for r in services.pipelines.list()] or [["", "", "", "", ""]]


def stage_rows(services: Services, state: RunState | None, lang: str) -> list[list]:
    """One row per stage of a run, in the order they run."""
    if state is None:
        return [["", "", "", "", "", ""]]
    rows = []
    for stage_id in state.order:
        stage = state.stages[stage_id]
        took = f"{stage.duration_s:.0f} s" if stage.duration_s is not None else ""
        outputs = ", ".join(f"{k}={v}" for k, v in stage.outputs.items() if k != "verdict")
        rows.append([stage_id, stage.kind, stage.status, took, outputs, services.pipelines.reason(stage, lang)])
    return rows


def run_view(services: Services, run_id: str | None, lang: str) -> tuple[str, list[list]]:
    """The run's headline and its stages table (empty when no run is chosen)."""
    if not run_id:
        return t("ui.pl.no_run", lang), stage_rows(services, None, lang)
    state = services.pipelines.show(run_id)
    head = t("ui.pl.run_head", lang, run=state.run_id, name=state.name, status=state.status,
             position=t("pl.position", lang, at=state.position(), total=len(state.order)),
             command=services.pipelines.command(state.source))
    return head, stage_rows(services, state, lang)


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """The tab's layout and wiring."""
    labels.make(gr.Markdown, "ui.pl.help", attr="value")
    with gr.Row():
        file = labels.make(Picker, "ui.pl.file")
        load = labels.make(gr.Button, "ui.pl.load", attr="value", scale=0)
    live.picker(file, lambda lang: [p.stem for p in services.pipelines.files()], topics=("pipelines",))
    editor = labels.make(gr.Code, "ui.pl.editor", language="yaml", lines=18)
    with gr.Row():
        validate = labels.make(gr.Button, "ui.pl.validate", attr="value")
        run = labels.make(gr.Button, "ui.pl.run", attr="value", variant="primary")
        save_name = labels.make(gr.Textbox, "ui.pl.save_name")
        save = labels.make(gr.Button, "ui.pl.save", attr="value", scale=0)
    verdict = gr.Markdown()
    preview = labels.make(gr.Code, "ui.pl.preview", language="yaml", interactive=False)
    command = labels.make(gr.Textbox, "ui.pl.command", interactive=False, show_copy_button=True)
    runs = labels.make(gr.Dataframe, "ui.pl.runs", headers=RUN_HEADERS, interactive=False, wrap=True)
    live.add([runs], lambda lang: [run_rows(services, lang)], topics=("pipelines",))
    with gr.Row():
        run_id = labels.make(Picker, "ui.pl.run_id")
        stop = labels.make(gr.Button, "ui.pl.stop", attr="value", variant="stop", scale=0)
        resume = labels.make(gr.Button, "ui.pl.resume", attr="value", scale=0)
    live.picker(run_id, lambda lang: [r.run_id for r in services.pipelines.list()], topics=("pipelines",),
                default=lambda ids: ids[0] if ids else None)
    head = gr.Markdown()
    stages = labels.make(gr.Dataframe, "ui.pl.stages", headers=STAGE_HEADERS, interactive=False, wrap=True)
    live.add([head, stages], lambda chosen, lang: list(run_view(services, chosen, lang)),
             topics=("pipelines", "jobs"), inputs=[run_id])

    def do_load(name):
        path, text = services.pipelines.read_file(name or "")
        return text, services.pipelines.command(str(path))

    def do_validate(text, name, lang):
        graph, previews = services.pipelines.validate(text or "", name or "pipeline")
        shown = yaml.safe_dump([p.to_dict() for p in previews], allow_unicode=True, sort_keys=False)
        return t("pl.valid", lang, name=graph.pipeline.name, count=len(previews)), shown

    def do_save(text, name, lang):
        path = services.pipelines.save_file(name or "", text or "")
        return t("pl.saved", lang, path=str(path)), services.pipelines.command(path.stem)

    def do_run(text, name, lang):
        state = services.pipelines.start(text or "", name or "pipeline")
        return [t("pl.started", lang, run=state.run_id), state.run_id,
                *run_view(services, state.run_id, lang)]

    def do_stop(chosen, lang):
        services.pipelines.stop(chosen or "")
        return list(run_view(services, chosen, lang))

    def do_resume(chosen, lang):
        services.pipelines.resume(chosen or "")
        return list(run_view(services, chosen, lang))

    load.click(do_load, [file], [editor, command], api_name="pipeline_load")
    validate.click(do_validate, [editor, file, lang_state], [verdict, preview], api_name="pipeline_validate")
    save.click(do_save, [editor, save_name, lang_state], [verdict, command], api_name="pipeline_save")
    run.click(do_run, [editor, file, lang_state], [verdict, run_id, head, stages], api_name="pipeline_run")
    stop.click(do_stop, [run_id, lang_state], [head, stages], api_name="pipeline_stop")
    resume.click(do_resume, [run_id, lang_state], [head, stages], api_name="pipeline_resume")
    # A run picked (or chosen by the live refresh) shows at once, not at the next change in the workspace.
    run_id.change(lambda chosen, lang: list(run_view(services, chosen, lang)), [run_id, lang_state], [head, stages],
                  api_name="pipeline_show", queue=False, show_progress="hidden")
