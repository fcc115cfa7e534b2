"""A/B tab: anonymous side-by-side answers, four vote buttons, names revealed after the vote, batch prompts."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ...errors import LLMOpsError
from ...i18n import t
from ...lf import dataset_info
from ...schemas.models import SamplingParams
from ...services.arena import CHOICES, prompts_from_file
from ...services.container import Services
from ..i18n import Labels, user_error

RANDOM = "random"


@dataclass
class ArenaTab:
    """Components the loop panel pre-selects after a DPO round, and the boxes the Chat tab fills."""

    model_a: gr.Dropdown
    model_b: gr.Dropdown
    prompt: gr.Textbox
    system: gr.Textbox


def model_choices(services: Services) -> list[str]:
    """Registry ids (the reconciler registers completed jobs), after a 'random' entry."""
    return [RANDOM, *(entry.id for entry in services.models.list())]


def default_pair(services: Services) -> tuple[str, str]:
    """The pair the last DPO round set up, else the default chat backend against a random model."""
    current, previous = services.loop.pair()
    ids = {entry.id for entry in services.models.list()}
    if current in ids and previous in ids:
        return current, previous
    default = services.models.default()
    return (default.id if default else RANDOM), RANDOM


def _batch_prompts(services: Services, name: str) -> list[str]:
    entries = dataset_info.read(dataset_info.ensure(services.settings)).entries
    path = dataset_info.resolve_file(services.settings.data_dir, entries.get(name, {}))
    return prompts_from_file(path) if path and path.exists() else []


def _record_vote(services: Services, session: str, round_id, choice: str, edited: str, lang: str):
    try:
        result = services.arena.vote(session, round_id, choice, edited)
    except LLMOpsError as exc:
        raise user_error(exc, lang) from exc
    key = "ui.ab.saved" if result.stored else "ui.ab.duplicate"
    reveal = t("ui.ab.reveal", lang, left=result.left_model, right=result.right_model)
    return f"{t(key, lang, vote_id=result.vote_id)}\n\n{reveal}", result.left_model, result.right_model


def _vote_button(services: Services, choice: str):
    def vote(edited, round_id, lang, request: gr.Request):
        return _record_vote(services, request.session_hash, round_id, choice, edited, lang)
    return vote


class _ArenaHandlers:
    """Event handlers of the tab; the session is Gradio's per-browser (or per-client) session hash."""

    def __init__(self, services: Services):
        self.services = services

    def generate(self, prompt_text, system_text, temp, top, max_new, first_id, second_id, lang_now,
                 request: gr.Request):
        arena = self.services.arena
        try:
            params = SamplingParams(temperature=temp, top_p=top, max_new_tokens=int(max_new))
            round_ = arena.start_round(request.session_hash, prompt_text, system_text, params,
                                       None if first_id == RANDOM else first_id,
                                       None if second_id == RANDOM else second_id)
            for left_text, right_text in arena.stream(round_):
                yield left_text, right_text, round_.round_id, "", ""
            arena.raise_side_error(round_)
        except LLMOpsError as exc:
            raise user_error(exc, lang_now) from exc

    def vote_any(self, choice, edited_text, round_id, lang_now, request: gr.Request):
        return _record_vote(self.services, request.session_hash, round_id, choice, edited_text, lang_now)

    def next_prompt(self, name, state, lang_now):
        prompts = _batch_prompts(self.services, name) if name else []
        if not prompts:
            raise gr.Error(t("ui.ab.batch_empty", lang_now))
        index = (state["index"] + 1) if state.get("name") == name else 0
        index %= len(prompts)
        return prompts[index], {"name": name, "index": index}, f"{index + 1}/{len(prompts)}"

    def reload(self, lang_now):
        ids = model_choices(self.services)
        first_id, second_id = default_pair(self.services)
        return gr.update(choices=ids, value=first_id), gr.update(choices=ids, value=second_id)


