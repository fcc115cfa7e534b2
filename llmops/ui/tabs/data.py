"""Data tab: domain corpus, instruction data, mock preferences and the dataset registry, as sub-tabs.

Every action that registers or removes a dataset writes a token into one hidden textbox, whose change
event refreshes the dataset pickers and the registry table at once (selecting what was just made); the
page's live refresh keeps the same components current on load, on tab select and when others change data.
"""

from __future__ import annotations

import gradio as gr

from ...services.container import Services
from ..choices import pt_choices, sft_choices
from ..common import token_name
from ..i18n import Labels
from ..live import Live, picker_update
from . import data_corpus, data_gen, data_registry

SUB_TABS = (("corpus", "ui.data.tab.corpus"), ("gen", "ui.data.tab.gen"), ("mock", "ui.data.tab.mock"),
            ("registry", "ui.data.tab.registry"))


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """The whole tab; call inside a gr.Tab."""
    changed = gr.Textbox(visible=False)
    with gr.Tabs():
        with labels.make(gr.Tab, "ui.data.tab.corpus", id="data-corpus"):
            data_corpus.build(services, labels, lang_state, changed)
        with labels.make(gr.Tab, "ui.data.tab.gen", id="data-gen"):
            corpus_picker = data_gen.build_instructions(services, labels, lang_state, changed)
        with labels.make(gr.Tab, "ui.data.tab.mock", id="data-mock"):
            sft_picker = data_gen.build_mock(services, labels, lang_state)
        with labels.make(gr.Tab, "ui.data.tab.registry", id="data-registry") as tab:
            registry = data_registry.build(services, labels, lang_state, changed)

    def pickers(corpus_now, sft_now, name_now, prefer=None):
        pt, sft = pt_choices(services), sft_choices(services)
        return [picker_update(pt, corpus_now, default=pt[-1], prefer=prefer),
                picker_update(sft, sft_now, default=sft[0] if sft else None, prefer=prefer)]

    def refresh(value, corpus_now, sft_now, name_now, lang_now):
        name = token_name(value)
        return [*pickers(corpus_now, sft_now, name_now, name),
                *data_registry.table_outputs(services, lang_now, name_now, prefer=name)]

    outputs = [corpus_picker, sft_picker, *registry.table_outputs]
    state_inputs = [corpus_picker, sft_picker, registry.name]
    changed.change(refresh, [changed, *state_inputs, lang_state], outputs, api_name="data_refresh", queue=False)

    def listing(lang_now):
        # Scripted callers have no picker values to send: offer fresh choices, the live refresh drops stale picks.
        pt, sft = pt_choices(services), sft_choices(services)
        table, problems, names = data_registry.table_outputs(services, lang_now)
        return [gr.update(choices=pt), gr.update(choices=sft), table, problems, gr.update(choices=names["choices"])]

    registry.refresh_button.click(listing, [lang_state], outputs, api_name="data_list", queue=False)
    tab.select(listing, [lang_state], outputs, api_name="data_registry_open", queue=False)
    live.add([corpus_picker, sft_picker], lambda c, s, lang_now: pickers(c, s, None), topics=("datasets",),
             inputs=[corpus_picker, sft_picker])
    live.add(registry.table_outputs, lambda n, lang_now: data_registry.table_outputs(services, lang_now, n),
             topics=("datasets",), inputs=[registry.name])
