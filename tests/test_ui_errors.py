"""The one error path: a service error raised in any event reaches the page in the session's language."""

from __future__ import annotations

import gradio as gr
import pytest

from llmops.errors import NotFoundError
from llmops.ui.common import errors_to_messages


def test_every_event_turns_service_errors_into_messages_in_the_session_language():
    with gr.Blocks() as demo:
        lang = gr.State("en")
        box = gr.Textbox()

        def plain(text, lang_now):
            raise NotFoundError("err.model_unknown", model_id=text)

        def stream(text, lang_now):
            yield "first"
            raise NotFoundError("err.model_unknown", model_id=text)

        box.submit(plain, [box, lang], box, api_name="plain")
        box.change(stream, [box, lang], box, api_name="stream")
    errors_to_messages(demo, lang, "en")
    fns = {fn.api_name: fn.fn for fn in demo.fns.values()}
    with pytest.raises(gr.Error) as caught:
        fns["plain"]("m@v9", "zh")
    assert "m@v9" in caught.value.message and any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)
    steps = fns["stream"]("m@v9", "en")
    assert next(steps) == "first"
    with pytest.raises(gr.Error) as caught:
        next(steps)
    assert "m@v9" in caught.value.message and caught.value.message.isascii()


def test_the_wrapped_handlers_keep_their_signatures(llmops_home):
    """Gradio injects gr.Request by reading the handler's signature, so the guard must not hide it."""
    import inspect

    from llmops.services.container import build_services
    from llmops.settings import Settings
    from llmops.ui.app import build_app

    demo = build_app(build_services(Settings.from_env()))
    generate = next(fn.fn for fn in demo.fns.values() if fn.api_name == "ab_generate")
    assert "request" in inspect.signature(generate).parameters
    assert inspect.isgeneratorfunction(generate)
