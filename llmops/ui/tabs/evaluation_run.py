"""Evaluation > Run: the run form (versions, set, metrics, generation, judge), its CLI echo, the runs and their status."""

from __future__ import annotations

import gradio as gr

from ...errors import InvalidInputError

from ...i18n import t
from ...schemas.eval_runs import DEFAULT_DIMENSIONS
from ...services.container import Services
from ...services.evaluation import metrics as registry
from ...services.evaluation.runs import RunView
from ...services.evaluation.service import EvalWorkbench, judge_command, run_command
from ..choices import version_ids
from ..common import cli
from ..components import Picker
from ..i18n import Labels
from ..live import Live, picker_update
from . import targets
from .evaluation_extras import build_benchmarks, build_gate

RUN_HEADERS = ["ui.ev.col.id", "ui.ev.col.name", "ui.ev.col.set", "ui.ev.col.models", "ui.ev.col.status",
               "ui.ev.col.done"]
RUN_TOPICS = ("evals", "jobs")
STATUS_TICK_S = 3.0


def metric_choices(lang: str) -> list[tuple[str, str]]:
    """The registry's metrics as checkbox choices, each naming what it needs (a reference, a label, a model)."""
    out = []
    for m in registry.describe_all(lang):
        needs = ", ".join(t(f"ui.ev.need.{n}", lang) for n in m["needs"]) or "-"
        out.append((t("ui.ev.metric_choice", lang, name=m["display"], needs=needs), m["name"]))
    return out


def run_rows(bench: EvalWorkbench) -> list[list]:
    """One row per run, newest first."""
    rows = []
    for view in bench.views():
        done, total = _done_total(view)
        rows.append([view.config.run_id, view.config.name, view.config.set, ", ".join(view.config.models),
                     view.status, f"{done}/{total}"])
    return rows


def run_choices(bench: EvalWorkbench) -> list[tuple[str, str]]:
    return [(f"{v.config.run_id} {v.config.name}".strip(), v.config.run_id) for v in bench.views()]


def _done_total(view: RunView) -> tuple[int, int]:
    if view.job is not None and not view.job.status.finished and view.progress.total:
        return view.progress.done, view.progress.total
    if view.summary is not None:
        return view.summary.done, view.summary.total
    return view.progress.done, view.progress.total


def status_text(bench: EvalWorkbench, run_id: str | None, lang: str) -> tuple[str, bool]:
    """The selected run's status panel (done/total, ETA, live partial scores) and whether it is still running."""
    if not run_id:
        return "", False
    view = bench.view(run_id)
    done, total = _done_total(view)
    running = view.job is not None and not view.job.status.finished
    counts = view.progress.counts or {}
    eta = counts.get("eta_s")
    lines = [t("ui.ev.status_line", lang, run=run_id, status=view.status, done=done, total=total,
               eta=f"{eta:.0f}" if isinstance(eta, (int, float)) and running else "-")]
    for model, live in (counts.get("live") or {}).items():
        lines.append(t("ui.ev.status_live", lang, model=model, score=live.get("exact_match"), n=live.get("n")))
    errors = counts.get("errors") or {}
    if errors:
        lines.append(t("ui.ev.status_errors", lang, errors=", ".join(f"{k}: {v}" for k, v in errors.items())))
    if view.summary is not None and not running:
        for model, summary in view.summary.models.items():
            figures = ", ".join(f"{k} {v:.2f}" for k, v in summary.metrics.items() if isinstance(v, (int, float)))
            lines.append(f"- `{model}`: {figures or '-'}")
    if view.job is not None and view.job.message and view.job.status.finished:
        lines.append(f"> {view.job.message}")
    return "\n\n".join(lines), running


def _values(form: list, lang: str) -> dict:
    """EvalRunConfig fields from the form's values, in the order `_form` lists its components."""
    (models, set_name, metrics, temperature, top_p, max_new, seed, limit, concurrency, timeout, retries, judge_on,
     mode, url, judge_model, key_env, judge_lang, dims, template, name) = form
    values = {"models": list(models or []), "set": (set_name or "").strip(), "metrics": list(metrics or []),
              "generation": {"temperature": float(temperature), "top_p": float(top_p),
                             "max_new_tokens": int(max_new), "seed": int(seed or 0)},
              "limit": int(limit) if limit else None, "concurrency": int(concurrency), "timeout_s": float(timeout),
              "retries": int(retries), "name": (name or "").strip()}
    if judge_on:
        values["judge"] = {"mode": mode, "base_url": (url or "").strip(), "model": (judge_model or "").strip(),
                           "api_key_env": key_env or None, "lang": judge_lang or lang,
                           "dimensions": [d.strip() for d in (dims or "").split(",") if d.strip()],
                           "template": template or None}
    return values


