"""What every generation backend offers: a stream of text deltas for a chat, and the whole reply."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..errors import (
    BackendError,  # re-exported: backends and their callers import it from here
)
from ..schemas.models import SamplingParams

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class RowEvent:
    """One step of several replies generated together: a text delta for `row`, its end, or its failure."""

    row: int
    text: str = ""
    done: bool = False
    error: BaseException | None = None


class StopSignal:
    """Set by its own `set()` or by any outer event: closing one stream never cancels what its caller shares."""

    def __init__(self, *outer: threading.Event | StopSignal | None):
        self._own = threading.Event()
        self._outer = [event for event in outer if event is not None]

    def set(self) -> None:
        self._own.set()

    def is_set(self) -> bool:
        return self._own.is_set() or any(event.is_set() for event in self._outer)


@runtime_checkable
class Backend(Protocol):
    """A chat model: `stream` yields text deltas; `generate` joins them."""

    def stream(self, messages: list[dict], params: SamplingParams) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece."""
        ...

    def generate(self, messages: list[dict], params: SamplingParams) -> str:
        """The whole reply to `messages`."""
        return "".join(self.stream(messages, params))


def check_messages(messages: list[dict]) -> list[dict[str, str]]:
    """Plain {role, content} dicts in the roles chat templates know, ending with the user; else BackendError."""
    if not isinstance(messages, list) or not messages:
        raise BackendError("err.backend_bad_messages", reason="no messages")
    clean = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BackendError("err.backend_bad_messages", reason=f"message {index} is not an object")
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise BackendError("err.backend_bad_messages", reason=f"message {index} has role {role!r}")
        if not isinstance(content, str):
            raise BackendError("err.backend_bad_messages", reason=f"message {index} has no text content")
        clean.append({"role": role, "content": content})
    if clean[-1]["role"] != "user":
        raise BackendError("err.backend_bad_messages", reason="the last message must come from the user")
    return clean
