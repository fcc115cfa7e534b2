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


class _Request:
    """What a handler reads from gr.Request: the browser session."""

    session_hash = "test-session"


# Handlers that relied on a guard of their own before the one error path: (api name, arguments, lang last).
_FAILING_CALLS = [
    ("models_set_default", ("nope@v9", "zh")),
    ("stop_job", ("no-such-job", "zh")),
    ("data_stats", ("no_such_set", "zh")),
    ("sft_load_config", ("/etc/hostname", "zh")),
    ("chat_to_ab", ([], "", "zh")),
    ("ab_generate", ("hi", "", 0.7, 0.9, 8, "nope@v9", "nope@v8", "zh", _Request())),
]


@pytest.mark.parametrize(("api_name", "args"), _FAILING_CALLS, ids=[name for name, _ in _FAILING_CALLS])
def test_tab_handlers_without_their_own_guard_answer_in_the_session_language(api_name, args, llmops_home):
    import inspect

    from llmops.services.container import build_services
    from llmops.settings import Settings
    from llmops.ui.app import build_app

    demo = build_app(build_services(Settings.from_env(lang="en")))
    handler = next(fn.fn for fn in demo.fns.values() if fn.api_name == api_name)
    with pytest.raises(gr.Error) as caught:
        result = handler(*args)
        if inspect.isgenerator(result):
            list(result)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message), caught.value.message


def test_tabs_leave_service_errors_to_the_one_error_path():
    """No tab turns an LLMOpsError into a toast itself, except where it does something else first."""
    from pathlib import Path

    ui = Path(__file__).resolve().parent.parent / "llmops" / "ui"
    # The JSON training API takes its language as a request field, not from the page's language state.
    allowed = {"tabs/training_api.py"}
    found = {path.relative_to(ui).as_posix() for path in ui.rglob("*.py")
             if "user_error(" in path.read_text(encoding="utf-8") or "guard(" in path.read_text(encoding="utf-8")}
    assert found - {"common.py", "i18n.py"} == allowed
