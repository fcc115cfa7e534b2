"""Local generation with transformers; adapters share one base model in memory, and share its batches."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

from ..schemas.models import SamplingParams
from .base import Backend, BackendError, RowEvent, StopSignal, check_messages
from .cache import LoadedBase, LocalModelCache, model_key
from .rows import RowRequest, encode_ids, generate_rows

_END = object()
_LOCK_POLL_S = 0.05  # how often a request waiting for a busy base looks at its cancel event


class LocalBackend(Backend):
    """A base (or merged) model from the cache, optionally with one LoRA adapter switched on per call."""

    def __init__(self, cache: LocalModelCache, base_path: str, adapter: str | None = None):
        self.cache = cache
        self.base_path = base_path
        self.adapter = adapter

    def __repr__(self) -> str:
        return f"LocalBackend(base_path={self.base_path!r}, adapter={self.adapter!r})"

    def shares_base(self, other: object) -> bool:
        """True when `other` runs on the same weights in the same cache, so both can share one batch."""
        return (isinstance(other, LocalBackend) and other.cache is self.cache
                and model_key(other.base_path) == model_key(self.base_path))

    def stream(self, messages: list[dict], params: SamplingParams) -> Iterator[str]:
        """Yield text as it is generated; closing the iterator stops the generation."""
        messages = check_messages(messages)
        return _texts(stream_rows(self.cache, self.base_path, [RowRequest(messages, params, self.adapter)]))

    def first_token_logits(self, messages: list[dict]):
        """Logits of the first reply token (a 1-D CPU float tensor): the cheapest proof two models differ."""
        import torch

        messages = check_messages(messages)
        base = self.cache.get(self.base_path)
        with base.lock:
            before = len(base.adapters)
            with base.using(self.adapter) as model, torch.inference_mode():
                if len(base.adapters) != before:
                    self.cache.account(base)
                device = next(model.parameters()).device
                ids = torch.tensor([encode_ids(base, messages)], device=device)
                return model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1].float().cpu()


def _texts(events: Iterator[RowEvent]) -> Iterator[str]:
    """One row's text deltas; its failure is raised."""
    try:
        for event in events:
            if event.error is not None:
                raise event.error
            if event.text:
                yield event.text
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def stream_rows(cache: LocalModelCache, base_path: str, rows: list[RowRequest],
                cancel: threading.Event | StopSignal | None = None) -> Iterator[RowEvent]:
    """Every row's events from ONE batched generate on the base at `base_path`; closing it (or `cancel`) stops it.

    A worker thread owns the base's lock from start to end, so the consumer never holds it between events: two
    streams on one base read in turns from one thread queue, never deadlock.
    """
    stop = StopSignal(cancel)  # closing this stream stops its batch only
    events: queue.Queue = queue.Queue()
    worker = threading.Thread(target=_work, args=(cache, base_path, rows, events, stop), name="llmops-generate",
                              daemon=True)
    worker.start()
    try:
        while (item := events.get()) is not _END:
            yield item
    finally:
        stop.set()


def _work(cache: LocalModelCache, base_path: str, rows: list[RowRequest], events: queue.Queue,
          cancel: StopSignal) -> None:
    finished: set[int] = set()

    def emit(event: RowEvent) -> None:
        if event.done:
            finished.add(event.row)
        events.put(event)

    try:
        base = cache.get(base_path)
        with _locked(base, cancel) as acquired:
            if acquired:
                before = len(base.adapters)
                try:
                    generate_rows(base, rows, emit, cancel)
                finally:
                    if len(base.adapters) != before:
                        cache.account(base)
    except BackendError as exc:
        _fail(events, rows, finished, exc)
    except Exception as exc:  # noqa: BLE001 - any failure in the thread reaches the caller as a BackendError
        _fail(events, rows, finished,
              BackendError("err.backend_generation_failed", reason=f"{type(exc).__name__}: {exc}"))
    finally:
        for row in range(len(rows)):
            if row not in finished:
                events.put(RowEvent(row, done=True))
        events.put(_END)


def _fail(events: queue.Queue, rows: list[RowRequest], finished: set[int], exc: BackendError) -> None:
    for row in range(len(rows)):
        if row not in finished:
            finished.add(row)
            events.put(RowEvent(row, done=True, error=exc))


@contextlib.contextmanager
def _locked(base: LoadedBase, cancel: StopSignal) -> Iterator[bool]:
    """Hold the base's lock, giving up (False) as soon as `cancel` is set while waiting for it."""
    while not base.lock.acquire(timeout=_LOCK_POLL_S):
        if cancel.is_set():
            yield False
            return
    try:
        yield not cancel.is_set()
    finally:
        base.lock.release()
