"""Generation backends for real: the tiny model (+ LoRA adapters on one shared base) and an OpenAI-compatible server."""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from llmops.backends import (
    Backend,
    BackendError,
    LocalBackend,
    LocalModelCache,
    OpenAICompatBackend,
    backend_for,
    check_messages,
    stream_together,
)
from llmops.backends.cache import Placement, estimate_bytes
from llmops.schemas.models import Endpoint, ModelEntry, SamplingParams
from tests.apphelpers import free_port
from tests.servers import QuietHTTPServer

SECRET = "sk-secret-123"
ASK = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What does LoRA train?"}]
GREEDY = SamplingParams(temperature=0, max_new_tokens=12)


@pytest.fixture(scope="module")
def adapters(demo_model_dir, lora_run_with_eval, tmp_path_factory) -> tuple[Path, Path]:
    """Two LoRA adapters of the tiny model: the final one of the session's LLaMA-Factory run (6 steps at a high
    learning rate, only read here), and one saved by peft."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    peft_dir = tmp_path_factory.mktemp("adapters-home") / "lora-peft"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(demo_model_dir),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(peft_dir)
    lf_run = lora_run_with_eval[2]
    assert (lf_run / "adapter_model.safetensors").is_file()
    return lf_run, peft_dir


def entry(kind: str, path: Path, adapter: Path | None = None) -> ModelEntry:
    return ModelEntry(name="tiny", version="v1.0", kind=kind, path=str(path), adapter=str(adapter) if adapter else None)


def test_local_base_generates_streams_and_honours_seeds(demo_model_dir):
    cache = LocalModelCache(memory_budget_gb=1)
    backend = backend_for(entry("base", demo_model_dir), cache)
    assert isinstance(backend, LocalBackend) and isinstance(backend, Backend)
    import torch

    expected = (Placement("cuda", "bfloat16" if torch.cuda.is_bf16_supported() else "float16")
                if torch.cuda.is_available() else Placement("cpu", "float32"))
    assert cache.placement == expected
    chunks = list(backend.stream(ASK, GREEDY))
    assert len(chunks) > 1 and all(isinstance(c, str) and c for c in chunks)
    assert "".join(chunks) == backend.generate(ASK, GREEDY), "greedy decoding is deterministic"
    sampled = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=24, seed=7)
    assert backend.generate(ASK, sampled) == backend.generate(ASK, sampled)
    assert backend.generate(ASK, sampled) != backend.generate(ASK, sampled.model_copy(update={"seed": 8}))
    assert cache.loads == 1 and cache.loaded() == [str(demo_model_dir.resolve())]


def test_adapters_change_the_model_and_share_one_base(demo_model_dir, adapters):
    lf_adapter, peft_adapter = adapters
    cache = LocalModelCache(memory_budget_gb=1)
    base = backend_for(entry("base", demo_model_dir), cache)
    one = backend_for(entry("adapter", demo_model_dir, lf_adapter), cache)
    two = backend_for(entry("adapter", demo_model_dir, peft_adapter), cache)
    base_logits = base.first_token_logits(ASK)
    one_logits, two_logits = one.first_token_logits(ASK), two.first_token_logits(ASK)
    assert (one_logits - base_logits).abs().max() > 1e-3, "the trained adapter must move the logits"
    assert (two_logits - base_logits).abs().max() > 1e-3 and (two_logits - one_logits).abs().max() > 1e-3
    # Switching back and forth is exact: the base with adapters disabled is the base.
    assert (base.first_token_logits(ASK) - base_logits).abs().max() == 0
    assert (one.first_token_logits(ASK) - one_logits).abs().max() == 0

    # The same numbers as an independent transformers + peft load of that adapter.
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(demo_model_dir), lf_adapter).eval()
    encoded = AutoTokenizer.from_pretrained(demo_model_dir).apply_chat_template(
        ASK, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        expected = reference(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits[0, -1]
    on_cpu = cache.placement.device == "cpu"  # a GPU runs the cache in bf16/fp16, the reference in fp32
    assert torch.allclose(expected, one_logits, atol=1e-5 if on_cpu else 5e-2)

    replies = {name: b.generate(ASK, GREEDY) for name, b in (("base", base), ("one", one), ("two", two))}
    assert len(list(two.stream(ASK, GREEDY))) > 1
    assert cache.loads == 1 and cache.loaded() == [str(demo_model_dir.resolve())]
    loaded = cache.get(str(demo_model_dir))
    assert set(loaded.adapters) == {str(lf_adapter.resolve()), str(peft_adapter.resolve())}
    assert cache.used_bytes() > estimate_bytes(str(demo_model_dir), 4), "adapter weights are accounted for"

    # An A/B pane reading two streams on one base in turns, from one thread: no deadlock, no mixed adapters.
    pieces: dict[str, list[str]] = {"one": [], "two": []}
    for left, right in itertools.zip_longest(one.stream(ASK, GREEDY), two.stream(ASK, GREEDY)):
        pieces["one"].append(left or "")
        pieces["two"].append(right or "")
    assert {name: "".join(p) for name, p in pieces.items()} == {"one": replies["one"], "two": replies["two"]}

    # Concurrent callers on one base take turns: each gets exactly its own model's greedy reply.
    results: dict[str, list[str]] = {name: [] for name in replies}
    def worker(name, backend):
        for _ in range(3):
            results[name].append(backend.generate(ASK, GREEDY))
    threads = [threading.Thread(target=worker, args=(n, b)) for n, b in (("base", base), ("one", one), ("two", two))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {name: [reply] * 3 for name, reply in replies.items()}


def test_closing_a_stream_early_stops_generation_and_frees_the_base(demo_model_dir):
    cache = LocalModelCache(memory_budget_gb=1)
    backend = LocalBackend(cache, str(demo_model_dir))
    stream = backend.stream(ASK, SamplingParams(temperature=0, max_new_tokens=8000))
    assert next(stream)
    # Servers may resume a generator on another worker thread: nothing in it is tied to the first one.
    seen: list[str] = []
    other = threading.Thread(target=lambda: seen.append(next(stream)))
    other.start()
    other.join(10)
    assert seen and seen[0]
    started = time.monotonic()
    stream.close()
    assert time.monotonic() - started < 5, "closing must cancel the 8000-token generation"
    assert backend.generate(ASK, GREEDY)  # the base's lock was released


def test_cache_evicts_least_recently_used_under_a_tiny_budget(demo_model_dir, tmp_path):
    copies = [shutil.copytree(demo_model_dir, tmp_path / name) for name in ("a", "b")]
    size = estimate_bytes(str(demo_model_dir), 4)
    cache = LocalModelCache(memory_budget_gb=1.5 * size / 1024**3)
    first = cache.get(str(demo_model_dir))
    # Parameters × 4 bytes from the safetensors headers; the loaded model adds only a few buffers.
    assert size <= first.size_bytes() <= size * 1.01
    assert cache.get(str(copies[0])) and cache.loaded() == [str(copies[0].resolve())]
    assert cache.used_bytes() == first.size_bytes() and cache.evictions == 1
    LocalBackend(cache, str(copies[1])).generate(ASK, GREEDY)
    cache.get(str(copies[1]))
    assert cache.loaded() == [str(copies[1].resolve())] and cache.loads == 3 and cache.evictions == 2
    roomy = LocalModelCache(memory_budget_gb=3.5 * size / 1024**3)
    for path in (demo_model_dir, copies[0], copies[1], demo_model_dir, copies[0]):
        roomy.get(str(path))
    assert roomy.loads == 3 and roomy.evictions == 0
    assert roomy.loaded() == [str(p.resolve()) for p in (copies[1], demo_model_dir, copies[0])], "LRU order"
    assert roomy.evict(str(copies[1])) and roomy.loaded() == [str(p.resolve()) for p in (demo_model_dir, copies[0])]


def test_local_errors_are_clear(demo_model_dir, tmp_path):
    cache = LocalModelCache(memory_budget_gb=1)
    with pytest.raises(BackendError) as info:
        LocalBackend(cache, str(tmp_path / "missing")).generate(ASK, GREEDY)
    assert info.value.key == "err.backend_load_failed"
    (tmp_path / "bad-adapter").mkdir()
    (tmp_path / "bad-adapter" / "adapter_config.json").write_text('{"peft_type": "LORA", "r": "x"}')
    with pytest.raises(BackendError) as info:
        LocalBackend(cache, str(demo_model_dir), adapter=str(tmp_path / "bad-adapter")).generate(ASK, GREEDY)
    assert info.value.key == "err.backend_adapter_failed"
    for messages in ([], [{"role": "robot", "content": "x"}], [{"role": "user", "content": None}],
                     [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]):
        with pytest.raises(BackendError) as info:
            check_messages(messages)
        assert info.value.key == "err.backend_bad_messages"
    assert LocalBackend(cache, str(demo_model_dir)).generate(ASK, GREEDY), "a failed adapter leaves the base usable"


# --- OpenAI-compatible ------------------------------------------------------------------------------


def test_openai_compatible_server_generates_and_streams(lf_api, monkeypatch):
    monkeypatch.setenv("TINY_API_KEY", SECRET)  # the LLaMA-Factory server checks no key; it is still sent
    endpoint = ModelEntry(name="lf", version="v1.0", kind="endpoint",
                          endpoint=Endpoint(base_url=lf_api.base_url, model="tiny", api_key_env="TINY_API_KEY"))
    backend = backend_for(endpoint, LocalModelCache(1), timeout=30, max_retries=0)
    assert isinstance(backend, OpenAICompatBackend) and SECRET not in repr(backend)
    greedy = SamplingParams(temperature=0, max_new_tokens=16)
    reply = backend.generate(ASK, greedy)
    assert isinstance(reply, str) and reply
    chunks = list(backend.stream(ASK, greedy))
    assert len(chunks) > 1 and "".join(chunks) == reply
    sampled = backend.generate(ASK, SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=8, seed=1))
    assert isinstance(sampled, str)


def test_unreachable_endpoint_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TINY_API_KEY", SECRET)
    backend = OpenAICompatBackend(f"http://127.0.0.1:{free_port()}/v1", "tiny", "TINY_API_KEY", timeout=5,
                                  max_retries=0)
    for call in (lambda: backend.generate(ASK, GREEDY), lambda: list(backend.stream(ASK, GREEDY))):
        with pytest.raises(BackendError) as info:
            call()
        assert info.value.key == "err.backend_unreachable" and "127.0.0.1" in str(info.value)
        assert_no_secret(info.value)


class FakeServer:
    """A deliberately broken 'OpenAI' server on 127.0.0.1: each mode answers badly in its own way."""

    def __init__(self):
        self.mode, self.hits, self.auth = "ok", 0, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.hits += 1
                outer.auth.append(self.headers.get("Authorization", ""))
                outer.answer(self)

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, handler) -> None:
        mode, echo = self.mode, self.auth[-1]
        if mode == "slow":
            time.sleep(2)
        if mode == "slow_sse":
            time.sleep(1)
        status, ctype, body = {
            "429": (429, "application/json", {"error": {"message": "slow down"}}),
            "500": (500, "application/json", {"error": {"message": f"boom, your header was {echo}"}}),
            "401": (401, "application/json", {"error": {"message": f"bad key {echo}"}}),
            "404": (404, "application/json", {"error": {"message": "no such model"}}),
            "garbage": (200, "application/json", b'{"choices": [ this is not json'),
            "shape": (200, "application/json", {"unexpected": True}),
            "html": (200, "text/html", b"<html>proxy login</html>"),
            "sse_garbage": (200, "text/event-stream", b"data: {not json\n\n"),
            "slow": (200, "application/json", {}),
            "slow_sse": (200, "text/event-stream", b'data: {"id": "x", "object": "chat.completion.chunk", "created": 0, '
                         b'"model": "tiny", "choices": [{"index": 0, "delta": {"content": "hi"}, '
                         b'"finish_reason": null}]}\n\ndata: [DONE]\n\n'),
        }[mode]
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        if status == 429:
            handler.send_header("Retry-After", "0")
        handler.end_headers()
        handler.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_server():
    server = FakeServer()
    yield server
    server.close()


def assert_no_secret(exc: BaseException) -> None:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, BackendError):
        texts += [exc.message("en"), exc.message("zh"), repr(exc.params)]
    for text in texts:
        assert SECRET not in text, text


@pytest.mark.parametrize("mode, key", [
    ("429", "err.backend_rate_limited"),
    ("500", "err.backend_server_error"),
    ("401", "err.backend_auth"),
    ("404", "err.backend_not_found"),
    ("garbage", "err.backend_bad_response"),
    ("shape", "err.backend_bad_response"),
    ("html", "err.backend_bad_response"),
    ("sse_garbage", "err.backend_bad_response"),
])
def test_bad_servers_give_clear_errors_without_the_key(fake_server, monkeypatch, mode, key):
    monkeypatch.setenv("TINY_API_KEY", SECRET)
    fake_server.mode = mode
    backend = OpenAICompatBackend(fake_server.base_url, "tiny", "TINY_API_KEY", timeout=5, max_retries=0)
    for call in (lambda: backend.generate(ASK, GREEDY), lambda: list(backend.stream(ASK, GREEDY))):
        with pytest.raises(BackendError) as info:
            call()
        assert info.value.key == key, str(info.value)
        assert fake_server.base_url in str(info.value)
        assert_no_secret(info.value)
    # The key really was sent, read from the environment at call time.
    assert fake_server.auth[-1] == f"Bearer {SECRET}"
    if mode == "500":
        assert "boom, your header was Bearer ***" in str(info.value)


def test_two_endpoints_answer_concurrently(fake_server):
    fake_server.mode = "slow_sse"  # each answer takes a second
    backend = OpenAICompatBackend(fake_server.base_url, "tiny", timeout=10, max_retries=0)
    started = time.monotonic()
    events = list(stream_together([backend, backend], [(ASK, GREEDY)] * 2))
    assert time.monotonic() - started < 1.8, "both requests ran at the same time"
    assert sorted((e.row, e.text) for e in events if e.text) == [(0, "hi"), (1, "hi")]
    assert sorted(e.row for e in events if e.done and e.error is None) == [0, 1] and fake_server.hits == 2


def test_retries_timeouts_and_missing_keys(fake_server, monkeypatch):
    fake_server.mode = "429"
    with pytest.raises(BackendError) as info:
        OpenAICompatBackend(fake_server.base_url, "tiny", timeout=5, max_retries=1).generate(ASK, GREEDY)
    assert info.value.key == "err.backend_rate_limited" and fake_server.hits == 2, "one retry, then a clear error"
    assert fake_server.auth[-1] == "Bearer EMPTY", "no key variable: the placeholder local servers accept"

    fake_server.mode = "slow"
    started = time.monotonic()
    with pytest.raises(BackendError) as info:
        OpenAICompatBackend(fake_server.base_url, "tiny", timeout=0.5, max_retries=0).generate(ASK, GREEDY)
    assert info.value.key == "err.backend_timeout" and time.monotonic() - started < 1.9

    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    with pytest.raises(BackendError) as info:
        OpenAICompatBackend(fake_server.base_url, "tiny", "NOT_SET_KEY").generate(ASK, GREEDY)
    assert info.value.key == "err.backend_key_missing" and "NOT_SET_KEY" in str(info.value)
    assert "NOT_SET_KEY" in info.value.message("zh")

    with pytest.raises(BackendError) as info:
        backend_for(ModelEntry.model_construct(name="x", version="v1", kind="alien"), LocalModelCache(1))
    assert info.value.key == "err.backend_unsupported"