def command_text(values: dict, run_id: str = "RUN_ID", target: str | None = None) -> str:
    """The terminal commands that do what the form does."""
    lines = [cli(*run_command(values, target))]
    if values.get("judge"):
        lines.append(cli(*judge_command(run_id, values["judge"])))
    return "\n".join(lines)


def _form(services: Services, labels: Labels, live: Live) -> list:
    with gr.Row():
        models = labels.make(Picker, "ui.ev.versions", multiselect=True, scale=2)
        set_name = labels.make(Picker, "ui.ev.set", scale=1)
        live.picker(models, lambda lang: version_ids(services), topics=("models",))
        live.picker(set_name, lambda lang: [s.name for s in services.evals.sets.list()], topics=("evals", "datasets"))
    # The registry is code, not workspace data: its choices exist at build (the server checks picks against them).
    metrics = labels.make(gr.CheckboxGroup, "ui.ev.metrics", metric_choices(labels.lang), info="ui.ev.metrics.info",
                          value=["exact_match"])
    live.add([metrics], lambda lang: [gr.update(choices=metric_choices(lang))], topics=("configs",))
    with labels.make(gr.Accordion, "ui.ev.generation", open=False), gr.Row():
        temperature = labels.make(gr.Slider, "ui.sampling.temperature", minimum=0.0, maximum=2.0, value=0.0, step=0.05)
        top_p = labels.make(gr.Slider, "ui.sampling.top_p", minimum=0.05, maximum=1.0, value=1.0, step=0.05)
        max_new = labels.make(gr.Number, "ui.sampling.max_new_tokens", value=256, precision=0, minimum=1, maximum=8192)
        seed = labels.make(gr.Number, "ui.ev.seed", value=0, precision=0, minimum=0)
    with labels.make(gr.Accordion, "ui.ev.execution", open=False), gr.Row():
        limit = labels.make(gr.Number, "ui.ev.limit", info="ui.ev.limit.info", value=0, precision=0, minimum=0)
        concurrency = labels.make(gr.Number, "ui.ev.concurrency", value=4, precision=0, minimum=1, maximum=64)
        timeout = labels.make(gr.Number, "ui.ev.timeout", value=120, minimum=1, maximum=3600)
        retries = labels.make(gr.Number, "ui.ev.retries", value=1, precision=0, minimum=0, maximum=10)
    with labels.make(gr.Accordion, "ui.ev.judge", open=False):
        with gr.Row():
            judge_on = labels.make(gr.Checkbox, "ui.ev.judge_on", value=False)
            mode = labels.make(gr.Radio, "ui.ev.judge_mode", value="single",
                               choices=[("ui.ev.judge_mode.single", "single"), ("ui.ev.judge_mode.pairwise", "pairwise")])
            # Codes, not language names: the page's own language switch is the one control labelled "中文".
            judge_lang = labels.make(gr.Dropdown, "ui.ev.judge_lang", ["en", "zh"], value=labels.lang)
        with gr.Row():
            url = labels.make(gr.Textbox, "ui.ev.judge_url", placeholder="http://127.0.0.1:8000/v1")
            judge_model = labels.make(gr.Textbox, "ui.ev.judge_model")
            key_env = labels.make(Picker, "ui.ev.judge_key", info="ui.ev.judge_key.info")
            live.picker(key_env, lambda lang: [("—", ""), *services.credential_choices()], topics=("configs",))
        dims = labels.make(gr.Textbox, "ui.ev.judge_dims", value=",".join(DEFAULT_DIMENSIONS))
        template = labels.make(gr.Textbox, "ui.ev.judge_template", info="ui.ev.judge_template.info", lines=3)
    name = labels.make(gr.Textbox, "ui.ev.run_name")
    return [models, set_name, metrics, temperature, top_p, max_new, seed, limit, concurrency, timeout, retries,
            judge_on, mode, url, judge_model, key_env, judge_lang, dims, template, name]


