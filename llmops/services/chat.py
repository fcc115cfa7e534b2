"""Multi-turn chat with one registered version: the conversation so far goes to its backend, the reply streams back."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..backends import backend_for
from ..backends.base import Backend
from ..backends.cache import LocalModelCache
from ..errors import InvalidInputError
from ..schemas.models import ModelEntry, SamplingParams
from .models import ModelRegistry

CONVERSATION_ROLES = ("user", "assistant")
BackendFactory = Callable[[ModelEntry, LocalModelCache], Backend]


@dataclass(frozen=True)
class ChatRequest:
    """One reply to ask for: the model, the conversation so far (ending with the user), the system prompt."""

    model_id: str
    messages: list[dict[str, str]]
    system: str = ""
    params: SamplingParams = field(default_factory=SamplingParams)


def conversation(history: list) -> list[dict[str, str]]:
    """The user/assistant text turns of a chat history; anything else (files, tool notes, blanks) is left out."""
    turns = []
    for item in history or []:
        role = item.get("role") if isinstance(item, dict) else getattr(item, "role", None)
        content = item.get("content") if isinstance(item, dict) else getattr(item, "content", None)
        if role in CONVERSATION_ROLES and isinstance(content, str):
            turns.append({"role": role, "content": content})
    return turns


def without_last_answer(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The conversation up to and including its last user message: what regenerate answers again."""
    turns = conversation(messages)
    while turns and turns[-1]["role"] == "assistant":
        turns.pop()
    if not turns or not turns[-1]["content"].strip():
        raise InvalidInputError("err.chat_nothing_to_regenerate")
    return turns


def last_user_message(messages: list[dict[str, str]]) -> str:
    """The latest thing the user said (what the A/B tab is given as its prompt)."""
    for turn in reversed(conversation(messages)):
        if turn["role"] == "user" and turn["content"].strip():
            return turn["content"]
    raise InvalidInputError("err.chat_no_user_message")


class ChatService:
    """Streams replies of any registered version (local, adapter, merged, endpoint) to a conversation."""

    def __init__(self, models: ModelRegistry, cache: LocalModelCache, factory: BackendFactory = backend_for):
        self.models = models
        self.cache = cache
        self._factory = factory
        # Stop events of the replies streaming now, per session, so a stop reaches the generation between pieces.
        self._running: dict[str, set[threading.Event]] = {}
        self._lock = threading.Lock()

    def model_ids(self) -> list[str]:
        """Every registered version, in registration order."""
        return [entry.id for entry in self.models.list()]

    def default_model(self) -> str | None:
        """The app's chat backend ('Use as chat backend'), else the first registered version, else None."""
        chosen = self.models.default()
        if chosen is not None:
            return chosen.id
        ids = self.model_ids()
        return ids[0] if ids else None

    def request(self, model_id: str | None, history: list, message: str, system: str = "",
                params: SamplingParams | None = None) -> ChatRequest:
        """A request answering `message` after `history`; an empty message or no model is refused."""
        if not (message or "").strip():
            raise InvalidInputError("err.chat_empty_message")
        messages = [*conversation(history), {"role": "user", "content": message}]
        return ChatRequest(model_id or "", messages, system or "", params or SamplingParams())

    def regenerate_request(self, model_id: str | None, history: list, system: str = "",
                           params: SamplingParams | None = None) -> ChatRequest:
        """A request answering the last user message again, its old answer dropped."""
        return ChatRequest(model_id or "", without_last_answer(history), system or "", params or SamplingParams())

    def rendered(self, request: ChatRequest) -> list[dict[str, str]]:
        """The messages the backend receives: the system prompt (if any) first, then the conversation."""
        turns = conversation(request.messages)
        if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
            raise InvalidInputError("err.chat_empty_message")
        system = (request.system or "").strip()
        return ([{"role": "system", "content": system}] if system else []) + turns

    def stream(self, request: ChatRequest, session: str | None = None) -> ReplyStream:
        """Validate `request` now, then yield the reply's text pieces; `stop(session)` or closing it ends it."""
        if not request.model_id:
            raise InvalidInputError("err.chat_no_model")
        messages = self.rendered(request)
        entry = self.models.get(request.model_id)
        backend = self._factory(entry, self.cache)
        return self._pieces(backend, messages, request.params, session)

    def stop(self, session: str) -> int:
        """Stop every reply streaming for `session`; returns how many were running."""
        with self._lock:
            events = list(self._running.get(session, ()))
        for event in events:
            event.set()
        return len(events)

    def reply(self, request: ChatRequest) -> str:
        """The whole reply (for scripts and the CLI)."""
        with contextlib.closing(self.stream(request)) as pieces:
            return "".join(pieces)

    def _pieces(self, backend: Backend, messages: list[dict[str, str]], params: SamplingParams,
                session: str | None) -> ReplyStream:
        stop = threading.Event()
        if session is not None:
            with self._lock:
                self._running.setdefault(session, set()).add(stop)

        def forget() -> None:
            if session is not None:
                with self._lock:
                    running = self._running.get(session, set())
                    running.discard(stop)
                    if not running:
                        self._running.pop(session, None)

        return ReplyStream(backend.stream(messages, params), stop, forget)


class ReplyStream(Iterator[str]):
    """The text pieces of one reply; `stopped` is True when a stop ended it before the model did."""

    def __init__(self, pieces: Iterator[str], stop: threading.Event, on_close: Callable[[], None]):
        self._pieces = pieces
        self._stop = stop
        self._on_close = on_close
        self.stopped = False
        self._closed = False

    def __next__(self) -> str:
        if self._closed:
            raise StopIteration
        try:
            piece = next(self._pieces)
        except BaseException:
            self.close()
            raise
        if self._stop.is_set():
            self.stopped = True
            self.close()
            raise StopIteration
        return piece

    def close(self) -> None:
        """End the generation: closing the backend's stream is its cancel hook (a local model stops at the next
        token, an endpoint's HTTP response is closed)."""
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()
