"""The generation stage of an evaluation run: every (model, sample) still without a prediction line is answered.

Local versions are batched (one `generate` per window of samples, adapters on one base sharing it); endpoints get
`concurrency` requests in flight each. Answers come back to one thread, which appends each as a PredictionRecord the
moment it arrives, so a stop (or a crash) keeps every answer so far and a resume asks only for the rest.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ...backends.base import BackendError, StopSignal
from ...backends.cache import LocalModelCache
from ...backends.factory import backend_for, stream_together
from ...schemas.eval_runs import EvalRunConfig, PredictionRecord
from ...schemas.evaluation import EvalSample
from ...schemas.models import ModelEntry
from ...settings import Settings
from ..models import ModelRegistry
from .checkpoints import resolve
from .run_folder import RunFolder
from .text_metrics import exact_match

STAGE = "generate"
_POLL_S = 0.1
_DETAIL_CHARS = 300
# Progress is a callable like jobkinds.ProgressWriter: (stage, done, total, force=False, **counts).
Progress = Callable[..., None]


@dataclass
class _Live:
    """What progress shows while answers arrive: how many, how fast, errors, and a running exact match per model."""

    total: int
    done: int = 0
    started_with: int = 0
    began: float = field(default_factory=time.monotonic)
    errors: dict[str, int] = field(default_factory=dict)
    matches: dict[str, list[float]] = field(default_factory=dict)

    def add(self, record: PredictionRecord) -> None:
        self.done += 1
        if record.error:
            self.errors[record.error] = self.errors.get(record.error, 0) + 1
        if record.reference is not None:
            hit = exact_match(record.output, record.reference) if record.error is None else 0.0
            self.matches.setdefault(record.model, []).append(hit)

    def counts(self) -> dict:
        made, elapsed = self.done - self.started_with, time.monotonic() - self.began
        rate = made / elapsed if made and elapsed > 0 else None
        return {"eta_s": round((self.total - self.done) / rate, 1) if rate else None,
                "samples_per_s": round(rate, 3) if rate else None, "errors": dict(self.errors),
                "live": {model: {"exact_match": round(sum(v) / len(v), 2), "n": len(v)}
                         for model, v in self.matches.items()}}


def pending_items(config: EvalRunConfig, samples: list[EvalSample], folder: RunFolder) -> list[tuple[str, int]]:
    """(model, sample) pairs with no prediction line yet, sample by sample."""
    written = {(p.model, p.sample) for p in folder.predictions() if p.error != "stopped"}
    return [(model, index) for index in range(len(samples)) for model in config.models
            if (model, index) not in written]


def generate(settings: Settings, folder: RunFolder, stop: threading.Event, progress: Progress | None = None, *,
             models: ModelRegistry | None = None, cache: LocalModelCache | None = None) -> dict:
    """Answer every pending (model, sample) of the run; returns how many were written now and in all."""
    config, samples = folder.config(), folder.samples()
    registry = models or ModelRegistry(settings)
    entries = {model_id: resolve(registry, model_id) for model_id in config.models}
    todo = pending_items(config, samples, folder)
    live = _Live(total=len(samples) * len(config.models))
    for record in folder.predictions():
        live.add(record)
    live.started_with = live.done
    report = progress or (lambda *args, **kwargs: None)
    report(STAGE, live.done, live.total, force=True, **live.counts())
    if not todo:
        return {"written": 0, "done": live.done, "total": live.total, "counts": live.counts()}
    results: queue.Queue[PredictionRecord] = queue.Queue()
    halt = StopSignal(stop)
    cache = cache or LocalModelCache(settings.local_models_budget_gb)
    _start_workers(config, samples, entries, todo, cache, results, halt)
    written = 0
    try:
        while written < len(todo) and not stop.is_set():
            try:
                record = results.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            folder.append(folder.predictions_path, record)
            written += 1
            live.add(record)
            report(STAGE, live.done, live.total, **live.counts())
    finally:
        halt.set()  # answers still in flight are dropped: no line means "still to do"
    report(STAGE, live.done, live.total, force=True, **live.counts())
    return {"written": written, "done": live.done, "total": live.total, "counts": live.counts()}


def _start_workers(config: EvalRunConfig, samples: list[EvalSample], entries: dict[str, ModelEntry],
                   todo: list[tuple[str, int]], cache: LocalModelCache, results: queue.Queue,
                   halt: StopSignal) -> None:
    """One thread for every local version's batches, `concurrency` threads per endpoint."""
    local = [(m, s) for m, s in todo if entries[m].kind != "endpoint"]
    if local:
        threading.Thread(target=_guarded, args=(local, config, samples, entries, cache, results, halt),
                         name="llmops-eval-local", daemon=True).start()
    for model_id, entry in entries.items():
        mine = [s for m, s in todo if m == model_id]
        if entry.kind != "endpoint" or not mine:
            continue
        work: queue.Queue[int] = queue.Queue()
        for index in mine:
            work.put(index)
        backend = backend_for(entry, cache, timeout=config.timeout_s, max_retries=0)
        for _ in range(min(config.concurrency, len(mine))):
            threading.Thread(target=_endpoint_loop, args=(model_id, backend, work, config, samples, results, halt),
                             name="llmops-eval-endpoint", daemon=True).start()


