"""Instruction pairs written by a model behind any OpenAI-compatible endpoint (vLLM, `llamafactory-cli api`,
Ollama, OpenAI…), N pairs per corpus chunk, with bounded concurrency, timeouts, retries and early stop.

The API key lives only in memory, wrapped in Secret: it is never written to a file, a log, a stats dict,
an error message or a repr.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...backends.openai_compat import OpenAICompatBackend
from ...security.credentials import require_bound
from ...settings import Settings
from .common import (
    CorpusChunk,
    EmptyGeneration,
    GenResult,
    dedup_pairs,
    load_chunks,
    parse_options,
    write_sft,
)
from .endpoint import Endpoint
from .prompts import build_messages, parse_pairs

# progress(done, total, ok, malformed, failed); `done` also counts chunks skipped after a stop.
GenProgress = Callable[[int, int, int, int, int], None]


class LLMGenOptions(BaseModel):
    """Knobs of LLM generation."""

    model_config = ConfigDict(extra="forbid")

    pairs_per_chunk: int = Field(3, ge=1, le=20)
    max_workers: int = Field(4, ge=1, le=64)
    timeout_s: float = Field(60.0, gt=0, le=3600)
    max_retries: int = Field(3, ge=0, le=10)
    backoff_s: float = Field(1.0, ge=0, le=60)
    backoff_max_s: float = Field(30.0, ge=0, le=600)
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int = Field(1024, ge=16, le=32_768)
    max_chunks: int | None = Field(None, ge=1)
    max_chunk_chars: int = Field(6000, ge=100, le=200_000)
    min_chunk_chars: int = Field(40, ge=0)


@dataclass
class _Outcome:
    index: int
    status: str  # ok | malformed | failed | skipped
    pairs: list[dict] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    errors: Counter = field(default_factory=Counter)
    error: str = ""
    fatal: bool = False


class _Worker:
    """Sends one chunk's request with retries; shared by the pool's threads."""

    def __init__(self, client, endpoint: Endpoint, options: LLMGenOptions, stop: threading.Event,
                 abort: threading.Event):
        self.client, self.endpoint, self.options, self.stop, self.abort = client, endpoint, options, stop, abort
        self._lock = threading.Lock()
        self._answered = False  # any reply at all, usable or not
        self._lost = 0  # chunks lost to connection errors
        self.abort_reason = ""

    def run(self, index: int, chunk: CorpusChunk) -> _Outcome:
        """One chunk's outcome; decides here, before the next chunk starts, whether the whole run must stop."""
        out = self._run(index, chunk)
        with self._lock:
            if out.status in ("ok", "malformed"):
                self._answered = True
            elif out.status == "failed" and out.errors.get("connection"):
                self._lost += 1
            # A refused key/model/URL fails every request; three chunks lost to connection errors before any reply
            # mean the server is not there. Either way the remaining chunks are not sent.
            if not self.abort_reason and (out.fatal or (not self._answered and self._lost >= 3)):
                self.abort_reason = out.error
                self.abort.set()
        return out

    def halted(self) -> bool:
        return self.stop.is_set() or self.abort.is_set()

    def _run(self, index: int, chunk: CorpusChunk) -> _Outcome:
        import openai

        opts = self.options
        out = _Outcome(index, "skipped")
        messages = build_messages(chunk, opts.pairs_per_chunk, opts.max_chunk_chars)
        for attempt in range(opts.max_retries + 1):
            if self.halted():
                return out
            retry_after = 0.0
            out.requests += 1
            try:
                response = self.client.chat.completions.create(
                    model=self.endpoint.model, messages=messages, temperature=opts.temperature,
                    max_tokens=opts.max_tokens, timeout=opts.timeout_s)
            except openai.APITimeoutError as exc:
                self._note(out, "timeout", exc)
            except openai.APIConnectionError as exc:
                self._note(out, "connection", exc)
            except openai.APIStatusError as exc:
                code = exc.status_code
                self._note(out, f"http_{code}", exc)
                if code in (401, 403, 404):
                    out.status, out.fatal = "failed", True  # wrong key, model or URL: every request would fail
                    return out
                if code < 500 and code not in (408, 409, 429):
                    out.status = "failed"
                    return out
                retry_after = _retry_after(exc.response)
            except openai.APIError as exc:  # e.g. a 200 whose body is not a chat completion
                self._note(out, "bad_response", exc)
                out.status = "failed"
                return out
            else:
                text = _content(response)
                out.pairs = parse_pairs(text, opts.pairs_per_chunk)
                out.status = "ok" if out.pairs else "malformed"
                return out
            if attempt < opts.max_retries:
                out.retries += 1
                if self.stop.wait(_backoff(opts, attempt, retry_after)) or self.abort.is_set():
                    return out
        out.status = "failed"
        return out

    def _note(self, out: _Outcome, kind: str, exc: Exception) -> None:
        out.errors[kind] += 1
        out.error = f"{kind}: {self.endpoint.api_key.redact(str(exc))[:300]}"


def _content(response) -> str:
    try:
        return response.choices[0].message.content or ""
    except (AttributeError, IndexError, TypeError):
        return ""


