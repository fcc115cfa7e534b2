"""Chat tab: multi-turn streaming chat with any registered version; regenerate, clear, stop, send to A/B."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import gradio as gr

from ...errors import LLMOpsError
from ...i18n import t
from ...schemas.models import SamplingParams
from ...services.chat import ChatRequest, conversation, last_user_message
from ...services.container import Services
from ..i18n import Labels
from .arena import ArenaTab

AB_TAB_ID = "ab"


@dataclass
class ChatTab:
    """Components other parts of the page refresh (the model picker)."""

    model: gr.Dropdown


def chat_models(services: Services) -> tuple[list[str], str | None]:
    """The picker's choices (every registered version) and the one to pre-select (the app's chat backend)."""
    return services.chat.model_ids(), services.chat.default_model()


class _ChatHandlers:
    """Event handlers; a conversation lives in the Chatbot's value, so each browser (or client) has its own."""

    def __init__(self, services: Services):
        self.services = services

    def send(self, message, history, model_id, system, temp, top, max_new, lang, request: gr.Request):
        chat = self.services.chat
        chat_request = chat.request(model_id, history, message, system, _params(temp, top, max_new))
        yield from self._answer(chat_request, request.session_hash, lang, clear_box=True)

    def regenerate(self, history, model_id, system, temp, top, max_new, lang, request: gr.Request):
        chat = self.services.chat
        chat_request = chat.regenerate_request(model_id, history, system, _params(temp, top, max_new))
        yield from self._answer(chat_request, request.session_hash, lang, clear_box=False)

    def _answer(self, chat_request: ChatRequest, session: str, lang: str, clear_box: bool) -> Iterator[tuple]:
        box = "" if clear_box else gr.update()
        asked = conversation(chat_request.messages)
        pieces = self.services.chat.stream(chat_request, session)
        answer, start = "", time.perf_counter()
        yield [*asked, {"role": "assistant", "content": ""}], box, ""
        try:
            with contextlib.closing(pieces):
                for piece in pieces:
                    answer += piece
                    yield [*asked, {"role": "assistant", "content": answer}], box, ""
        except LLMOpsError:
            # The question stays, the broken answer goes (regenerate asks again); the page's error path shows why.
            yield asked, box, ""
            raise
        seconds = f"{time.perf_counter() - start:.1f}"
        status = (t("ui.chat.stopped", lang) if pieces.stopped
                  else t("ui.chat.answered", lang, model=chat_request.model_id, seconds=seconds))
        yield [*asked, {"role": "assistant", "content": answer}], box, status

    def stop(self, lang, request: gr.Request):
        self.services.chat.stop(request.session_hash)
        return t("ui.chat.stopped", lang)

    def clear(self, lang, request: gr.Request):
        self.services.chat.stop(request.session_hash)
        return [], "", t("ui.chat.cleared", lang)

    def to_ab(self, history, system, lang):
        return last_user_message(history), system or "", gr.Tabs(selected=AB_TAB_ID), t("ui.chat.sent_to_ab", lang)

    def reload(self):
        choices, default = chat_models(self.services)
        return gr.update(choices=choices, value=default)


def _params(temp, top, max_new) -> SamplingParams:
    return SamplingParams(temperature=float(temp), top_p=float(top), max_new_tokens=int(max_new))


def _labelled(labels: Labels, make, key: str, *args, **kwargs):
    """`make(*args, label=..., info=..., **kwargs)` in the start language, registered to follow the switch."""
    return labels.make(make, key, *args, info=f"{key}.info", **kwargs)


def build(services: Services, labels: Labels, lang_state: gr.State, arena: ArenaTab, tabs: gr.Tabs) -> ChatTab:
    """Draw the tab and wire send, regenerate, stop, clear, send to A/B and the model list."""
    choices, default = chat_models(services)
    with gr.Row():
        model = _labelled(labels, gr.Dropdown, "ui.chat.model", choices, value=default, allow_custom_value=True)
        reload_btn = labels.make(gr.Button, "ui.chat.reload", scale=0, attr="value")
    with labels.make(gr.Accordion, "ui.chat.settings", open=False):
        system = _labelled(labels, gr.Textbox, "ui.chat.system", lines=2)
        with gr.Row():
            temperature = _labelled(labels, gr.Slider, "ui.sampling.temperature", 0.0, 2.0, value=0.7, step=0.05)
            top_p = _labelled(labels, gr.Slider, "ui.sampling.top_p", 0.05, 1.0, value=0.9, step=0.05)
            max_tokens = _labelled(labels, gr.Slider, "ui.sampling.max_new_tokens", 1, 4096, value=512, step=1)
    chatbot = _labelled(labels, gr.Chatbot, "ui.chat.conversation", type="messages", height=460)
    # One line: Enter sends and Shift+Enter adds a line (a taller box would send on Shift+Enter instead).
    message = _labelled(labels, gr.Textbox, "ui.chat.message", lines=1, max_lines=8)
    with gr.Row():
        buttons = {key: labels.make(gr.Button, f"ui.chat.{key}", variant=variant, attr="value")
                   for key, variant in (("send", "primary"), ("regenerate", "secondary"), ("stop", "stop"),
                                        ("clear", "secondary"), ("to_ab", "secondary"))}
    status = gr.Markdown()

    h = _ChatHandlers(services)
    settings = [model, system, temperature, top_p, max_tokens, lang_state]
    answer = [chatbot, message, status]
    generating = {"concurrency_id": "generate", "concurrency_limit": 8}
    sending = gr.on([buttons["send"].click, message.submit], h.send, [message, chatbot, *settings], answer,
                    api_name="chat_send", **generating)
    regenerating = buttons["regenerate"].click(h.regenerate, [chatbot, *settings], answer,
                                               api_name="chat_regenerate", **generating)
    # Gradio's cancel stops the page's updates; the handler stops the generation itself at the next token.
    running = [sending, regenerating]
    buttons["stop"].click(h.stop, [lang_state], [status], cancels=running, api_name="chat_stop", queue=False)
    gr.on([buttons["clear"].click, chatbot.clear], h.clear, [lang_state], answer, cancels=running,
          api_name="chat_clear", queue=False)
    buttons["to_ab"].click(h.to_ab, [chatbot, system, lang_state], [arena.prompt, arena.system, tabs, status],
                           api_name="chat_to_ab", queue=False)
    reload_btn.click(h.reload, None, [model], api_name="chat_models", queue=False)
    return ChatTab(model)