def _guarded(items: list[tuple[str, int]], config: EvalRunConfig, samples: list[EvalSample],
             entries: dict[str, ModelEntry], cache: LocalModelCache, results: queue.Queue, halt: StopSignal) -> None:
    """Run the local loop; should it crash, every item it had left still gets its one (failed) line."""
    sent: set[tuple[str, int]] = set()
    try:
        _local_loop(items, config, samples, entries, cache, results, halt, sent)
    except Exception as exc:  # noqa: BLE001 - a defect in the local loop must not hang the run
        detail = f"{type(exc).__name__}: {exc}"[:_DETAIL_CHARS]
        for model, index in items:
            if (model, index) not in sent:
                results.put(_record(model, index, samples[index], "", 0.0, 0, False, 1, "backend", detail))


def _record(model: str, index: int, sample: EvalSample, output: str, latency: float, tokens: int, truncated: bool,
            attempts: int, error: str | None = None, detail: str = "") -> PredictionRecord:
    if error is None and not output.strip():
        error = "empty"
    return PredictionRecord(sample=index, model=model, prompt=sample.prompt, reference=sample.reference,
                            label=sample.label, output=output, latency_s=round(latency, 4), tokens=tokens,
                            truncated=truncated, attempts=attempts, error=error, error_detail=_redact(detail))


def _redact(text: str) -> str:
    """An error's text with the value of every key-like variable in this environment blanked out."""
    for name, value in os.environ.items():
        if len(value) >= 8 and any(word in name.upper() for word in ("KEY", "TOKEN", "SECRET", "PASSWORD")):
            text = text.replace(value, "***")
    return text[:_DETAIL_CHARS]


def _error_kind(exc: BackendError) -> str:
    return "timeout" if exc.key == "err.backend_timeout" else "backend"


# --- local versions: batched ----------------------------------------------------------------------------


def _local_loop(items: list[tuple[str, int]], config: EvalRunConfig, samples: list[EvalSample],
                entries: dict[str, ModelEntry], cache: LocalModelCache, results: queue.Queue, halt: StopSignal,
                sent: set) -> None:
    """Windows of `local_batch` samples (every local version's rows of them), each one batched generate."""
    backends = {m: backend_for(entries[m], cache) for m in dict.fromkeys(m for m, _ in items)}
    window = config.local_batch * max(1, len(backends))
    for start in range(0, len(items), window):
        rows = items[start:start + window]
        attempts = {row: 0 for row in rows}
        while rows and not halt.is_set():
            outcome = _local_batch(rows, backends, config, samples, halt)
            if outcome is None:
                return
            retry = []
            for row, (text, latency, error, detail) in zip(rows, outcome):
                attempts[row] += 1
                if error in ("timeout", "backend") and attempts[row] <= config.retries:
                    retry.append(row)
                    continue
                tokens = _count_tokens(backends[row[0]], text)
                truncated = error is None and tokens >= config.generation.max_new_tokens
                sent.add(row)
                results.put(_record(row[0], row[1], samples[row[1]], text, latency, tokens, truncated,
                                    attempts[row], error, detail))
            rows = retry


