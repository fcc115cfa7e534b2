"""Evaluation records: set samples, predictions to score, and what scoring returns."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..i18n.message import Message


class EvalSample(BaseModel):
    """One line of an evaluation set: a prompt, and what a good answer is (a reference text and/or a label)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    reference: str | None = None
    label: str | None = None
    system: str | None = None
    history: list[tuple[str, str]] = Field(default_factory=list)  # earlier (user, assistant) turns
    metadata: dict[str, Any] = Field(default_factory=dict)

    def messages(self) -> list[dict[str, str]]:
        """The conversation up to the prompt, as chat messages."""
        out = [{"role": "system", "content": self.system}] if self.system else []
        for user, assistant in self.history:
            out += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        return [*out, {"role": "user", "content": self.prompt}]


def dump_samples(samples: list[EvalSample]) -> bytes:
    """A set file's bytes: one JSON object per line, defaults left out."""
    lines = (json.dumps(s.model_dump(exclude_defaults=True), ensure_ascii=False) + "\n" for s in samples)
    return "".join(lines).encode("utf-8")


class Prediction(EvalSample):
    """A sample with the model's output; `prompt` may be empty (LLaMA-Factory's files hold the rendered prompt)."""

    prompt: str = ""
    output: str
    line: int = 0  # where it was read, for messages


class EvalSetInfo(BaseModel):
    """One evaluation set the studio can use: a file of its own, or a registered SFT dataset read as one."""

    name: str
    source: str  # "set" (a file under the evals folder) | "dataset" (converted on the fly)
    path: str
    samples: int | None = None
    format: str = "eval"
    problem: Message | None = None  # why it cannot be used as it is; rendered by the reader in its language

    @field_validator("problem", mode="before")
    @classmethod
    def _revive(cls, value: object) -> object:
        """A dumped message ({"key", "params"}) read back as a message, its nested messages too."""
        return Message.from_dict(value) if isinstance(value, dict) else value


class SetPreview(BaseModel):
    """One page of samples of a set."""

    name: str
    page: int
    page_size: int
    total: int
    samples: list[EvalSample]


class SplitResult(BaseModel):
    """The two versions a held-out split wrote; the train version is the dataset's registered one."""

    dataset: str
    train_version: str
    eval_version: str
    train_samples: int
    eval_samples: int
    eval_set: str  # the name to use as an evaluation set: "<dataset>@<eval_version>"


class ScoreReport(BaseModel):
    """Per-sample scores (None where a sample lacked what a metric needs) and the set's figures."""

    n: int
    metrics: list[str]
    summary: dict[str, float | int | str | None]
    per_sample: list[dict[str, float | None]]
    details: dict[str, Any] = Field(default_factory=dict)  # e.g. the sacrebleu signature, samples counted per metric
