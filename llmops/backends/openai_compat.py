"""Any OpenAI-compatible chat server (vLLM, `llamafactory-cli api`, Ollama, OpenAI) through the `openai` client."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

from ..errors import LLMOpsError
from ..schemas.models import SamplingParams
from ..security.credentials import require_bound
from ..settings import Settings
from .base import Backend, BackendError, check_messages

NO_KEY = "EMPTY"  # what local servers (vLLM, LLaMA-Factory) accept when they check no key
_DETAIL_CHARS = 300


class OpenAICompatBackend(Backend):
    """Chat completions from `base_url`; the key is read from `api_key_env` at each call and never kept."""

    def __init__(self, base_url: str, model: str, api_key_env: str | None = None, timeout: float = 60.0,
                 max_retries: int = 1, settings: Settings | None = None):
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self._http = None
        self._http_lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"OpenAICompatBackend(base_url={self.base_url!r}, model={self.model!r}, "
                f"api_key_env={self.api_key_env!r})")

    def stream(self, messages: list[dict], params: SamplingParams) -> Iterator[str]:
        """Yield text deltas from a streamed chat completion."""
        messages = check_messages(messages)
        key = self._key()
        try:
            response = self._client(key).chat.completions.create(stream=True, **self._request(messages, params))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a BackendError without the key
            raise self._error(exc, key) from None
        events = 0
        try:
            for chunk in response:
                events += 1
                choices = getattr(chunk, "choices", None) or []
                delta = getattr(choices[0], "delta", None) if choices else None
                text = getattr(delta, "content", None) if delta is not None else None
                if text is not None and not isinstance(text, str):
                    raise TypeError("delta content is not text")
                if text:
                    yield text
        except BackendError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, key) from None
        finally:
            _close_quietly(response)
        if events == 0:
            raise BackendError("err.backend_bad_response", url=self.base_url, reason="the stream held no events")

    def generate(self, messages: list[dict], params: SamplingParams) -> str:
        """The whole reply, in one non-streamed request."""
        messages = check_messages(messages)
        key = self._key()
        try:
            completion = self._client(key).chat.completions.create(**self._request(messages, params))
            content = completion.choices[0].message.content
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, key) from None
        if content is not None and not isinstance(content, str):
            raise BackendError("err.backend_bad_response", url=self.base_url, reason="message content is not text")
        return content or ""

    # --- internals --------------------------------------------------------------------------------

    def _key(self) -> str:
        if not self.api_key_env:
            return NO_KEY
        try:
            # Checked at every request, so an edited models.json cannot send a key to another host.
            require_bound(self.settings or Settings.from_env(), self.api_key_env, self.base_url)
        except LLMOpsError as exc:
            raise BackendError(exc.key, **exc.params) from None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise BackendError("err.backend_key_missing", env=self.api_key_env)
        return key

    def _client(self, key: str):
        import openai

        with self._http_lock:
            if self._http is None:
                # One connection pool per backend; the client around it is rebuilt per call with the current key.
                self._http = openai.DefaultHttpxClient()
        return openai.OpenAI(api_key=key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries,
                             http_client=self._http)

    def _request(self, messages: list[dict[str, str]], params: SamplingParams) -> dict:
        request = {"model": self.model, "messages": messages, "temperature": params.temperature,
                   "top_p": params.top_p, "max_tokens": params.max_new_tokens}
        if params.seed is not None:
            request["seed"] = params.seed
        return request

    def _error(self, exc: Exception, key: str) -> BackendError:
        """A BackendError for `exc` whose text is scrubbed of `key`."""
        import openai

        def clean(text: object) -> str:
            text = str(text)
            if key and key != NO_KEY:
                text = text.replace(key, "***")
            return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + "…"

        url = self.base_url
        if isinstance(exc, openai.APITimeoutError) or _is_transport_timeout(exc):
            return BackendError("err.backend_timeout", url=url, seconds=f"{self.timeout:g}")
        if isinstance(exc, openai.APIConnectionError) or _is_transport_error(exc):
            reason = exc.__cause__ or exc
            return BackendError("err.backend_unreachable", url=url, reason=clean(reason) or type(reason).__name__)
        if isinstance(exc, openai.APIStatusError):
            status, detail = exc.status_code, clean(_status_detail(exc))
            if status == 429:
                return BackendError("err.backend_rate_limited", url=url)
            if status in (401, 403):
                return BackendError("err.backend_auth", url=url, status=status, env=self.api_key_env or "-")
            if status == 404:
                return BackendError("err.backend_not_found", url=url, model=self.model, detail=detail)
            if status >= 500:
                return BackendError("err.backend_server_error", url=url, status=status, detail=detail)
            return BackendError("err.backend_http", url=url, status=status, detail=detail)
        # Garbage: undecodable JSON, a body of the wrong shape, a failed response validation.
        return BackendError("err.backend_bad_response", url=url, reason=clean(f"{type(exc).__name__}: {exc}"))


def _status_detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        return str(message or body)
    if body:
        return str(body)
    response = getattr(exc, "response", None)
    text = getattr(response, "text", "") if response is not None else ""
    return str(text or getattr(exc, "message", "") or exc)


def _transport_modules() -> list:
    modules = []
    for name in ("httpx2", "httpx"):
        try:
            modules.append(__import__(name))
        except ImportError:
            continue
    return modules


def _is_transport_timeout(exc: Exception) -> bool:
    return any(isinstance(exc, module.TimeoutException) for module in _transport_modules())


def _is_transport_error(exc: Exception) -> bool:
    return any(isinstance(exc, module.TransportError) for module in _transport_modules())


def _close_quietly(response) -> None:
    close = getattr(response, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # noqa: BLE001 - closing a broken stream must not hide the real error
            return
