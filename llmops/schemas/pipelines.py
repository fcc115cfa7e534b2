"""Typed pipelines: stages with dependencies, each naming its inputs by earlier stages' outputs.

A value may be a reference: `${stages.<id>.outputs.<name>}` (an earlier stage's output), `${current}` (the
version the chat backend used when the run started) or `${install}` (the folder the app is installed in, where the
shipped sample documents and datasets are). References are resolved when a stage starts.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

STAGE_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
REF = re.compile(r"\$\{\s*(?:stages\.([A-Za-z][A-Za-z0-9_-]*)\.outputs\.([A-Za-z_]+)|(current|install))\s*\}")
ANY_REF = re.compile(r"\$\{[^}]*\}")
ANY_OUTPUT = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainParams(_Strict):
    """A training request as the named API takes it (services/train_request.py); `model` may be a version id."""

    stage: str = Field(min_length=1, max_length=16)
    model: str = Field(min_length=1, max_length=1000)
    datasets: list[str] | str = Field(min_length=1)
    template: str | None = None
    config: dict = Field(default_factory=dict)


class EvaluateParams(_Strict):
    """An evaluation run (schemas/eval_runs.py EvalRunConfig without its id and time)."""

    models: list[str] = Field(min_length=1, max_length=64)
    set: str = Field(min_length=1)
    metrics: list[str] = Field(default_factory=list)
    metric_options: dict[str, dict] = Field(default_factory=dict)
    limit: int | None = Field(None, ge=1)
    generation: dict = Field(default_factory=dict)
    concurrency: int = Field(4, ge=1, le=64)
    timeout_s: float = Field(120.0, gt=0, le=3600)
    retries: int = Field(1, ge=0, le=10)
    local_batch: int = Field(8, ge=1, le=256)
    name: str = ""


class MergeParams(_Strict):
    """A LoRA version merged into its base (`llamafactory-cli export`)."""

    model: str = Field(min_length=1, max_length=1000)
    name: str | None = Field(None, max_length=100)
    dtype: str | None = None
    shard_gb: int = Field(2, ge=1, le=100)


class MergekitModel(_Strict):
    """One model of a mergekit merge and its own parameters (`weight`, `density`, ...), as in mergekit's recipe."""

    model: str = Field(min_length=1, max_length=1000)
    parameters: dict = Field(default_factory=dict)


class MergekitParams(_Strict):
    """A mergekit merge (surgery/merge.py plan_merge): the method, its inputs and parameters checked by mergekit's
    own specs; a model given as plain text takes an equal share of the weight."""

    method: str = Field(min_length=1, max_length=64)
    models: list[str | MergekitModel] = Field(min_length=1, max_length=8)
    base: str | None = Field(None, min_length=1, max_length=1000)
    parameters: dict = Field(default_factory=dict)
    dtype: Literal["float32", "float16", "bfloat16"] | None = None
    tokenizer_source: str | None = None
    seed: int = Field(0, ge=0, le=2**31 - 1)
    name: str | None = Field(None, max_length=100)


class AverageParams(_Strict):
    """Checkpoints of one training run averaged into one model."""

    run: str = Field(min_length=1, max_length=1000)
    checkpoints: list[str] = Field(min_length=2, max_length=64)
    ema: float | None = Field(None, gt=0.0, lt=1.0)
    lora: Literal["merge", "cat"] = "merge"
    name: str | None = Field(None, max_length=100)


class GateParams(_Strict):
    """The regression check: `candidate` no worse than `previous` on `set` and `metric`, beyond `threshold`."""

    candidate: str = Field(min_length=1)
    previous: str = Field(min_length=1)
    set: str = Field(min_length=1)
    metric: str = Field(min_length=1, max_length=100)
    threshold: float = Field(0.0, ge=0.0, le=1e9)


class PromoteParams(_Strict):
    """Make a version the chat backend (through the stored gate as well, compared with `previous`)."""

    model: str = Field(min_length=1)
    previous: str | None = None


class ExportVotesParams(_Strict):
    """Decisive A/B votes written as a DPO dataset."""

    only_model: str | None = None
    source: Literal["human", "synthetic"] | None = None
    min_pairs: int = Field(1, ge=0, le=10_000_000)


class JobParams(_Strict):
    """Any worker job kind of the job table (corpus, datagen, mockprefs, ...) with that kind's own parameters."""

    job_kind: str = Field(min_length=1, max_length=64)
    params: dict = Field(default_factory=dict)
    name: str | None = Field(None, max_length=200)


class _Stage(_Strict):
    id: str = Field(pattern=STAGE_ID)
    needs: list[str] = Field(default_factory=list)  # beside those its references imply


class TrainStage(_Stage):
    kind: Literal["train"]
    params: TrainParams


class EvaluateStage(_Stage):
    kind: Literal["evaluate"]
    params: EvaluateParams


class MergeStage(_Stage):
    kind: Literal["merge"]
    params: MergeParams


class MergekitStage(_Stage):
    kind: Literal["mergekit"]
    params: MergekitParams


class AverageStage(_Stage):
    kind: Literal["average"]
    params: AverageParams


class GateStage(_Stage):
    kind: Literal["gate"]
    params: GateParams


class PromoteStage(_Stage):
    kind: Literal["promote"]
    params: PromoteParams


class ExportVotesStage(_Stage):
    kind: Literal["export_votes"]
    params: ExportVotesParams = Field(default_factory=ExportVotesParams)


class JobStage(_Stage):
    kind: Literal["job"]
    params: JobParams


Stage = Annotated[Union[TrainStage, EvaluateStage, MergeStage, MergekitStage, AverageStage, GateStage, PromoteStage,
                        ExportVotesStage, JobStage], Field(discriminator="kind")]

# What each kind leaves for later stages to name.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "train": ("model", "output_dir", "job"),
    "evaluate": ("run", "job"),
    "merge": ("model", "path", "job"),
    "mergekit": ("model", "path", "recipe", "job"),
    "average": ("model", "path", "job"),
    "gate": ("passed", "run"),
    "promote": ("model",),
    "export_votes": ("dataset", "path", "pairs"),
    "job": (ANY_OUTPUT,),  # whatever the kind's completion records (dataset_name, path, ...)
}
# Kinds that run as a job in the job table; the others run inline in the driver's pass.
JOB_KINDS = ("train", "evaluate", "merge", "mergekit", "average", "job")


class Pipeline(_Strict):
    """A pipeline file: a name, a description and its stages in any order."""

    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    stages: list[Stage] = Field(min_length=1, max_length=64)


def references(value) -> list[tuple[str | None, str | None]]:
    """(stage id, output) for every reference in a nested value; (None, None) for `${current}`."""
    found: list[tuple[str | None, str | None]] = []
    if isinstance(value, str):
        found += [(m.group(1), m.group(2)) if not m.group(3) else (None, None) for m in REF.finditer(value)]
    elif isinstance(value, dict):
        for item in value.values():
            found += references(item)
    elif isinstance(value, list):
        for item in value:
            found += references(item)
    return found


def malformed(value) -> list[str]:
    """Every `${...}` in a nested value that is not a reference this syntax knows."""
    if isinstance(value, str):
        return [m.group(0) for m in ANY_REF.finditer(value) if not REF.fullmatch(m.group(0))]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return [bad for item in items for bad in malformed(item)]
