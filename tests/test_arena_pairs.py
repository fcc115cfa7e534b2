"""A/B pairs for real on the tiny model: one batched generate per shared base, cancellation, failed sides, one load."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from llmops.backends import Backend, BackendError, LocalBackend, LocalModelCache, stream_together
from llmops.backends.local import stream_rows
from llmops.backends.rows import BASE_ROW, RowRequest
from llmops.errors import LLMOpsError
from llmops.schemas.models import SamplingParams
from llmops.services.container import build_services

GREEDY = SamplingParams(temperature=0.0, max_new_tokens=6)
LONG = SamplingParams(temperature=0.0, max_new_tokens=4000)
ASK = [{"role": "user", "content": "What does LoRA train?"}]


@pytest.fixture(scope="module")
def lora_pair(demo_model_dir, tmp_path_factory) -> tuple[Path, Path, Path]:
    """Three LoRA adapters of the tiny model with different non-zero weights (the third DoRA), saved by peft."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folders = []
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(demo_model_dir),
                               LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False,
                                          use_dora=seed == 3))
        folder = tmp_path_factory.mktemp(f"lora{seed}")
        model.save_pretrained(folder)
        folders.append(folder)
    return folders[0], folders[1], folders[2]


@pytest.fixture
def services(settings, demo_model_dir, lora_pair):
    built = build_services(settings)
    built.models.add_base("demo", str(demo_model_dir), template="chatml")
    built.models.add_adapter("one", "demo@v1.0", str(lora_pair[0]))
    built.models.add_adapter("two", "demo@v1.0", str(lora_pair[1]))
    built.models.add_adapter("dora", "demo@v1.0", str(lora_pair[2]))
    return built


class GenerateSpy:
    """Wraps the real model's generate to count calls and record each batch's rows and adapter names."""

    def __init__(self, base):
        self.real, self.calls = base.model.generate, []
        base.model.generate = self

    def __call__(self, **kwargs):
        self.calls.append((kwargs["input_ids"].shape[0], kwargs.get("adapter_names")))
        return self.real(**kwargs)


def loaded_base(cache: LocalModelCache, base: Path, adapters: list[Path]):
    """The cached base with `adapters` loaded onto it (so the PeftModel whose generate we watch stays the same)."""
    loaded = cache.get(str(base))
    with loaded.lock:
        for adapter in adapters:
            loaded.ensure_adapter(str(adapter))
    return loaded


@pytest.mark.parametrize("pair", [("one@v1.0", "two@v1.0"), ("demo@v1.0", "one@v1.0")])
def test_a_pair_on_one_base_is_one_batched_generate_equal_to_each_alone(services, demo_model_dir, lora_pair, pair):
    base = loaded_base(services.arena.cache, demo_model_dir, list(lora_pair[:2]))
    spy = GenerateSpy(base)
    round_ = services.arena.run(services.arena.start_round("s", ASK[0]["content"], "", GREEDY, *pair))
    assert len(spy.calls) == 1, "both sides come from one generate"
    rows, names = spy.calls[0]
    one, two = (base.adapters[str(p.resolve())] for p in lora_pair[:2])
    assert rows == 2 and set(names) == ({one, two} if pair[0] == "one@v1.0" else {BASE_ROW, one})
    # Each row is exactly what its model alone produces greedily.
    alone = {}
    for model_id in pair:
        entry = services.models.get(model_id)
        alone[model_id] = LocalBackend(services.arena.cache, entry.path, entry.adapter).generate(ASK, GREEDY)
    assert len(spy.calls) == 3
    assert (round_.response_a, round_.response_b) == (alone[pair[0]], alone[pair[1]])
    assert round_.response_a != round_.response_b, "the rows really ran different adapters"
    assert services.arena.vote("s", round_.round_id, "tie").stored


