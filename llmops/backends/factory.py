"""The backend that generates for a registered model."""

from __future__ import annotations

from ..schemas.models import ModelEntry
from .base import Backend, BackendError
from .cache import LocalModelCache, model_key
from .local import LocalBackend
from .openai_compat import OpenAICompatBackend


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