def _local_batch(rows: list[tuple[str, int]], backends: dict, config: EvalRunConfig, samples: list[EvalSample],
                 halt: StopSignal) -> list[tuple[str, float, str | None, str]] | None:
    """One batched generate over `rows`: (text, latency, error kind, detail) per row; None when stopped."""
    params = config.generation.sampling()
    timed_out = threading.Event()
    requests = [(samples[index].messages(), params) for _, index in rows]
    texts: list[list[str]] = [[] for _ in rows]
    ends: dict[int, tuple[float, str | None, str]] = {}
    began = time.monotonic()
    stream = stream_together([backends[model] for model, _ in rows], requests, cancel=StopSignal(timed_out, halt),
                             idle_s=_POLL_S)
    try:
        for event in stream:
            if halt.is_set():
                return None
            if time.monotonic() - began > config.timeout_s:
                timed_out.set()
            if event is None:
                continue
            texts[event.row].append(event.text)
            if event.done:
                latency = time.monotonic() - began
                if event.error is not None:
                    ends[event.row] = (latency, _error_kind(event.error), event.error.message("en"))
                elif timed_out.is_set():
                    ends[event.row] = (latency, "timeout", f"no answer within {config.timeout_s:g} s")
                else:
                    ends[event.row] = (latency, None, "")
    finally:
        stream.close()
    if halt.is_set():
        return None
    return [("".join(texts[i]), *ends.get(i, (time.monotonic() - began, "backend", "no end event"))) for i in
            range(len(rows))]


def _count_tokens(backend, text: str) -> int:
    """Output tokens by the model's own tokenizer."""
    if not text:
        return 0
    tokenizer = backend.cache.get(backend.base_path).tokenizer
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


# --- endpoints: concurrent requests ---------------------------------------------------------------------


def _endpoint_loop(model: str, backend, work: queue.Queue, config: EvalRunConfig, samples: list[EvalSample],
                   results: queue.Queue, halt: StopSignal) -> None:
    while not halt.is_set():
        try:
            index = work.get_nowait()
        except queue.Empty:
            return
        try:
            record = _ask(model, backend, index, config, samples[index], halt)
        except Exception as exc:  # noqa: BLE001 - one sample's defect is that sample's failure, not the run's
            record = _record(model, index, samples[index], "", 0.0, 0, False, 1, "backend",
                             f"{type(exc).__name__}: {exc}")
        if record is not None:
            results.put(record)


class _Timeout(Exception):
    """The answer streamed for longer than the run's per-sample timeout."""


def _ask(model: str, backend, index: int, config: EvalRunConfig, sample: EvalSample,
         halt: StopSignal) -> PredictionRecord | None:
    """One sample to one endpoint, retried after a timeout or a backend error; None when stopped meanwhile."""
    params = config.generation.sampling()
    error, detail, latency = None, "", 0.0
    for attempt in range(1, config.retries + 2):
        began, pieces = time.monotonic(), []
        stream = backend.stream(sample.messages(), params)
        try:
            for text in stream:
                if halt.is_set():
                    return None
                pieces.append(text)
                if time.monotonic() - began > config.timeout_s:
                    raise _Timeout()
            latency = time.monotonic() - began
            # A streamed delta is one token on the servers this speaks to (vLLM, LLaMA-Factory, OpenAI).
            tokens = len(pieces)
            truncated = tokens >= config.generation.max_new_tokens
            return _record(model, index, sample, "".join(pieces), latency, tokens, truncated, attempt)
        except _Timeout:
            error, detail = "timeout", f"no complete answer within {config.timeout_s:g} s"
        except BackendError as exc:
            error, detail = _error_kind(exc), backend.redact(exc.message("en"))
        finally:
            stream.close()
        latency = time.monotonic() - began
        if halt.is_set():
            return None
    return _record(model, index, sample, "", latency, 0, False, config.retries + 1, error, detail)