def build(bench: EvalWorkbench, services: Services, labels: Labels, lang_state: gr.State, live: Live) -> gr.Dropdown:
    """Draw the sub-tab and wire start, command, stop, resume and the status panel; returns the run picker."""
    form = _form(services, labels, live)
    with gr.Row():
        start = labels.make(gr.Button, "ui.ev.start", attr="value", variant="primary")
        show_cmd = labels.make(gr.Button, "ui.ev.show_command", attr="value")
        checkpoints = labels.make(gr.Button, "ui.ev.score_checkpoints", attr="value")
        run_on = targets.run_on_picker(services, labels, live)
    started = gr.Markdown()
    command = labels.make(gr.Code, "ui.ev.command", language="shell", interactive=False)
    runs = labels.make(gr.Dataframe, "ui.ev.runs_table", headers=RUN_HEADERS, interactive=False, wrap=True,
                       max_height=300)
    with gr.Row():
        run = labels.make(Picker, "ui.ev.run", scale=2)
        stop = labels.make(gr.Button, "ui.ev.stop", attr="value", variant="stop", scale=0)
        resume = labels.make(gr.Button, "ui.ev.resume", attr="value", scale=0)
    status = gr.Markdown()
    timer = gr.Timer(STATUS_TICK_S, active=False)

    def do_start(*args):
        *values, where, lang = args
        data = _values(values, lang)
        folder, job = bench.start(data, target=where)
        text = t("ui.ev.started", lang, run=folder.run_id, job=job.id)
        return [text, command_text(data, folder.run_id, where), run_rows(bench),
                gr.update(choices=run_choices(bench), value=folder.run_id), folder.run_id]

    def do_checkpoints(*args):
        *values, where, lang = args
        data = _values(values, lang)
        chosen = data.get("models") or []
        if len(chosen) != 1:
            raise InvalidInputError("err.ev_pick_one_version")
        folder, job = bench.runs.score_checkpoints(chosen[0], data, target=where)
        text = t("ui.ev.started", lang, run=folder.run_id, job=job.id)
        values_now = {**data, "models": folder.config().models}
        return [text, command_text(values_now, folder.run_id, where), run_rows(bench),
                gr.update(choices=run_choices(bench), value=folder.run_id), folder.run_id]

    def do_command(*args):
        *values, lang = args
        data = _values(values, lang)
        config, samples = bench.runs.prepare(data)  # refused here exactly as Start would refuse it
        return [t("ui.ev.checked", lang, samples=len(samples), metrics=", ".join(config.metrics)),
                command_text(data)]

    def panel(run_id, lang):
        text, running = status_text(bench, run_id, lang)
        return [text, gr.Timer(active=running)]

    def do_stop(run_id, lang):
        job = bench.stop(run_id)
        note = t("ui.ev.stopping", lang, job=job.id) if job else t("ui.ev.not_running", lang, run=run_id)
        text, running = status_text(bench, run_id, lang)
        return [f"{note}\n\n{text}", gr.Timer(active=running)]

    def do_resume(run_id, lang):
        job = bench.resume(run_id)
        text, _ = status_text(bench, run_id, lang)
        return [f"{t('ui.ev.resumed', lang, job=job.id)}\n\n{text}", gr.Timer(active=True)]

    run_id_box = gr.Textbox(visible=False)  # the new run's id, for scripted callers
    start.click(do_start, [*form, run_on, lang_state], [started, command, runs, run, run_id_box], api_name="eval_start")
    checkpoints.click(do_checkpoints, [*form, run_on, lang_state], [started, command, runs, run, run_id_box],
                      api_name="eval_score_checkpoints")
    show_cmd.click(do_command, [*form, lang_state], [started, command], api_name="eval_command")
    run.change(panel, [run, lang_state], [status, timer], api_name="eval_status", queue=False)
    timer.tick(panel, [run, lang_state], [status, timer], api_name="eval_status_tick", queue=False,
               show_progress="hidden")
    stop.click(do_stop, [run, lang_state], [status, timer], api_name="eval_stop")
    resume.click(do_resume, [run, lang_state], [status, timer], api_name="eval_resume")
    gr.Button(visible=False).click(lambda lang: run_rows(bench), [lang_state], [runs], api_name="eval_runs",
                                   queue=False)
    live.add([runs], lambda lang: [run_rows(bench)], topics=RUN_TOPICS)
    live.add([run], lambda current, lang: [picker_update(run_choices(bench), current)], topics=RUN_TOPICS,
             inputs=[run])
    live.add([status, timer], lambda current, lang: panel(current, lang), topics=("jobs",), inputs=[run])
    build_benchmarks(bench, services, labels, lang_state, live)
    build_gate(bench, services, labels, lang_state, live)
    return run
