"""Surgery > Checkpoints: a training run's checkpoints, the pick and why, register, prune in two steps, average."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ...errors import NotFoundError
from ...i18n import t
from ...services.container import Services
from ...services.surgery import checkpoints as ckpt
from ...services.surgery.workbench import SurgeryWorkbench
from ..components import Picker
from ..i18n import Labels
from ..live import Live, picker_update
from . import targets

TABLE_HEADERS = ["ui.sg.ck.col.name", "ui.sg.ck.col.step", "ui.sg.ck.col.train_loss", "ui.sg.ck.col.eval_loss",
                 "ui.sg.ck.col.score", "ui.sg.ck.col.flags", "ui.sg.ck.col.size", "ui.sg.ck.col.complete"]
# Not "jobs": its fingerprint moves at every training step, and this table changes only when versions or runs do.
TOPICS = ("models", "evals")


def _has_checkpoints(folder: str | None) -> bool:
    return bool(folder) and Path(folder).is_dir() and any(p.is_dir() for p in Path(folder).glob("checkpoint-*"))


def run_choices(services: Services, bench: SurgeryWorkbench) -> list[tuple[str, str]]:
    """Versions whose folder holds checkpoints, then training jobs that saved some (newest first)."""
    out = []
    for entry in services.models.list():
        where = entry.adapter if entry.kind == "adapter" else entry.path if entry.kind == "merged" else None
        if _has_checkpoints(where):
            out.append((entry.id, entry.id))
    for job in bench.training_jobs():
        if _has_checkpoints(job.meta.get("output_dir") or job.run_dir):
            out.append((f"{job.id} {job.name}", job.id))
    return out


def metric_descriptions(lang: str) -> list[dict]:
    """The metrics registry, described in `lang` (a checkpoint's score column can be any of them)."""
    from ...services.evaluation.metrics import describe_all

    return describe_all(lang)


def score_run_checkpoints(services: Services, run: str, set_name: str | None, metric: str | None,
                          target: str | None = None):
    """One evaluation run (on `target`) over every checkpoint of the run's version; its scores fill the table's score
    column."""
    version = ckpt.resolve_run(services.settings, run).version
    if version is None:
        raise NotFoundError("err.sg_ck_no_version", run=run)
    return services.evals.score_checkpoints(version.id, {"set": set_name or "", "metrics": [metric or "perplexity"]},
                                            target=target)


def _num(value, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def table_view(services: Services, run: str | None, lang: str) -> tuple[list[list], str, list[str], list[str]]:
    """The rows, the recommendation line, the complete checkpoints' names and the pick."""
    if not run:
        return [], "", [], []
    table = ckpt.checkpoint_table(services.settings, run)
    rows = [[row.name, row.step, _num(row.train_loss), _num(row.eval_loss), _num(row.score),
             ", ".join(t(f"sgc.flag.{flag}", lang) for flag in row.flags), f"{row.bytes / 1024**2:.1f} MB",
             "✓" if row.complete else "✗"] for row in table.rows]
    line = t("ui.sg.ck.recommended", lang, name=table.recommended or "-", reason=table.reason.render(lang),
             metric=table.metric or "-")
    complete = [row.name for row in table.rows if row.complete]
    return rows, line, complete, [table.recommended] if table.recommended else []


def build(services: Services, bench: SurgeryWorkbench, labels: Labels, lang_state: gr.State, live: Live) -> gr.Dropdown:
    """Draw the sub-tab; the run picker, the table and the checkpoint pickers follow the workspace."""
    run = labels.make(Picker, "ui.sg.ck.run", info="ui.sg.ck.run.info")
    live.picker(run, lambda lang: run_choices(services, bench), topics=TOPICS)
    table = labels.make(gr.Dataframe, "ui.sg.ck.table", headers=TABLE_HEADERS, interactive=False, wrap=True)
    recommended = gr.Markdown()
    with gr.Row():
        score_set = labels.make(Picker, "ui.sg.ck.score_set", scale=2)
        live.picker(score_set, lambda lang: [s.name for s in services.evals.sets.list()], topics=("evals", "datasets"))
        score_metric = labels.make(Picker, "ui.sg.ck.score_metric", value="perplexity")
        live.picker(score_metric, lambda lang: [(m["display"], m["name"]) for m in metric_descriptions(lang)],
                    topics=("configs",), default=lambda options: "perplexity")
        score_on = targets.run_on_picker(services, labels, live)
        score = labels.make(gr.Button, "ui.sg.ck.score", attr="value", scale=0)
    with gr.Row():
        chosen = labels.make(Picker, "ui.sg.ck.chosen", scale=2)
        as_name = labels.make(gr.Textbox, "ui.sg.ck.as_name", info="ui.sg.ck.as_name.info")
        register = labels.make(gr.Button, "ui.sg.ck.register", attr="value", scale=0)
    with gr.Row():
        plan_btn = labels.make(gr.Button, "ui.sg.ck.prune_plan", attr="value")
        confirm = labels.make(gr.Button, "ui.sg.ck.prune_confirm", attr="value", variant="stop", interactive=False)
    token = gr.State("")
    with labels.make(gr.Accordion, "ui.sg.ck.average", open=True):
        with gr.Row():
            picks = labels.make(Picker, "ui.sg.ck.picks", multiselect=True, scale=2)
            how = labels.make(gr.Radio, "ui.sg.ck.how", choices=[("ui.sg.ck.swa", "swa"), ("ui.sg.ck.ema", "ema")],
                              value="swa")
            decay = labels.make(gr.Number, "ui.sg.ck.decay", value=0.9, minimum=0.01, maximum=0.99, step=0.01)
            lora = labels.make(gr.Radio, "ui.sg.ck.lora", choices=[("ui.sg.ck.lora.merge", "merge"),
                                                                     ("ui.sg.ck.lora.cat", "cat")], value="merge",
                               info="ui.sg.ck.lora.info")
        with gr.Row():
            avg_name = labels.make(gr.Textbox, "ui.sg.name", info="ui.sg.name.info")
            run_on = targets.run_on_picker(services, labels, live)
            average = labels.make(gr.Button, "ui.sg.ck.start", attr="value", variant="primary", scale=0)
    status = gr.Markdown()

    def refresh(run_now, chosen_now, picks_now, lang):
        rows, line, complete, pick = table_view(services, run_now, lang)
        return [rows, line, picker_update(complete, chosen_now, default=pick[0] if pick else None),
                picker_update(complete, picks_now, multiselect=True)]

    def do_register(run_now, name, as_name_now, lang):
        entry = ckpt.register_checkpoint(services.settings, (run_now or "").strip(), (name or "").strip(),
                                         as_name=(as_name_now or "").strip() or None)
        return t("ui.sg.ck.registered", lang, name=name, model_id=entry.id)

    def do_score(run_now, set_now, metric_now, target, lang):
        folder, job = score_run_checkpoints(services, (run_now or "").strip(), set_now, metric_now, target or None)
        return t("ui.sg.ck.scoring", lang, run=folder.run_id, job=job.id)

    def do_plan(run_now, lang):
        plan = ckpt.prune_plan(services.settings, (run_now or "").strip())
        items = "\n".join(f"- {name} ({size / 1024**2:.1f} MB)" for name, size in plan.delete)
        text = t("ui.sg.ck.plan", lang, count=len(plan.delete), size=f"{plan.bytes / 1024**2:.1f}",
                 keep=", ".join(plan.keep) or "-")
        return [f"{text}\n\n{items}", plan.token, gr.update(interactive=bool(plan.delete))]

    def do_prune(run_now, token_now, lang):
        plan = ckpt.prune(services.settings, (run_now or "").strip(), token_now)
        text = t("ui.sg.ck.pruned", lang, count=len(plan.delete), size=f"{plan.bytes / 1024**2:.1f}")
        return [text, "", gr.update(interactive=False)]

    def do_average(run_now, picks_now, how_now, decay_now, lora_now, name, target, lang):
        ema = float(decay_now) if how_now == "ema" else None
        job = bench.average((run_now or "").strip(), list(picks_now or []), ema=ema, lora=lora_now,
                            name=(name or "").strip() or None, target=target or None)
        return t("ui.sg.queued", lang, job=job.id, path="-")

    view_out = [table, recommended, chosen, picks]
    run.change(refresh, [run, chosen, picks, lang_state], view_out, api_name="surgery_checkpoints", queue=False)
    live.add(view_out, refresh, topics=TOPICS, inputs=[run, chosen, picks])
    register.click(do_register, [run, chosen, as_name, lang_state], [status], api_name="surgery_ckpt_register")
    score.click(do_score, [run, score_set, score_metric, score_on, lang_state], [status],
                api_name="surgery_ckpt_score")
    plan_btn.click(do_plan, [run, lang_state], [status, token, confirm], api_name="surgery_prune_plan")
    confirm.click(do_prune, [run, token, lang_state], [status, token, confirm], api_name="surgery_prune")
    average.click(do_average, [run, picks, how, decay, lora, avg_name, run_on, lang_state], [status],
                  api_name="surgery_average")
    return run
