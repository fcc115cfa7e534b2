"""The backend that generates for a registered model, and several replies generated at the same time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from ..schemas.models import ModelEntry, SamplingParams
from .base import Backend, BackendError, RowEvent, StopSignal, check_messages
from .cache import LocalModelCache, model_key
from .local import LocalBackend, stream_rows
from .openai_compat import OpenAICompatBackend
from .rows import RowRequest

_END = object()


def backend_for(entry: ModelEntry, cache: LocalModelCache, *, timeout: float = 60.0,
                max_retries: int = 1) -> Backend:
    """Local transformers for base, merged and adapter entries; the OpenAI protocol for endpoints."""
    if entry.kind == "endpoint" and entry.endpoint is not None:
        endpoint = entry.endpoint
        return OpenAICompatBackend(endpoint.base_url, endpoint.model, endpoint.api_key_env, timeout=timeout,
                                   max_retries=max_retries)
    if entry.path:
        cache.opt_ins[model_key(entry.path)] = (entry.trust_remote_code, entry.allow_pickle)
    if entry.kind in ("base", "merged") and entry.path:
        return LocalBackend(cache, entry.path)
    if entry.kind == "adapter" and entry.path and entry.adapter:
        return LocalBackend(cache, entry.path, adapter=entry.adapter)
    raise BackendError("err.backend_unsupported", kind=entry.kind)


def batch_groups(backends: list[Backend]) -> list[list[int]]:
    """Row indexes grouped so local backends on one base share a batch; every other backend is alone."""
    groups: list[list[int]] = []
    for index, backend in enumerate(backends):
        home = next((g for g in groups if isinstance(backend, LocalBackend) and backend.shares_base(backends[g[0]])),
                    None)
        if home is None:
            groups.append([index])
        else:
            home.append(index)
    return groups


def stream_together(backends: list[Backend], requests: list[tuple[list[dict], SamplingParams]],
                    cancel: threading.Event | None = None, idle_s: float | None = None) -> Iterator[RowEvent | None]:
    """Events of every row as they come: one batched generate per shared local base, endpoints concurrently.

    Each row ends with exactly one `done` event (carrying its error, if any); closing the iterator or setting
    `cancel` stops every row. With `idle_s`, None is yielded after that long without an event, so a caller
    waiting for a busy base can still be closed.
    """
    stop = StopSignal(cancel)  # closing stops these rows without setting the caller's event
    events: queue.Queue = queue.Queue()
    groups = batch_groups(backends)
    workers = [threading.Thread(target=_run_group, args=(backends, requests, group, events, stop),
                                name="llmops-together", daemon=True) for group in groups]
    for worker in workers:
        worker.start()
    try:
        ended = 0
        while ended < len(groups):
            try:
                item = events.get(timeout=idle_s)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                ended += 1
            else:
                yield item
    finally:
        stop.set()


def _run_group(backends: list[Backend], requests: list[tuple[list[dict], SamplingParams]], group: list[int],
               events: queue.Queue, cancel: StopSignal) -> None:
    try:
        first = backends[group[0]]
        if isinstance(first, LocalBackend):
            rows = [RowRequest(check_messages(requests[i][0]), requests[i][1], backends[i].adapter) for i in group]
            stream = stream_rows(first.cache, first.base_path, rows, cancel)
            try:
                for event in stream:
                    events.put(RowEvent(group[event.row], event.text, event.done, event.error))
            finally:
                stream.close()
        else:
            _run_one(first, requests[group[0]], group[0], events, cancel)
    except BackendError as exc:
        for row in group:
            events.put(RowEvent(row, done=True, error=exc))
    except Exception as exc:  # noqa: BLE001 - a crash before the first event is still that row's failure
        failure = BackendError("err.backend_generation_failed", reason=f"{type(exc).__name__}: {exc}")
        for row in group:
            events.put(RowEvent(row, done=True, error=failure))
    finally:
        events.put(_END)


def _run_one(backend: Backend, request: tuple[list[dict], SamplingParams], row: int, events: queue.Queue,
             cancel: StopSignal) -> None:
    """One streamed reply in this thread; any failure becomes the row's BackendError."""
    error: BaseException | None = None
    stream = backend.stream(*request)
    try:
        for text in stream:
            if cancel.is_set():
                break
            events.put(RowEvent(row, text=text))
    except BackendError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - a side's crash must reach the caller as that side's failure
        error = BackendError("err.backend_generation_failed", reason=f"{type(exc).__name__}: {exc}")
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    events.put(RowEvent(row, done=True, error=error))
