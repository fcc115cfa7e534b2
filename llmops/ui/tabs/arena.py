"""A/B tab: anonymous side-by-side answers, four vote buttons, names revealed after the vote, batch prompts."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import gradio as gr

from ...i18n import t
from ...schemas.models import SamplingParams
from ...services.arena import CHOICES, Round, prompts_from_file
from ...services.container import Services
from ..components import Picker
from ..i18n import Labels

RANDOM = "random"


@dataclass
class ArenaTab:
    """Components other tabs reach: the pickers the loop panel pre-selects, the prompt a conversation is sent to."""

    model_a: gr.Dropdown
    model_b: gr.Dropdown
    prompt: gr.Textbox
    system: gr.Textbox
    batch: gr.Dropdown


def version_choices(services: Services) -> list[str]:
    """Registry ids (the reconciler registers completed jobs), after a 'random' entry."""
    return [RANDOM, *(entry.id for entry in services.models.list())]


def labelled_choices(services: Services, lang: str) -> list:
    """The pickers' choices: 'random' shown in the page's language, then every version id as it is."""
    return [(t("ui.ab.random", lang), RANDOM), *(entry.id for entry in services.models.list())]


def default_pair(services: Services) -> tuple[str, str]:
    """The pair the last DPO round set up, else the default chat backend against a random model."""
    current, previous = services.loop.pair()
    ids = {entry.id for entry in services.models.list()}
    if current in ids and previous in ids:
        return current, previous
    default = services.models.default()
    return (default.id if default else RANDOM), RANDOM


def batch_sets(services: Services) -> list[str]:
    """Datasets whose prompts the batch mode can walk through."""
    return services.training.datasets_for_stage("sft") + services.training.datasets_for_stage("dpo")


def _batch_prompts(services: Services, name: str) -> list[str]:
    path = services.datasets.file_of(name)
    return prompts_from_file(path) if path.exists() else []


def _record_vote(services: Services, session: str, round_id, choice: str, edited: str, lang: str):
    result = services.arena.vote(session, round_id, choice, edited)
    key = "ui.ab.saved" if result.stored else "ui.ab.duplicate"
    reveal = t("ui.ab.reveal", lang, left=result.left_model, right=result.right_model)
    return f"{t(key, lang, vote_id=result.vote_id)} {reveal}", result.left_model, result.right_model


def _vote_button(services: Services, choice: str):
    def vote(edited, round_id, lang, request: gr.Request):
        return _record_vote(services, request.session_hash, round_id, choice, edited, lang)
    return vote


def _answer_labels(lang: str, left_model: str = "", right_model: str = "") -> tuple[dict, dict]:
    """The answer boxes' labels: plain before a vote, with the revealed model names after it."""
    if not (left_model and right_model):
        return {"label": t("ui.ab.left", lang)}, {"label": t("ui.ab.right", lang)}
    return ({"label": t("ui.ab.left_named", lang, model=left_model)},
            {"label": t("ui.ab.right_named", lang, model=right_model)})


def _last_frame(round_: Round, lang: str):
    """The frame after both streams end: ready to vote, or the failed side's message (and an error for the API)."""
    left_text, right_text = round_.side_text("left"), round_.side_text("right")
    if round_.errors:
        error = next(iter(round_.errors.values()))
        yield left_text, right_text, None, error.message(lang), ""
        raise error  # the page's error path shows it in the session's language (and fails an API call)
    if round_.done:  # else a newer round of this session took over the panes
        yield left_text, right_text, round_.round_id, t("ui.ab.ready", lang), ""


class _ArenaHandlers:
    """Event handlers of the tab; the session is Gradio's per-browser (or per-client) session hash."""

    def __init__(self, services: Services):
        self.services = services

    def generate(self, prompt_text, system_text, temp, top, max_new, first_id, second_id, lang_now,
                 request: gr.Request):
        arena = self.services.arena
        params = SamplingParams(temperature=temp, top_p=top, max_new_tokens=int(max_new))
        round_ = arena.start_round(request.session_hash, prompt_text, system_text, params,
                                   None if first_id == RANDOM else first_id,
                                   None if second_id == RANDOM else second_id)
        # A new round hides the names the last vote revealed.
        left_label, right_label = _answer_labels(lang_now)
        working = t("ui.ab.generating", lang_now)
        yield gr.update(value="", **left_label), gr.update(value="", **right_label), round_.round_id, working, ""
        # Closing this generator (the client went away) closes the round's stream, which cancels the round.
        with contextlib.closing(arena.stream(round_)) as frames:
            for left_text, right_text in frames:
                yield left_text, right_text, round_.round_id, working, ""
        yield from _last_frame(round_, lang_now)

    def vote_any(self, choice, edited_text, round_id, lang_now, request: gr.Request):
        return _record_vote(self.services, request.session_hash, round_id, choice, edited_text, lang_now)

    @staticmethod
    def reveal(left_model, right_model, lang_now):
        left_label, right_label = _answer_labels(lang_now, left_model, right_model)
        return gr.update(**left_label), gr.update(**right_label)

    def next_prompt(self, name, state, lang_now):
        prompts = _batch_prompts(self.services, name) if name else []
        if not prompts:
            raise gr.Error(t("ui.ab.batch_empty", lang_now))
        index = (state["index"] + 1) if state.get("name") == name else 0
        index %= len(prompts)
        return prompts[index], {"name": name, "index": index}, f"{index + 1}/{len(prompts)}"

    def reload(self, lang_now):
        ids = version_choices(self.services)
        first_id, second_id = default_pair(self.services)
        return gr.update(choices=ids, value=first_id), gr.update(choices=ids, value=second_id)


