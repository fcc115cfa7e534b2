"""Registered models (base, adapter, merged, endpoint) and the sampling parameters a backend takes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ModelKind = Literal["base", "adapter", "merged", "endpoint"]
MODEL_KINDS: tuple[str, ...] = ("base", "adapter", "merged", "endpoint")

# '@' separates name and version in an id, so neither part may contain it; '/' stays out so ids are file-safe.
NAME_PATTERN = r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]{0,99}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$"
ENV_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
_ENV_NAME = re.compile(ENV_NAME_PATTERN)


def pickle_only_weights(path: str | Path) -> bool:
    """True for a local model folder whose weights exist only as pickle files (loading them can run code)."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        return False
    names = [p.name for p in folder.iterdir() if p.is_file()]
    pickled = any(n.endswith(".pt") or (n.startswith("pytorch_model") and n.endswith(".bin")) for n in names)
    return pickled and not any(n.endswith(".safetensors") for n in names)


class SamplingParams(BaseModel):
    """How to sample one reply; temperature 0 means greedy."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    max_new_tokens: int = Field(256, ge=1, le=8192)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)


def looks_like_secret(value: str) -> bool:
    """True when `value` looks like an API key itself rather than the name of a variable holding one."""
    text = (value or "").strip()
    # Real keys (sk-..., hf_..., AIza...) have lowercase letters or dashes, which variable names here may not.
    if not _ENV_NAME.match(text):
        return True
    # A long run with no word breaks and digits in it is a token, not a variable name.
    return len(text) >= 32 and "_" not in text.strip("_") and any(ch.isdigit() for ch in text)


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint base URL, or None when it can."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https"):
        return "scheme must be http or https"
    if not parts.hostname:
        return "no host"
    if parts.username or parts.password:
        return "credentials in the URL"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "bad port"
    return None


class Endpoint(BaseModel):
    """An OpenAI-compatible server. The key is never stored: only the NAME of the variable holding it."""

    # A key pasted into the wrong field must not come back in an error message.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    base_url: str = Field(min_length=1, max_length=2000)
    model: str = Field(min_length=1, max_length=300)
    api_key_env: str | None = Field(None, max_length=128)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip().rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if looks_like_secret(value):
            # The value is deliberately not echoed: it may be the secret itself.
            raise ValueError("must be the name of an environment variable like OPENAI_API_KEY, not a key")
        return value.strip()


class ModelEntry(BaseModel):
    """One version of a model the studio can chat with; `id` is always `name@version`."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    id: str = ""
    name: str = Field(pattern=NAME_PATTERN)
    version: str = Field(pattern=VERSION_PATTERN)
    kind: ModelKind
    # Local folder or hub id of the weights to load: the base for an adapter, the model itself otherwise.
    path: str | None = Field(None, max_length=2000)
    adapter: str | None = Field(None, max_length=2000)
    endpoint: Endpoint | None = None
    template: str | None = Field(None, max_length=64)
    # job_id, datasets, parent_id, stage (and anything else that explains where it came from).
    lineage: dict = Field(default_factory=dict)
    created: str = ""
    # Built from the demo model: answers prove the pipeline, not quality.
    demo: bool = False
    # Opt-ins, off by default: run the model's own Python code; load pickle (.bin/.pt) weights.
    trust_remote_code: bool = False
    allow_pickle: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ModelEntry:
        expected = f"{self.name}@{self.version}"
        if not self.id:
            self.id = expected
        elif self.id != expected:
            raise ValueError(f"id must be {expected!r}")
        if self.kind == "endpoint":
            if self.endpoint is None or self.path or self.adapter:
                raise ValueError("an endpoint entry has an endpoint and no path or adapter")
        else:
            if not self.path or self.endpoint is not None:
                raise ValueError(f"a {self.kind} entry needs a path and no endpoint")
            if (self.kind == "adapter") != bool(self.adapter):
                raise ValueError("only an adapter entry has an adapter folder, and it must have one")
        return self

    @property
    def parent_id(self) -> str | None:
        """The registered model this one was derived from, if any."""
        return self.lineage.get("parent_id")
