"""Surgery tab: mergekit merges, merge-ratio sweeps, LoRA merge and compression, checkpoints; each a sub-tab over the surgery services.

Every operation is a job: it appears in the jobs panel (Models tab) and its completion registers the new version.
"""

from __future__ import annotations

import gradio as gr

from ...services.container import Services
from ...services.surgery.workbench import SurgeryWorkbench
from ..choices import version_ids
from ..i18n import Labels
from ..live import Live
from . import surgery_checkpoints, surgery_lora, surgery_merge, surgery_sweep
from .surgery_lora import adapter_refs, full_models


def offered(services: Services, bench: SurgeryWorkbench) -> dict:
    """What the tab's pickers offer now, by the same functions their live refresh calls (for scripted callers)."""
    return {"versions": version_ids(services), "adapters": adapter_refs(services), "full": full_models(services),
            "runs": [value for _, value in surgery_checkpoints.run_choices(services, bench)]}


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the sub-tabs; every picker and table registers with `live`, so none is filled at build."""
    bench = SurgeryWorkbench(services.settings, services.jobs)
    with gr.Tabs():
        with labels.make(gr.Tab, "ui.sg.tab.merge", id="surgery_merge"):
            surgery_merge.build(services, bench, labels, lang_state, live)
        with labels.make(gr.Tab, "ui.sg.tab.lora", id="surgery_lora"):
            surgery_lora.build(services, bench, labels, lang_state, live)
        with labels.make(gr.Tab, "ui.sg.tab.sweep", id="surgery_sweep"):
            surgery_sweep.build(services, labels, lang_state, live)
        with labels.make(gr.Tab, "ui.sg.tab.checkpoints", id="surgery_checkpoints"):
            surgery_checkpoints.build(services, bench, labels, lang_state, live)
    choices = gr.JSON(visible=False)
    gr.Button(visible=False).click(lambda lang: offered(services, bench), [lang_state], [choices], api_name="surgery_offered",
                                   queue=False)
