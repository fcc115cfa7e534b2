"""build_app: the page frame, the language switch and the tabs."""

from __future__ import annotations

import gradio as gr

from ..i18n import t
from ..services.container import Services
from .i18n import Labels
from .tabs import arena, chat, data, leaderboard, models, training

CSS = "footer {display: none !important}"


def build_app(services: Services) -> gr.Blocks:
    """Create the Blocks app; nothing heavy (torch, transformers) is imported here."""
    lang = services.settings.lang
    labels = Labels(lang)
    with gr.Blocks(title="LLMOps Studio", css=CSS, analytics_enabled=False) as demo:
        lang_state = gr.State(lang)
        with gr.Row():
            labels(gr.Markdown(t("ui.app.title", lang)), "ui.app.title", attr="value")
            switch = gr.Radio(choices=[("English", "en"), ("中文", "zh")], value=lang, label="Language / 语言",
                              scale=0, min_width=200)
        with gr.Tabs() as tabs:
            with labels(gr.Tab(t("ui.tab.data", lang), id="data"), "ui.tab.data"):
                data.build(services, labels, lang_state)
            with labels(gr.Tab(t("ui.tab.training", lang), id="training"), "ui.tab.training"):
                train_tab = training.build(services, labels, lang_state)
            with labels(gr.Tab(t("ui.tab.ab", lang), id="ab"), "ui.tab.ab"):
                arena_tab = arena.build(services, labels, lang_state)
            with labels(gr.Tab(t("ui.tab.chat", lang), id="chat"), "ui.tab.chat"):
                chat.build(services, labels, lang_state, arena_tab, tabs)
            with labels(gr.Tab(t("ui.tab.leaderboard", lang), id="leaderboard"), "ui.tab.leaderboard"):
                leaderboard.build(services, labels, lang_state)
            with labels(gr.Tab(t("ui.tab.models", lang), id="models"), "ui.tab.models"):
                models.build(services, labels, lang_state, arena_tab)

        def set_language(new_lang):
            return [new_lang, *labels.updates(new_lang)]

        def on_load(current_lang):
            # The device probe imports torch, so it runs after the page is up, not at start-up.
            from ..services.device import probe

            info = probe()
            return t("ui.device", current_lang, device=info.describe())

        switch.change(set_language, [switch], [lang_state, *labels.components], api_name="set_language",
                      queue=False)
        demo.load(on_load, [lang_state], [train_tab.device], api_name="device_info")
    return demo
