"""One arena vote as stored in prefs.jsonl (one JSON object per line)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1
WINNERS = ("a", "b", "tie", "both_bad")
SOURCES = ("human", "synthetic")


def now_iso() -> str:
    """The current UTC time as ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Vote(BaseModel):
    """One arena vote; keys other tools add are kept as extras and written back unchanged."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_version: int = Field(SCHEMA_VERSION, alias="schema", ge=1)
    vote_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1)
    ts: str = Field(default_factory=now_iso)
    session: str = ""
    prompt: str
    system: str = ""
    model_a: str = Field(min_length=1)
    model_b: str = Field(min_length=1)
    response_a: str
    response_b: str
    left: Literal["a", "b"] = "a"
    winner: Literal["a", "b", "tie", "both_bad"]
    edited: str | None = None
    params: dict = Field(default_factory=dict)
    latency_ms: dict[str, float] | float | None = None
    source: Literal["human", "synthetic"] = "human"

    @field_validator("ts")
    @classmethod
    def _iso_ts(cls, value: str) -> str:
        datetime.fromisoformat(value)  # raises ValueError, which pydantic reports
        return value

    @field_validator("edited")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    def to_line(self) -> bytes:
        """The vote as one UTF-8 JSON line, Chinese kept as text."""
        return (json.dumps(self.model_dump(by_alias=True, mode="json"), ensure_ascii=False) + "\n").encode("utf-8")


def utc_day(ts: str) -> str:
    """The UTC calendar day of an ISO stamp; naive stamps from other tools are taken as UTC already."""
    stamp = datetime.fromisoformat(ts)
    offset = stamp.utcoffset()
    if offset:
        stamp = stamp.astimezone(UTC)
    return stamp.date().isoformat()