def test_rows_keep_their_own_prompt_length_and_sampling(demo_model_dir, lora_pair):
    cache = LocalModelCache(memory_budget_gb=1)
    long_ask = [{"role": "system", "content": "Answer in one short sentence, please."}, *ASK]
    rows = [RowRequest(ASK, SamplingParams(temperature=0, max_new_tokens=3), str(lora_pair[0])),
            RowRequest(long_ask, SamplingParams(temperature=0, max_new_tokens=7)),
            RowRequest(ASK, SamplingParams(temperature=1.0, top_p=0.5, max_new_tokens=5, seed=3), str(lora_pair[1]))]
    base = loaded_base(cache, demo_model_dir, list(lora_pair))
    spy = GenerateSpy(base)

    def batch() -> list[str]:
        texts, ends = ["", "", ""], [0, 0, 0]
        for event in stream_rows(cache, str(demo_model_dir), rows):
            assert event.error is None
            texts[event.row] += event.text
            ends[event.row] += event.done
        assert ends == [1, 1, 1], "each row ends exactly once"
        return texts

    texts = batch()
    assert len(spy.calls) == 1 and spy.calls[0][0] == 3 and all(texts)
    assert batch()[2] == texts[2], "the seed reproduces the sampled row"
    # Left padding and a shorter limit leave each greedy row exactly as it is alone.
    one = LocalBackend(cache, str(demo_model_dir), str(lora_pair[0]))
    assert texts[0] == one.generate(ASK, rows[0].params) != one.generate(ASK, GREEDY.model_copy(
        update={"max_new_tokens": 12}))
    assert texts[1] == LocalBackend(cache, str(demo_model_dir)).generate(long_ask, rows[1].params)


def test_adapters_peft_cannot_mix_run_as_one_batch_each_under_one_lock(services, demo_model_dir, lora_pair):
    base = loaded_base(services.arena.cache, demo_model_dir, list(lora_pair))
    spy = GenerateSpy(base)
    round_ = services.arena.run(services.arena.start_round("s", ASK[0]["content"], "", GREEDY, "dora@v1.0",
                                                           "demo@v1.0"))
    assert [rows for rows, _ in spy.calls] == [1, 1] and round_.done, "DoRA rows cannot share a mixed batch"
    dora = services.models.get("dora@v1.0")
    assert round_.response_a == LocalBackend(services.arena.cache, dora.path, dora.adapter).generate(ASK, GREEDY)
    plain = LocalBackend(services.arena.cache, dora.path)
    assert round_.response_b == plain.generate(ASK, GREEDY)
    moved = LocalBackend(services.arena.cache, dora.path, dora.adapter).first_token_logits(ASK)
    assert (moved - plain.first_token_logits(ASK)).abs().max() > 1e-3, "the DoRA row really ran its adapter"


def test_a_closed_round_frees_the_base_at_once_for_another_session(services):
    arena = services.arena
    stuck = arena.stream(arena.start_round("s1", "talk for a long time", "", LONG, "demo@v1.0", "one@v1.0"))
    while not any(next(stuck)):
        pass  # generation has started and holds the base
    done: dict[str, float] = {}

    def other_session():
        round_ = arena.run(arena.start_round("s2", "hello", "", GREEDY, "two@v1.0", "demo@v1.0"))
        done["s2"] = time.monotonic()
        assert round_.done

    waiter = threading.Thread(target=other_session)
    waiter.start()
    time.sleep(0.3)
    assert "s2" not in done, "s2 waits for the base s1 is using"
    closed = time.monotonic()
    stuck.close()  # what the server does when s1's client goes away
    waiter.join(30)
    assert "s2" in done and done["s2"] - closed < 5, "the cancelled round let the other session run"
    base = arena.cache.get(services.models.get("demo@v1.0").path)
    assert base.lock.acquire(timeout=1)
    base.lock.release()


