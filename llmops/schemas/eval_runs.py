"""Evaluation runs: what a run is asked to do, one prediction line, one judgement line, and the run's summary.

These are the run folder's file formats (see services/evaluation/run_folder.py); every reader of a run folder —
the comparison, the reports, the human sheets, the regression gate — goes through them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import SamplingParams

RUN_ID_PATTERN = r"^ev-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$"
DEFAULT_DIMENSIONS = ("accuracy", "relevance", "fluency", "professionalism")
# Why a sample has no usable output; `None` in a prediction line means it has one.
ErrorKind = Literal["timeout", "backend", "empty", "stopped"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerationSettings(_Strict):
    """How every model answers: greedy by default, so a rerun gives the same numbers."""

    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(256, ge=1, le=8192)
    seed: int = Field(0, ge=0, le=2**32 - 1)

    def sampling(self) -> SamplingParams:
        return SamplingParams(temperature=self.temperature, top_p=self.top_p, max_new_tokens=self.max_new_tokens,
                              seed=self.seed)


class JudgeSpec(_Strict):
    """An LLM judge behind an OpenAI-compatible endpoint; the key lives only in the variable `api_key_env` names."""

    mode: Literal["single", "pairwise"] = "single"
    base_url: str = Field(min_length=1, max_length=2000)
    model: str = Field(min_length=1, max_length=300)
    api_key_env: str | None = Field(None, max_length=128)
    lang: Literal["en", "zh"] = "en"
    dimensions: list[str] = Field(default_factory=lambda: list(DEFAULT_DIMENSIONS), min_length=1)
    template: str | None = Field(None, max_length=20000)  # the prompt template; None: the default for `lang`
    # Pairwise: the pairs (model A, model B) to compare; empty means each model against the first one.
    pairs: list[tuple[str, str]] = Field(default_factory=list)
    concurrency: int = Field(4, ge=1, le=64)
    timeout_s: float = Field(60.0, gt=0, le=3600)
    retries: int = Field(2, ge=0, le=10)  # a malformed or failed answer is asked again this many times


class EvalRunConfig(_Strict):
    """Everything an evaluation run was asked to do (config.json of its folder)."""

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    # Registered version ids (`name@version`), or a checkpoint of one (`name@version#checkpoint-N`).
    models: list[str] = Field(min_length=1, max_length=64)
    set: str = Field(min_length=1)  # an evaluation set name (a file of its own or `dataset[@vN]`)
    metrics: list[str] = Field(default_factory=list)
    metric_options: dict[str, dict] = Field(default_factory=dict)
    limit: int | None = Field(None, ge=1)  # the first N samples of the set
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    concurrency: int = Field(4, ge=1, le=64)  # endpoint requests in flight per model
    timeout_s: float = Field(120.0, gt=0, le=3600)  # per sample
    retries: int = Field(1, ge=0, le=10)  # per sample, after a timeout or a backend error
    local_batch: int = Field(8, ge=1, le=256)  # samples per batched generate on a local base
    judge: JudgeSpec | None = None
    perplexity_model: str | None = None  # the version whose local weights score references, for `perplexity`
    name: str = ""  # what the user called this run
    created: str = ""


class PredictionRecord(_Strict):
    """One line of predictions.jsonl: one model's answer to one sample (`sample` indexes set.jsonl)."""

    sample: int = Field(ge=0)
    model: str
    prompt: str
    reference: str | None = None
    label: str | None = None
    output: str = ""
    latency_s: float = 0.0
    tokens: int = 0  # output tokens (the backend's count, else the model tokenizer's)
    truncated: bool = False  # stopped at max_new_tokens
    attempts: int = 1
    error: ErrorKind | None = None
    error_detail: str = ""  # redacted: never a key


class SingleJudgement(_Strict):
    """One line of judgements.jsonl in single mode: one answer graded on every rubric dimension."""

    kind: Literal["single"] = "single"
    sample: int = Field(ge=0)
    model: str
    scores: dict[str, int] = Field(default_factory=dict)  # dimension -> 1..5; empty on failure
    reason: str = ""
    attempts: int = 1
    error: str | None = None  # why the judge gave no usable answer ("parse", "http_429", "timeout", ...)


class PairJudgement(_Strict):
    """One line of judgements.jsonl in pairwise mode: models `a` and `b` on one sample, asked in one order."""

    kind: Literal["pairwise"] = "pairwise"
    sample: int = Field(ge=0)
    a: str
    b: str
    order: Literal["ab", "ba"]  # "ab": a's answer shown first
    winner: Literal["a", "b", "tie"] | None = None  # translated back to the models, whatever the order
    reason: str = ""
    attempts: int = 1
    error: str | None = None


class ModelSummary(BaseModel):
    """One model's figures in summary.json."""

    model_config = ConfigDict(extra="allow")

    samples: int = 0  # predictions with an output
    metrics: dict[str, float | None] = Field(default_factory=dict)  # metric key -> the set's figure
    latency_mean_s: float | None = None
    tokens_per_s: float | None = None
    errors: dict[str, int] = Field(default_factory=dict)  # timeout / backend / empty / truncated -> count
    judge: dict[str, float | None] = Field(default_factory=dict)  # dimension -> mean score; "failures" -> count
    win: int | None = None  # pairwise: verdicts over both orders (a flip counts as a tie)
    loss: int | None = None
    tie: int | None = None
    human: dict[str, float | None] = Field(default_factory=dict)  # dimension -> mean human score
    contaminated: int | None = None  # samples found in this version's training data (exactly or nearly)
    contaminated_exact: int | None = None


class JudgeSummary(BaseModel):
    """The judge's part of summary.json, with its audit."""

    model_config = ConfigDict(extra="allow")

    mode: str
    model: str
    judged: int = 0
    failures: int = 0
    position_bias_rate: float | None = None  # pairwise: share of pairs whose verdict flips with the order
    human_agreement: float | None = None  # raw agreement with human votes on the same prompt and pair
    kappa: float | None = None  # Cohen's kappa, judge vs humans; None without overlapping votes
    overlap: int = 0  # pairs with human votes


class RunSummary(BaseModel):
    """summary.json: the run's figures per model, the judge's audit, and how far it got."""

    model_config = ConfigDict(extra="allow")

    run_id: str
    set: str
    samples: int  # samples in the run's set
    done: int  # prediction lines written (models x samples)
    total: int
    status: Literal["running", "partial", "complete"]
    metrics: list[str] = Field(default_factory=list)  # metric keys, in column order
    models: dict[str, ModelSummary] = Field(default_factory=dict)
    judge: JudgeSummary | None = None
    kind: Literal["generation", "benchmark"] = "generation"  # benchmark: lm-eval figures, also in benchmarks.json
    # Why a figure is missing: {"key": i18n key, "params": {...}} each, rendered where shown.
    notes: list[dict] = Field(default_factory=list)
    updated: str = ""
