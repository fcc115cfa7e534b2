"""Evaluation tab: sets, runs and results, each a sub-tab over the evaluation services."""

from __future__ import annotations

import gradio as gr

from ...services.container import Services
from ...services.evaluation.service import EvalWorkbench
from ..i18n import Labels
from ..live import Live
from . import evaluation_results, evaluation_run, evaluation_sets


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> EvalWorkbench:
    """Draw the three sub-tabs; every picker and table registers with `live`, so none is filled at build."""
    bench = EvalWorkbench(services.settings, services.evals)
    with gr.Tabs():
        with labels.make(gr.Tab, "ui.ev.tab.sets", id="eval_sets"):
            evaluation_sets.build(bench, services, labels, lang_state, live)
        with labels.make(gr.Tab, "ui.ev.tab.run", id="eval_run"):
            evaluation_run.build(bench, services, labels, lang_state, live)
        with labels.make(gr.Tab, "ui.ev.tab.results", id="eval_results"):
            evaluation_results.build(bench, labels, lang_state, live)
    return bench
