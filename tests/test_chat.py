"""Chat: multi-turn replies from the tiny local model and a real `llamafactory-cli api`, and the tab over the API."""

from __future__ import annotations

import contextlib

import pytest

from llmops.backends import backend_for
from llmops.errors import InvalidInputError, LLMOpsError, NotFoundError
from llmops.schemas.models import SamplingParams
from llmops.services.chat import ChatService, last_user_message, without_last_answer
from llmops.services.container import build_services

from .apphelpers import connect


SYSTEM = "You answer in one line."
# Sampled with a seed: the tiny model's greedy answer is only newlines, a sampled one is visible text.
PARAMS = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=8, seed=1)


class RecordingFactory:
    """The real backend for each entry, noting the messages every stream was given."""

    def __init__(self):
        self.calls: list[list[dict]] = []

    def __call__(self, entry, cache):
        backend, calls = backend_for(entry, cache), self.calls

        class Recorded:
            def stream(self, messages, params):
                calls.append([dict(m) for m in messages])
                return backend.stream(messages, params)

        return Recorded()


@pytest.fixture
def services(settings, demo_model_dir):
    built = build_services(settings)
    built.models.add_base("demo", str(demo_model_dir), template="chatml")
    return built


@pytest.fixture
def recorded(services):
    factory = RecordingFactory()
    return ChatService(services.models, services.chat.cache, factory=factory), factory


def _turn(chat: ChatService, model_id: str, history: list, message: str, params=PARAMS) -> list[dict]:
    request = chat.request(model_id, history, message, SYSTEM, params)
    return [*request.messages, {"role": "assistant", "content": chat.reply(request)}]


def test_second_turn_carries_the_first_and_regenerate_replaces_only_the_last_answer(recorded, services):
    chat, factory = recorded
    first = _turn(chat, "demo@v1.0", [], "What does fault F012 mean?")
    assert first[-1]["content"], "a sampled reply has text"
    second = _turn(chat, "demo@v1.0", first, "And what do I check first?")
    system = {"role": "system", "content": SYSTEM}
    assert factory.calls[0] == [system, first[0]]
    assert factory.calls[1] == [system, *first, second[2]], "the second prompt holds the whole first turn"
    # The chat template renders the first answer into the second prompt.
    tokenizer = services.chat.cache.get(services.models.get("demo@v1.0").path).tokenizer
    prompt = tokenizer.apply_chat_template(factory.calls[1], tokenize=False, add_generation_prompt=True)
    assert f"<|im_start|>assistant\n{first[1]['content']}<|im_end|>" in prompt

    again = chat.regenerate_request("demo@v1.0", second, SYSTEM, PARAMS.model_copy(update={"seed": 2}))
    assert again.messages == second[:3]
    regenerated = [*again.messages, {"role": "assistant", "content": chat.reply(again)}]
    assert factory.calls[2] == factory.calls[1], "regenerate asks exactly the same question again"
    assert regenerated[:3] == second[:3] and len(regenerated) == len(second)
    assert regenerated[3]["content"] != second[3]["content"]


def test_stop_and_close_end_a_local_generation_at_once(services):
    chat = services.chat
    long = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=4000, seed=3)
    base = chat.cache.get(services.models.get("demo@v1.0").path)
    pieces = chat.stream(chat.request("demo@v1.0", [], "Tell me everything.", "", long), session="s1")
    next(pieces)
    assert chat.stop("s1") == 1
    rest = list(pieces)
    assert pieces.stopped and len(rest) == 0 and chat.stop("s1") == 0
    # 4000 tokens take the tiny model many seconds: a free lock this soon means the generation really ended.
    assert base.lock.acquire(timeout=5)
    base.lock.release()
    with contextlib.closing(chat.stream(chat.request("demo@v1.0", [], "Again.", "", long))) as closing:
        next(closing)
    assert base.lock.acquire(timeout=5)
    base.lock.release()