def build(services: Services, labels: Labels, lang_state: gr.State) -> ArenaTab:
    """Draw the tab and wire generate, the votes and batch mode."""
    lang = labels.lang
    first, second = default_pair(services)
    with gr.Row():
        choices = labelled_choices(services, lang)
        model_a = labels.make(Picker, "ui.ab.model_a", choices, info="ui.ab.model.info", value=first)
        model_b = labels.make(Picker, "ui.ab.model_b", choices, info="ui.ab.model.info", value=second)
        reload_btn = labels.make(gr.Button, "ui.ab.reload", scale=0, attr="value")
    with labels.make(gr.Accordion, "ui.ab.settings", open=False):
        system = labels.make(gr.Textbox, "ui.ab.system", lines=2)
        with gr.Row():
            temperature = labels.make(gr.Slider, "ui.sampling.temperature", 0.0, 2.0, value=0.7, step=0.05,
                                      info="ui.sampling.temperature.info")
            top_p = labels.make(gr.Slider, "ui.sampling.top_p", 0.05, 1.0, value=0.9, step=0.05,
                                info="ui.sampling.top_p.info")
            max_tokens = labels.make(gr.Slider, "ui.sampling.max_new_tokens", 1, 2048, value=256, step=1,
                                     info="ui.sampling.max_new_tokens.info")
    with gr.Row():
        batch_ds = labels.make(Picker, "ui.ab.batch", batch_sets(services), value=None)
        next_btn = labels.make(gr.Button, "ui.ab.next", scale=0, attr="value")
        batch_pos = gr.Markdown()
    prompt = labels.make(gr.Textbox, "ui.ab.prompt", lines=3)
    go = labels.make(gr.Button, "ui.ab.generate", variant="primary", attr="value")
    with gr.Row():
        left = labels.make(gr.Textbox, "ui.ab.left", lines=10, interactive=False)
        right = labels.make(gr.Textbox, "ui.ab.right", lines=10, interactive=False)
    with gr.Row(equal_height=True):
        buttons = {choice: labels.make(gr.Button, f"ui.ab.vote_{choice}", scale=1, attr="value")
                   for choice in CHOICES}
        with gr.Column(scale=2):
            status = gr.Markdown()  # next to the buttons: progress, a failed side, the saved vote and the names
    labels.make(gr.Markdown, "ui.ab.legend", attr="value")
    edited = labels.make(gr.Textbox, "ui.ab.edited", info="ui.ab.edited.info", lines=3)
    round_state, batch_state = gr.State(None), gr.State({"name": None, "index": 0})
    revealed_left, revealed_right = gr.Textbox(visible=False), gr.Textbox(visible=False)
    any_choice = gr.Textbox(visible=False)

    h = _ArenaHandlers(services)
    gen_inputs = [prompt, system, temperature, top_p, max_tokens, model_a, model_b, lang_state]
    go.click(h.generate, gen_inputs, [left, right, round_state, status, edited], api_name="ab_generate",
             concurrency_id="generate", concurrency_limit=8)
    vote_outputs = [status, revealed_left, revealed_right]
    reveal = {"fn": h.reveal, "inputs": [revealed_left, revealed_right, lang_state], "outputs": [left, right],
              "queue": False, "show_api": False}
    for choice, button in buttons.items():
        button.click(_vote_button(services, choice), [edited, round_state, lang_state], vote_outputs,
                     api_name=f"vote_{choice}", queue=False).success(**reveal, api_name=f"vote_{choice}_reveal")
    gr.Button(visible=False).click(h.vote_any, [any_choice, edited, round_state, lang_state], vote_outputs,
                                   api_name="vote", queue=False).success(**reveal, api_name="vote_reveal")
    next_btn.click(h.next_prompt, [batch_ds, batch_state, lang_state], [prompt, batch_state, batch_pos],
                   api_name="ab_next_prompt", queue=False)
    reload_btn.click(h.reload, [lang_state], [model_a, model_b], api_name="ab_models")
    return ArenaTab(model_a, model_b, prompt, system, batch_ds)