def test_a_new_round_of_the_same_session_cancels_the_running_one(services):
    arena = services.arena
    first = arena.start_round("s", "talk for a long time", "", LONG, "demo@v1.0", "one@v1.0")
    frames = arena.stream(first)
    while not any(next(frames)):
        pass
    started = time.monotonic()
    second = arena.run(arena.start_round("s", "hello", "", GREEDY, "demo@v1.0", "two@v1.0"))
    assert second.done and time.monotonic() - started < 10
    assert list(frames) == [], "the cancelled round yields nothing more"
    assert first.cancel.is_set() and not first.done
    with pytest.raises(LLMOpsError) as info:
        arena.vote("s", first.round_id, "left")
    assert info.value.key == "err.arena_not_ready"


def test_a_model_removed_mid_round_leaves_it_unvotable(services, settings):
    arena = services.arena
    before = arena.start_round("s", "hi", "", GREEDY, "demo@v1.0", "one@v1.0")
    services.models.remove("one@v1.0")  # after the pair was shown, before any text
    with pytest.raises(LLMOpsError) as info:
        arena.run(before)
    side = before.side_of("b")
    assert info.value.key == f"err.arena_{side}_failed" and "one@v1.0" in info.value.message("en")
    assert "无法投票" in info.value.message("zh")
    during = arena.start_round("s", "hi", "", SamplingParams(temperature=0, max_new_tokens=40), "demo@v1.0",
                               "two@v1.0")
    frames = arena.stream(during)
    next(frames)
    services.models.remove("two@v1.0")  # while both sides generate
    list(frames)
    assert not during.done and set(during.errors) == {"b"}
    for round_ in (before, during):
        with pytest.raises(LLMOpsError) as info:
            arena.vote("s", round_.round_id, "left")
        assert info.value.key == "err.arena_failed_round"
    assert not settings.prefs_path.exists() or not settings.prefs_path.read_text().strip()


class CrashingBackend(Backend):
    """A backend whose library raises something that is not a BackendError mid-stream."""

    def stream(self, messages, params):
        yield "half an answer"
        raise RuntimeError("CUDA error: device-side assert triggered")


def test_any_exception_on_one_side_is_that_side_failure_and_the_other_side_still_runs(demo_model_dir):
    cache = LocalModelCache(memory_budget_gb=1)
    events = list(stream_together([LocalBackend(cache, str(demo_model_dir)), CrashingBackend()], [(ASK, GREEDY)] * 2))
    ends = {e.row: e for e in events if e.done}
    assert set(ends) == {0, 1} and ends[0].error is None
    assert isinstance(ends[1].error, BackendError) and "device-side assert" in str(ends[1].error)
    assert "".join(e.text for e in events if e.row == 0) == LocalBackend(cache, str(demo_model_dir)).generate(
        ASK, GREEDY)


def test_concurrent_first_use_loads_a_base_once(demo_model_dir):
    from llmops.backends import cache as cache_module

    loader: dict[str, int] = {}

    def stall_after_load(frame, event, arg):
        # The thread that loaded the weights then spends 50 ms on each line of LocalModelCache.get, so first users
        # arriving meanwhile land in any gap between "loaded" and "registered" (which would start a second load).
        if frame.f_code is cache_module._load.__code__:
            def on_return(frame, event, arg):
                if event == "return":
                    loader["thread"] = threading.get_ident()
                return on_return
            return on_return
        if frame.f_code is not LocalModelCache.get.__code__:
            return None

        def each_line(frame, event, arg):
            if event == "line" and loader.get("thread") == threading.get_ident():
                time.sleep(0.05)
            return each_line
        return each_line

    cache, got = LocalModelCache(memory_budget_gb=1), []
    threads: list[threading.Thread] = []
    threading.settrace(stall_after_load)
    try:
        # First users keep arriving, one every 5 ms, from before the load until after it is registered.
        while len(threads) < 400 and (not got or len(threads) < 20):
            thread = threading.Thread(target=lambda: got.append(cache.get(str(demo_model_dir))))
            thread.start()
            threads.append(thread)
            time.sleep(0.005)
        for thread in threads:
            thread.join(60)
    finally:
        threading.settrace(None)
    assert "thread" in loader and len(got) == len(threads)
    assert cache.loads == 1 and len({id(base) for base in got}) == 1
