"""Evaluation > Run, the two side panels: lm-eval benchmarks on a local version, and the regression gate setting."""

from __future__ import annotations

import gradio as gr

from ...i18n import t
from ...services.container import Services
from ...services.evaluation import metrics as registry
from ...services.evaluation.gate import GateSetting
from ...services.evaluation.service import EvalWorkbench
from ..choices import version_ids
from ..components import Picker
from ..i18n import Labels
from ..live import Live
from . import targets


def gate_text(setting: GateSetting, lang: str) -> str:
    """The stored gate setting in one sentence."""
    if not setting.enabled:
        return t("ui.ev.gate_off", lang, set=setting.set or "-", metric=setting.metric or "-")
    return t("ui.ev.gate_on", lang, set=setting.set, metric=setting.metric, threshold=f"{setting.threshold:g}")


def build_benchmarks(bench: EvalWorkbench, services: Services, labels: Labels, lang_state: gr.State,
                     live: Live) -> None:
    """Version + example task files -> a benchmark job."""
    with labels.make(gr.Accordion, "ui.ev.bench_title", open=False):
        with gr.Row():
            version = labels.make(Picker, "ui.ev.version")
            tasks = labels.make(Picker, "ui.ev.bench_tasks", multiselect=True, scale=2)
            limit = labels.make(gr.Number, "ui.ev.limit", info="ui.ev.limit.info", value=0, precision=0, minimum=0)
            run_on = targets.run_on_picker(services, labels, live)
            start = labels.make(gr.Button, "ui.ev.bench_start", attr="value", scale=0)
        started = gr.Markdown()

    def do_start(version_id, task_files, max_docs, target, lang):
        folder, job = bench.start_benchmark(version_id or "", list(task_files or []), int(max_docs) if max_docs else None,
                                            target or None)
        return t("ui.ev.bench_started", lang, run=folder.run_id, job=job.id)

    start.click(do_start, [version, tasks, limit, run_on, lang_state], [started], api_name="eval_benchmark")
    live.picker(version, lambda lang: version_ids(services), topics=("models",))
    live.picker(tasks, lambda lang: [(p.name, str(p)) for p in bench.benchmark_tasks()], topics=("configs",))


def build_gate(bench: EvalWorkbench, services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """The gate on making a version current: set, metric, tolerated regression; on or off."""
    with labels.make(gr.Accordion, "ui.ev.gate_title", open=False):
        current = gr.Markdown()
        with gr.Row():
            set_name = labels.make(Picker, "ui.ev.set")
            metric = labels.make(gr.Dropdown, "ui.ev.gate_metric", value="exact_match",
                                 choices=[(f"ev.metric.{name}", name) for name in registry.METRICS])
            threshold = labels.make(gr.Number, "ui.ev.gate_threshold", info="ui.ev.gate_threshold.info", value=0.0,
                                    minimum=0)
            enable = labels.make(gr.Button, "ui.ev.gate_enable", attr="value", scale=0)
            disable = labels.make(gr.Button, "ui.ev.gate_disable", attr="value", scale=0)

    def do_enable(set_value, metric_name, tolerated, lang):
        return gate_text(bench.configure_gate(set_value or "", metric_name or "", float(tolerated or 0)), lang)

    def do_disable(lang):
        return gate_text(bench.disable_gate(), lang)

    enable.click(do_enable, [set_name, metric, threshold, lang_state], [current], api_name="eval_gate_set")
    disable.click(do_disable, [lang_state], [current], api_name="eval_gate_disable")
    live.add([current], lambda lang: [gate_text(bench.gate(), lang)], topics=("configs",))
    live.picker(set_name, lambda lang: bench.set_names(), topics=("evals", "datasets"))
