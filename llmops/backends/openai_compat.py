"""Any OpenAI-compatible chat server (vLLM, `llamafactory-cli api`, Ollama, OpenAI) through the `openai` client.

The one home of an endpoint (URL, model, in-memory key) and of the client that talks to it: chat, the arena and
data generation all send their requests through OpenAICompatBackend.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import InvalidInputError, LLMOpsError
from ..schemas.models import SamplingParams
from ..security.credentials import has_userinfo, require_bound
from ..settings import Settings
from .base import Backend, BackendError, check_messages

NO_KEY = "EMPTY"  # what local servers (vLLM, LLaMA-Factory) accept when they check no key
_DETAIL_CHARS = 300


class Secret:
    """A string that never shows itself: repr/str print stars, pickling is refused."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None = None):
        self._value = value or ""

    def reveal(self) -> str:
        """The value, for the one place that must send it."""
        return self._value

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the value replaced by ***."""
        return text.replace(self._value, "***") if len(self._value) >= 4 else text

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo) -> Secret:
        return self

    def __reduce__(self):
        raise TypeError("a Secret is never serialised")


@dataclass(frozen=True)
class Endpoint:
    """Where to send requests: base URL (…/v1), model name and an in-memory API key.

    `key_env` names the bound variable the key came from (None for a key the user typed for this URL), so the
    binding can be checked again right before each run.
    """

    base_url: str
    model: str
    api_key: Secret = field(default_factory=Secret, repr=False, compare=False)
    key_env: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.api_key, Secret):
            object.__setattr__(self, "api_key", Secret(self.api_key))
        url = (self.base_url or "").strip().rstrip("/")
        if has_userinfo(url):
            raise InvalidInputError("err.sec_url_userinfo")  # never echoed: the user-info is a secret
        if not re.match(r"^https?://[^\s/]+", url):
            raise InvalidInputError("err.gen_bad_base_url", url=url)
        if not (self.model or "").strip():
            raise InvalidInputError("err.gen_model_required")
        object.__setattr__(self, "base_url", url)
        object.__setattr__(self, "model", self.model.strip())

    @classmethod
    def from_env(cls, base_url: str, model: str, api_key_env: str | None = None,
                 settings: Settings | None = None) -> Endpoint:
        """An endpoint whose key is read from the variable `api_key_env` (none: no key), which must be bound
        to `base_url` (checked before the variable is even looked at, so nobody learns which ones are set)."""
        key = ""
        if api_key_env:
            require_bound(settings or Settings.from_env(), api_key_env, (base_url or "").strip())
            key = os.environ.get(api_key_env, "")
            if not key:
                raise InvalidInputError("err.gen_api_key_env_missing", name=api_key_env)
        return cls(base_url, model, Secret(key), api_key_env or None)

    def public(self) -> dict:
        """What may be shown or stored: never the key itself."""
        return {"base_url": self.base_url, "model": self.model, "api_key": "set" if self.api_key else "none"}



class OpenAICompatBackend(Backend):
    """Chat completions from `base_url`; the key is read from `api_key_env` (or an in-memory `api_key`) at each
    call, after its binding to `base_url` is checked again, and is never kept in a file, a log or a message."""

    def __init__(self, base_url: str, model: str, api_key_env: str | None = None, timeout: float = 60.0,
                 max_retries: int = 1, settings: Settings | None = None, api_key: Secret | None = None):
        self.settings = settings
        self._api_key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self._http = None
        self._http_lock = threading.Lock()

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint, *, timeout: float = 60.0, max_retries: int = 1,
                      settings: Settings | None = None) -> OpenAICompatBackend:
        """A backend for a runtime Endpoint: its typed key, or its bound variable checked again at each request."""
        return cls(endpoint.base_url, endpoint.model, endpoint.key_env, timeout=timeout, max_retries=max_retries,
                   settings=settings, api_key=endpoint.api_key)

    def client(self):
        """An `openai` client for one run of requests, its key checked now (binding, presence); see `close`."""
        return self._client(self._key())

    def close(self) -> None:
        """Close the connection pool; the next request opens a new one."""
        with self._http_lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()

    def redact(self, text: str) -> str:
        """`text` with the in-memory key, if any, replaced by ***."""
        return self._api_key.redact(text)

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
            return self._api_key.reveal() or NO_KEY  # a key typed for this URL, or none
        try:
            # Checked at every request, so an edited models.json cannot send a key to another host.
            require_bound(self.settings or Settings.from_env(), self.api_key_env, self.base_url)
        except LLMOpsError as exc:
            raise BackendError(exc.key, **exc.params) from None
        key = self._api_key.reveal() or os.environ.get(self.api_key_env)
        if not key:
            raise BackendError("err.backend_key_missing", env=self.api_key_env)
        return key

    def _client(self, key: str):
        import openai

        # Import the transports now, not first in an error path: openai reads sys.modules["httpx"] as is, so a
        # first import racing in another request thread shows it a half-initialised module.
        _transport_modules()
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
