"""What every generation backend offers: a stream of text deltas for a chat, and the whole reply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ..errors import LLMOpsError
from ..schemas.models import SamplingParams

ROLES = ("system", "user", "assistant")


class BackendError(LLMOpsError):
    """Generation failed; the message says why and never contains a secret."""


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