def test_endpoint_version_two_turns(recorded, services, lf_api):
    chat, factory = recorded
    services.models.add_endpoint("tiny-api", lf_api.base_url, "tiny")
    first = _turn(chat, "tiny-api@v1.0", [], "你好，F012 是什么？")
    second = _turn(chat, "tiny-api@v1.0", first, "然后呢？")
    assert len(second) == 4 and all(isinstance(turn["content"], str) for turn in second)
    assert first[1]["content"] or second[3]["content"], "the server answered"
    assert factory.calls[1][1:] == [*first, second[2]]


def test_clear_errors_in_both_languages(services):
    chat = services.chat
    with pytest.raises(InvalidInputError) as info:
        chat.request("demo@v1.0", [], "   ")
    assert info.value.key == "err.chat_empty_message" and "空消息" in info.value.message("zh")
    with pytest.raises(NotFoundError) as info:
        chat.stream(chat.request("nope@v9", [], "hi"))
    assert "nope@v9" in info.value.message("en") and "nope@v9" in info.value.message("zh")
    with pytest.raises(InvalidInputError) as info:
        chat.stream(chat.request("", [], "hi"))
    assert info.value.key == "err.chat_no_model"
    services.models.add_endpoint("down", "http://127.0.0.1:9/v1", "x")
    with pytest.raises(LLMOpsError) as info:
        chat.reply(chat.request("down@v1.0", [], "hi", params=PARAMS))
    assert info.value.key == "err.backend_unreachable" and "无法连接" in info.value.message("zh")
    with pytest.raises(InvalidInputError) as info:
        without_last_answer([{"role": "assistant", "content": "hello"}])
    assert info.value.key == "err.chat_nothing_to_regenerate"
    asked = [{"role": "user", "content": "q"}]
    assert without_last_answer(asked) == asked, "after a failed answer, regenerate asks the same question"
    with pytest.raises(InvalidInputError):
        last_user_message([])


def test_chat_tab_over_the_api(settings, demo_model_dir, app_factory):
    services = build_services(settings)
    services.models.add_base("other", str(demo_model_dir), template="chatml")
    services.models.add_base("demo", str(demo_model_dir), template="chatml")
    services.models.set_default("demo@v1.0")
    app = app_factory(lang="zh")
    client = connect(app.url)
    picker = client.predict(api_name="/chat_models")
    assert picker["value"] == "demo@v1.0", "the app's chat backend is pre-selected"
    assert [c[0] for c in picker["choices"]] == ["other@v1.0", "demo@v1.0"]

    job = client.submit("F012 是什么？", [], "demo@v1.0", SYSTEM, 1.0, 1.0, 8, api_name="/chat_send")
    frames = list(job)
    history, box, status = job.result()
    assert len(frames) >= 3, "the answer streams: an empty answer first, then pieces"
    assert frames[0][0][-1]["content"] == "" and box == ""
    assert [m["role"] for m in history] == ["user", "assistant"] and history[1]["content"]
    assert "demo@v1.0" in status and "秒" in status
    history, _, _ = client.predict("还有呢？", history, "demo@v1.0", SYSTEM, 1.0, 1.0, 8, api_name="/chat_send")
    assert [m["content"] for m in history[:1]] == ["F012 是什么？"] and len(history) == 4
    assert history[2]["content"] == "还有呢？" and history[3]["content"]

    redone, _, _ = client.predict(history, "demo@v1.0", SYSTEM, 1.0, 1.0, 8, api_name="/chat_regenerate")
    assert len(redone) == 4 and [m["content"] for m in redone[:3]] == [m["content"] for m in history[:3]]

    prompt, system, status = client.predict(redone, SYSTEM, api_name="/chat_to_ab")
    assert (prompt, system) == ("还有呢？", SYSTEM) and "A/B" in status
    cleared, box, _ = client.predict(api_name="/chat_clear")
    assert cleared == [] and box == ""

    with pytest.raises(Exception, match="空消息"):
        client.predict("  ", [], "demo@v1.0", "", 1.0, 1.0, 8, api_name="/chat_send")
    with pytest.raises(Exception, match="nope@v9"):
        client.predict("hi", [], "nope@v9", "", 1.0, 1.0, 8, api_name="/chat_send")
    with pytest.raises(Exception, match="还没有你发送的消息"):
        client.predict([], "", api_name="/chat_to_ab")