def build(services: Services, labels: Labels, lang_state: gr.State) -> ArenaTab:
    """Draw the tab and wire generate, the votes and batch mode."""
    lang = labels.lang
    first, second = default_pair(services)
    choices = model_choices(services)
    with gr.Row():
        model_a = labels(gr.Dropdown(choices, value=first, label=t("ui.ab.model_a", lang), allow_custom_value=True),
                         "ui.ab.model_a", "ui.ab.model.info")
        model_b = labels(gr.Dropdown(choices, value=second, label=t("ui.ab.model_b", lang), allow_custom_value=True),
                         "ui.ab.model_b", "ui.ab.model.info")
        reload_btn = labels(gr.Button(t("ui.ab.reload", lang), scale=0), "ui.ab.reload", attr="value")
    with gr.Accordion(t("ui.ab.settings", lang), open=False):
        system = labels(gr.Textbox(label=t("ui.ab.system", lang), lines=2), "ui.ab.system")
        with gr.Row():
            temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="temperature")
            top_p = gr.Slider(0.05, 1.0, value=0.9, step=0.05, label="top_p")
            max_tokens = gr.Slider(1, 2048, value=256, step=1, label="max_new_tokens")
    with gr.Row():
        batch_ds = labels(gr.Dropdown(services.training.datasets_for_stage("sft")
                                      + services.training.datasets_for_stage("dpo"), value=None,
                                      allow_custom_value=True, label=t("ui.ab.batch", lang)), "ui.ab.batch")
        next_btn = labels(gr.Button(t("ui.ab.next", lang), scale=0), "ui.ab.next", attr="value")
        batch_pos = gr.Markdown()
    prompt = labels(gr.Textbox(label=t("ui.ab.prompt", lang), lines=3), "ui.ab.prompt")
    go = labels(gr.Button(t("ui.ab.generate", lang), variant="primary"), "ui.ab.generate", attr="value")
    with gr.Row():
        left = labels(gr.Textbox(label=t("ui.ab.left", lang), lines=10, interactive=False), "ui.ab.left")
        right = labels(gr.Textbox(label=t("ui.ab.right", lang), lines=10, interactive=False), "ui.ab.right")
    with gr.Row():
        buttons = {choice: labels(gr.Button(t(f"ui.ab.vote_{choice}", lang)), f"ui.ab.vote_{choice}", attr="value")
                   for choice in CHOICES}
    edited = labels(gr.Textbox(label=t("ui.ab.edited", lang), lines=3), "ui.ab.edited", "ui.ab.edited.info")
    reveal = gr.Markdown()
    round_state, batch_state = gr.State(None), gr.State({"name": None, "index": 0})
    revealed_left, revealed_right = gr.Textbox(visible=False), gr.Textbox(visible=False)
    any_choice = gr.Textbox(visible=False)

    h = _ArenaHandlers(services)
    gen_inputs = [prompt, system, temperature, top_p, max_tokens, model_a, model_b, lang_state]
    go.click(h.generate, gen_inputs, [left, right, round_state, reveal, edited], api_name="ab_generate",
             concurrency_id="generate", concurrency_limit=8)
    vote_outputs = [reveal, revealed_left, revealed_right]
    for choice, button in buttons.items():
        button.click(_vote_button(services, choice), [edited, round_state, lang_state], vote_outputs,
                     api_name=f"vote_{choice}", queue=False)
    gr.Button(visible=False).click(h.vote_any, [any_choice, edited, round_state, lang_state], vote_outputs,
                                   api_name="vote", queue=False)
    next_btn.click(h.next_prompt, [batch_ds, batch_state, lang_state], [prompt, batch_state, batch_pos],
                   api_name="ab_next_prompt", queue=False)
    reload_btn.click(h.reload, [lang_state], [model_a, model_b], api_name="ab_models")
    return ArenaTab(model_a, model_b, prompt, system)
