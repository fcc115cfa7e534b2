"""build_app: the page frame, the language switch, the tabs and the live refresh that keeps them current."""

from __future__ import annotations

import gradio as gr

from ..i18n import t
from ..services.container import Services
from .common import errors_to_messages
from .i18n import Labels
from .live import Live, picker_update
from .tabs import (arena, chat, dashboard, data, evaluation, jobs, leaderboard, lineage, models, pipelines, surgery,
                   training)

# Panels refreshed in the background stay readable while a refresh is in flight (Gradio dims pending outputs).
CSS = "footer {display: none !important} .llmops-steady .pending {opacity: 1 !important}"


def _arena_live(services: Services, live: Live, tab: arena.ArenaTab) -> None:
    """The arena's pickers follow the registry; a new loop pair is pre-selected once, then the user's choice holds."""
    seen_pair = gr.State(None)

    def refresh(first_now, second_now, seen, lang):
        ids = arena.labelled_choices(services, lang)
        first, second = arena.default_pair(services)
        pair = list(services.loop.pair())
        fresh = pair != seen and all(pair)
        return [picker_update(ids, first_now, default=first, prefer=first if fresh else None),
                picker_update(ids, second_now, default=second, prefer=second if fresh else None), pair]

    live.add([tab.model_a, tab.model_b, seen_pair], refresh, topics=("models",),
             inputs=[tab.model_a, tab.model_b, seen_pair])
    live.picker(tab.batch, lambda lang: arena.batch_sets(services), topics=("datasets",))


def _leaderboard_live(services: Services, live: Live, tab: leaderboard.LeaderboardTab) -> None:
    """The board follows new votes (read incrementally); the two comparison pickers keep the user's pair."""
    first, second = tab.outputs[-2:]

    def refresh(source, first_now, second_now, lang):
        *rest, first_update, second_update = leaderboard.view(services, source, lang)
        return [*rest, picker_update(first_update["choices"], first_now, default=first_update["value"]),
                picker_update(second_update["choices"], second_now, default=second_update["value"])]

    live.add(tab.outputs, refresh, topics=("prefs",), inputs=[tab.source, first, second])


def _theme() -> gr.themes.Base:
    """Gradio's default look in the machine's own fonts: the default theme fetches Google Fonts, which an offline
    GPU box (or a network that blocks Google) would wait on before the page renders."""
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "Noto Sans CJK SC", "sans-serif"],
                             font_mono=["ui-monospace", "SFMono-Regular", "Consolas", "monospace"])


def build_app(services: Services) -> gr.Blocks:
    """Create the Blocks app; nothing heavy (torch, transformers) is imported here."""
    lang = services.settings.lang
    labels = Labels(lang)
    with gr.Blocks(title="LLMOps Studio", css=CSS, theme=_theme(), analytics_enabled=False) as demo:
        lang_state = gr.State(lang)
        live = Live(services.workspace, lang_state)
        with gr.Row():
            labels.make(gr.Markdown, "ui.app.title", attr="value")
            switch = gr.Radio(choices=[("English", "en"), ("中文", "zh")], value=lang, label="Language / 语言",
                              scale=0, min_width=200)
        with gr.Tabs() as tabs:
            with labels.make(gr.Tab, "ui.tab.dashboard", id="dashboard") as live.current_tab:
                dashboard.build(services, labels, lang_state, live, demo, tabs)
            with labels.make(gr.Tab, "ui.tab.data", id="data") as live.current_tab:
                data.build(services, labels, lang_state, live)
            with labels.make(gr.Tab, "ui.tab.training", id="training") as live.current_tab:
                train_tab = training.build(services, labels, lang_state, live)
            with labels.make(gr.Tab, "ui.tab.jobs", id="jobs") as live.current_tab:
                jobs.build(services, labels, lang_state, live)
            with labels.make(gr.Tab, "ui.tab.ab", id="ab") as live.current_tab:
                arena_tab = arena.build(services, labels, lang_state)
                _arena_live(services, live, arena_tab)
            with labels.make(gr.Tab, "ui.tab.chat", id="chat") as live.current_tab:
                chat_tab = chat.build(services, labels, lang_state, arena_tab, tabs)
                live.picker(chat_tab.model, lambda lang_now: services.chat.model_ids(), topics=("models",),
                            follow=services.chat.default_model)
            with labels.make(gr.Tab, "ui.tab.leaderboard", id="leaderboard") as live.current_tab:
                _leaderboard_live(services, live, leaderboard.build(services, labels, lang_state))
            with labels.make(gr.Tab, "ui.tab.evaluation", id="evaluation") as live.current_tab:
                evaluation.build(services, labels, lang_state, live)
            with labels.make(gr.Tab, "ui.tab.surgery", id="surgery") as live.current_tab:
                surgery.build(services, labels, lang_state, live)
            with labels.make(gr.Tab, "ui.tab.models", id="models") as live.current_tab:
                models.build(services, labels, lang_state, live)
            with labels.make(gr.Tab, "ui.tab.pipelines", id="pipelines") as live.current_tab:
                pipelines.build(services, labels, lang_state, live)
            with labels.make(gr.Tab, "ui.tab.lineage", id="lineage") as live.current_tab:
                lineage.build(services, labels, lang_state, live)
        live.current_tab = None

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
        live.wire(demo)
    errors_to_messages(demo, lang_state, lang)
    return demo
