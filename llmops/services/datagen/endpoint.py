"""An OpenAI-compatible endpoint and its API key, which lives only in memory and never shows itself."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ...errors import InvalidInputError
from ...security.credentials import has_userinfo, require_bound
from ...settings import Settings


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
