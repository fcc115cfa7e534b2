"""Sample by sample: every model's output and scores side by side (filtered, paged), and where each model failed."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from ...errors import InvalidInputError, LLMOpsError
from . import metrics as registry
from .run_data import RunData, load
from .run_folder import RunFolder

ERROR_KINDS = ("timeout", "backend", "empty", "truncated", "stopped", "judge_parse", "judge_other")
MAX_PAGE_SIZE = 500


class SampleFilter(BaseModel):
    """Which samples to show: `worse` scoring below `better` on `metric`, errors only, text contained."""

    worse: str | None = None
    better: str | None = None
    metric: str | None = None  # a metric key or name; the worse/better test and the best marking use it
    errors_only: bool = False
    text: str = ""


class SampleOutput(BaseModel):
    """One model's answer to one sample, with its per-sample scores and judgement."""

    model: str
    output: str = ""
    error: str | None = None
    error_detail: str = ""
    truncated: bool = False
    latency_s: float = 0.0
    tokens: int = 0
    scores: dict[str, float | None] = Field(default_factory=dict)
    judge: dict[str, int] = Field(default_factory=dict)
    judge_error: str | None = None
    missing: bool = False  # no prediction line yet


class SampleRow(BaseModel):
    """One sample: the prompt, the reference, each model's output; `best` holds the models best on the metric."""

    sample: int
    prompt: str
    reference: str | None = None
    label: str | None = None
    outputs: list[SampleOutput]
    best: list[str] = Field(default_factory=list)


class SamplePage(BaseModel):
    """One page of side-by-side rows."""

    run_id: str
    metric: str | None  # the metric key the best output is chosen by
    page: int
    page_size: int
    total: int  # rows that passed the filter
    pages: int
    rows: list[SampleRow]


class ModelErrors(BaseModel):
    """One model's failures by kind, each with the sample indexes behind it."""

    model: str
    samples: dict[str, list[int]] = Field(default_factory=dict)  # kind -> sample indexes

    @property
    def counts(self) -> dict[str, int]:
        return {kind: len(found) for kind, found in self.samples.items()}


class ErrorAnalysis(BaseModel):
    """Failures per model: timeouts, backend errors, empty and truncated outputs, judge failures."""

    run_id: str
    kinds: list[str]
    models: list[ModelErrors]


def side_by_side(folder: RunFolder | RunData, *, filter: SampleFilter | None = None, metric: str | None = None,
                 page: int = 1, page_size: int = 20) -> SamplePage:
    """Per-sample rows, filtered and paged (`page` counts from 1); the best output is marked by `metric`."""
    data = load(folder)
    filter = filter or SampleFilter()
    key = _metric_key(data, metric or filter.metric)
    if (filter.worse is None) != (filter.better is None):
        raise InvalidInputError("err.ev_filter_pair")
    for name in (filter.worse, filter.better):
        if name is not None and name not in data.models:
            raise InvalidInputError("err.ev_model_not_in_run", model=name, run=data.run_id,
                                    models=", ".join(data.models))
    if filter.worse is not None and key is None:
        raise InvalidInputError("err.ev_filter_needs_metric")
    if not 1 <= page_size <= MAX_PAGE_SIZE or page < 1:
        raise InvalidInputError("err.ev_bad_page", page=page, page_size=page_size, most=MAX_PAGE_SIZE)
    higher = _higher(key)
    kept = [row for row in (_row(data, index, key, higher) for index in range(len(data.samples)))
            if _keep(row, filter, key, higher)]
    pages = max(1, math.ceil(len(kept) / page_size))
    start = (page - 1) * page_size
    return SamplePage(run_id=data.run_id, metric=key, page=page, page_size=page_size, total=len(kept), pages=pages,
                      rows=kept[start:start + page_size])


def error_analysis(folder: RunFolder | RunData) -> ErrorAnalysis:
    """Counts per model of every kind of failure, with the samples behind each."""
    data = load(folder)
    found = {m: {kind: set() for kind in ERROR_KINDS} for m in data.models}
    for (model, sample), record in data.predictions.items():
        kinds = found.setdefault(model, {kind: set() for kind in ERROR_KINDS})
        if record.error is not None:
            kinds[record.error].add(sample)
        elif not record.output.strip():
            kinds["empty"].add(sample)
        if record.truncated:
            kinds["truncated"].add(sample)
    for (model, sample), judged in data.single.items():
        if judged.error is not None and model in found:
            found[model]["judge_parse" if judged.error == "parse" else "judge_other"].add(sample)
    for judged in data.pairs:
        if judged.error is not None:
            for model in (judged.a, judged.b):
                if model in found:
                    found[model]["judge_parse" if judged.error == "parse" else "judge_other"].add(judged.sample)
    models = [ModelErrors(model=m, samples={kind: sorted(found[m][kind]) for kind in ERROR_KINDS}) for m in found]
    return ErrorAnalysis(run_id=data.run_id, kinds=list(ERROR_KINDS), models=models)


def _metric_key(data: RunData, metric: str | None) -> str | None:
    """The per-sample column for `metric` (name or key); by default the run's first metric."""
    if metric is None:
        keys = list(data.summary.metrics) if data.summary and data.summary.metrics else [
            registry.get(name).key for name in data.config.metrics if name in registry.METRICS]
        return keys[0] if keys else None
    try:
        return registry.get(metric).key
    except LLMOpsError:
        if any(metric in row for row in data.scores.values()):
            return metric
        raise


def _higher(key: str | None) -> bool:
    try:
        return registry.get(key).higher_is_better if key else True
    except LLMOpsError:
        return True


def _row(data: RunData, index: int, key: str | None, higher: bool) -> SampleRow:
    sample = data.samples[index]
    outputs = []
    for model in data.models:
        record = data.predictions.get((model, index))
        scores = {k: v for k, v in data.scores.get((model, index), {}).items() if k not in ("sample", "model")}
        judged = data.single.get((model, index))
        base = record.model_dump(include={"output", "error", "error_detail", "truncated", "latency_s", "tokens"}) \
            if record else {"missing": True}
        outputs.append(SampleOutput(model=model, scores=scores, judge=judged.scores if judged else {},
                                    judge_error=judged.error if judged else None, **base))
    values = {o.model: o.scores.get(key) for o in outputs if key and isinstance(o.scores.get(key), (int, float))}
    best = []
    if values:
        top = max(values.values()) if higher else min(values.values())
        best = [m for m, v in values.items() if v == top]
    return SampleRow(sample=index, prompt=sample.prompt, reference=sample.reference, label=sample.label,
                     outputs=outputs, best=best)


def _keep(row: SampleRow, filter: SampleFilter, key: str | None, higher: bool) -> bool:
    if filter.errors_only and not any(_failed(o) for o in row.outputs):
        return False
    if filter.text:
        needle = filter.text.casefold()
        texts = [row.prompt, row.reference or "", row.label or "", *(o.output for o in row.outputs)]
        if not any(needle in text.casefold() for text in texts):
            return False
    if filter.worse is not None:
        by_model = {o.model: o.scores.get(key) for o in row.outputs}
        worse, better = by_model.get(filter.worse), by_model.get(filter.better)
        if not isinstance(worse, (int, float)) or not isinstance(better, (int, float)):
            return False
        return worse < better if higher else worse > better
    return True


def _failed(output: SampleOutput) -> bool:
    """An error, a truncation, a judge failure, or an empty answer."""
    return bool(output.error or output.truncated or output.judge_error
                or (not output.missing and not output.output.strip()))
