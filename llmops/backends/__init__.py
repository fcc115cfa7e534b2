"""Generation backends: local transformers (+ shared-base LoRA adapters) and OpenAI-compatible HTTP."""

from .base import Backend, BackendError, RowEvent, check_messages
from .cache import LoadedBase, LocalModelCache
from .factory import backend_for, stream_together
from .local import LocalBackend
from .openai_compat import OpenAICompatBackend

__all__ = ["Backend", "BackendError", "LoadedBase", "LocalBackend", "LocalModelCache", "OpenAICompatBackend",
           "RowEvent", "backend_for", "check_messages", "stream_together"]