def _retry_after(response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", 0)))
    except (AttributeError, TypeError, ValueError):
        return 0.0


def _backoff(options: LLMGenOptions, attempt: int, retry_after: float) -> float:
    """Exponential backoff with jitter (0.5x-1.5x), at least Retry-After, at most backoff_max_s."""
    delay = options.backoff_s * (2 ** attempt) * random.uniform(0.5, 1.5)
    return min(options.backoff_max_s, max(delay, retry_after))


def llm_pairs(chunks: Sequence[CorpusChunk], endpoint: Endpoint, options: LLMGenOptions | dict | None = None, *,
              stop_event: threading.Event | None = None, progress: GenProgress | None = None,
              settings: Settings | None = None) -> tuple[list[dict], dict]:
    """Ask the endpoint for pairs about each chunk; returns deduplicated pairs (chunk order) and counts."""
    options = parse_options(LLMGenOptions, options)
    stop = stop_event or threading.Event()
    abort = threading.Event()
    report = progress or (lambda *counts: None)
    started = time.perf_counter()
    # Retries are counted here (stats), so the client itself never retries; the backend checks the key's binding.
    backend = OpenAICompatBackend.from_endpoint(endpoint, timeout=options.timeout_s, max_retries=0, settings=settings)
    client = backend.client()
    worker = _Worker(client, endpoint, options, stop, abort)
    outcomes: list[_Outcome] = []
    counts: Counter = Counter({"ok": 0, "malformed": 0, "failed": 0, "skipped": 0})
    report(0, len(chunks), 0, 0, 0)
    try:
        with ThreadPoolExecutor(max_workers=options.max_workers, thread_name_prefix="datagen") as pool:
            futures = [pool.submit(worker.run, i, chunk) for i, chunk in enumerate(chunks)]
            try:
                for future in as_completed(futures):
                    outcome = future.result()
                    outcomes.append(outcome)
                    counts[outcome.status] += 1
                    report(len(outcomes), len(chunks), counts["ok"], counts["malformed"], counts["failed"])
            except BaseException:
                stop.set()  # e.g. Ctrl-C: queued chunks return at once, running ones after their request
                raise
    finally:
        backend.close()
    outcomes.sort(key=lambda o: o.index)
    raw = [{**pair, "source": chunks[o.index].source, "section": chunks[o.index].section,
            "lang": chunks[o.index].lang, "kind": "llm"} for o in outcomes for pair in o.pairs]
    pairs, duplicates = dedup_pairs(raw)
    errors: Counter = Counter()
    for outcome in outcomes:
        errors.update(outcome.errors)
    last_error = next((o.error for o in reversed(outcomes) if o.error), "")
    stats = {"mode": "llm", "endpoint": endpoint.public(), "chunks": len(chunks),
             "requests": sum(o.requests for o in outcomes), "retries": sum(o.retries for o in outcomes),
             "timeouts": errors.get("timeout", 0), **dict(counts), "pairs_raw": len(raw), "duplicates": duplicates,
             "pairs": len(pairs), "stopped": stop.is_set(), "aborted": worker.abort_reason, "errors": dict(errors),
             "last_error": last_error, "elapsed_s": round(time.perf_counter() - started, 3)}
    return pairs, stats


def generate_llm(settings: Settings, corpus: Path | str, endpoint: Endpoint,
                 options: LLMGenOptions | dict | None = None, *, stop_event: threading.Event | None = None,
                 progress: GenProgress | None = None, out: Path | str | None = None,
                 register_it: bool = True) -> GenResult:
    """Pairs from a model for each chunk of `corpus`, written to data/llmops/sft_data_<ts>.json and registered.

    Stopping early keeps (writes and registers) the pairs made so far. When no pair comes out at all, nothing is
    written or registered: EmptyGeneration is raised (err.gen_llm_aborted when the endpoint refused the key,
    model or URL or could not be reached, else err.gen_no_pairs_llm), its `.result.stats` holding the counts.
    """
    options = parse_options(LLMGenOptions, options)
    if endpoint.key_env:
        require_bound(settings, endpoint.key_env, endpoint.base_url)  # again at run time: bindings may have changed
    chunks = [c for c in load_chunks(settings, corpus) if len(c.text.strip()) >= options.min_chunk_chars]
    if options.max_chunks:
        chunks = chunks[: options.max_chunks]
    pairs, stats = llm_pairs(chunks, endpoint, options, stop_event=stop_event, progress=progress, settings=settings)
    if not pairs:
        result = GenResult(None, None, [], stats)
        if stats["aborted"]:
            raise EmptyGeneration("err.gen_llm_aborted", result=result, reason=stats["aborted"])
        raise EmptyGeneration("err.gen_no_pairs_llm", result=result, chunks=stats["chunks"], ok=stats["ok"],
                              malformed=stats["malformed"], failed=stats["failed"], skipped=stats["skipped"],
                              requests=stats["requests"])
    path, name = write_sft(settings, pairs, out, register_it=register_it)
    return GenResult(path, name, pairs, stats)
