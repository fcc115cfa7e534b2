"""Comparing the models of a run, and two runs on one set: one table, the best per column, changes vs a baseline.

Every column describes itself (label, which way is better), drawn from the metrics registry for metrics; a figure
comes from summary.json when summarise wrote it, else from the per-sample records.
"""

from __future__ import annotations

from statistics import fmean

from pydantic import BaseModel, Field

from ...errors import InvalidInputError, LLMOpsError
from ...i18n import has, t
from . import metrics as registry
from .compare_samples import (
    ErrorAnalysis,
    ModelErrors,
    SampleFilter,
    SampleOutput,
    SamplePage,
    SampleRow,
    error_analysis,
    side_by_side,
)
from .run_data import RunData, load
from .run_folder import RunFolder

__all__ = ["Change", "Column", "Comparison", "ErrorAnalysis", "ModelErrors", "ModelRow", "RunComparison",
           "SampleFilter", "SampleOutput", "SamplePage", "SampleRow", "changes", "compare_runs", "comparison",
           "error_analysis", "pair_outcomes", "regressions", "side_by_side"]

DEFAULT_THRESHOLD = 0.02  # a model 2% worse than the baseline on a column is a regression
_EPS = 1e-9
QUALITY_GROUPS = ("metric", "judge", "human")  # speed changes are shown, but only quality losses are regressions


class Column(BaseModel):
    """One column of the table: `key` is unique ("metric:bleu-4", "judge:fluency", "latency", ...)."""

    key: str
    name: str  # the metric key, dimension or figure behind it
    group: str  # metric | judge | human | speed | pairwise
    label: str
    higher_is_better: bool | None  # None: no better way (ties)
    scale: str = ""
    best: list[str] = Field(default_factory=list)  # the models holding the best value (all of them on a tie)


class ModelRow(BaseModel):
    """One model's values, by column key."""

    model: str
    samples: int = 0  # predictions with a usable output
    values: dict[str, float | None] = Field(default_factory=dict)


class Comparison(BaseModel):
    """The models of one run, side by side."""

    run_id: str
    set: str
    models: list[str]
    columns: list[Column]
    rows: list[ModelRow]

    def value(self, model: str, column: str) -> float | None:
        return next((r.values.get(column) for r in self.rows if r.model == model), None)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


class Change(BaseModel):
    """How a model moved against a baseline on one column; `worse_by` is the relative loss (negative: a gain)."""

    model: str
    baseline: str
    column: str
    label: str
    baseline_value: float
    value: float
    delta: float
    relative: float | None  # delta / |baseline value|; None when the baseline is 0
    better: bool | None
    regression: bool = False


class RunComparison(BaseModel):
    """Two runs over the same frozen set."""

    run_a: str
    run_b: str
    set_hash: str
    a: Comparison
    b: Comparison
    changes: list[Change]  # b against a, model by model (or the one model of each run)


def comparison(folder: RunFolder | RunData, lang: str = "en") -> Comparison:
    """The table for the N models of one run, best per column marked."""
    data = load(folder)
    models = data.models
    columns, rows = [], [ModelRow(model=m, samples=_usable(data, m)) for m in models]
    for column, values in _metric_columns(data, lang) + _judge_columns(data, lang) + _human_columns(data, lang) \
            + _speed_columns(data, lang) + _pairwise_columns(data, lang):
        columns.append(column)
        for row in rows:
            row.values[column.key] = values.get(row.model)
        column.best = _best(column.higher_is_better, values)
    return Comparison(run_id=data.run_id, set=data.config.set, models=models, columns=columns, rows=rows)


def changes(table: Comparison, baseline: str, *, threshold: float = DEFAULT_THRESHOLD) -> list[Change]:
    """Every model against `baseline` on every column that has a better way; a loss beyond `threshold` is flagged."""
    if baseline not in table.models:
        raise InvalidInputError("err.ev_model_not_in_run", model=baseline, run=table.run_id,
                                models=", ".join(table.models))
    return [change for model in table.models if model != baseline
            for change in _changes_between(table, baseline, table, model, threshold)]


def regressions(table: Comparison, baseline: str, *, threshold: float = DEFAULT_THRESHOLD) -> list[Change]:
    """The changes vs `baseline` that are losses beyond `threshold` (relative, e.g. 0.02 = 2%)."""
    return [c for c in changes(table, baseline, threshold=threshold) if c.regression]


def compare_runs(folder_a: RunFolder | RunData, folder_b: RunFolder | RunData, lang: str = "en", *,
                 threshold: float = DEFAULT_THRESHOLD) -> RunComparison:
    """Run b against run a; refused unless both froze byte-identical sets."""
    data_a, data_b = load(folder_a), load(folder_b)
    if not data_a.set_hash or data_a.set_hash != data_b.set_hash:
        raise InvalidInputError("err.ev_sets_differ", a=data_a.run_id, b=data_b.run_id, set_a=data_a.config.set,
                                set_b=data_b.config.set, n_a=len(data_a.samples), n_b=len(data_b.samples))
    a, b = comparison(data_a, lang), comparison(data_b, lang)
    common = [m for m in a.models if m in b.models]
    pairs = [(m, m) for m in common] or ([(a.models[0], b.models[0])] if len(a.models) == len(b.models) == 1 else [])
    found = [c for base, model in pairs for c in _changes_between(a, base, b, model, threshold)]
    return RunComparison(run_a=a.run_id, run_b=b.run_id, set_hash=data_a.set_hash, a=a, b=b, changes=found)


def pair_outcomes(data: RunData) -> dict[tuple[int, str, str], str]:
    """(sample, a, b) -> "a" | "b" | "tie" over both orders: verdicts that flip with the order count as a tie."""
    verdicts: dict[tuple[int, str, str], set[str]] = {}
    for item in data.pairs:
        if item.winner is not None and item.error is None:
            verdicts.setdefault((item.sample, item.a, item.b), set()).add(item.winner)
    return {key: next(iter(found)) if len(found) == 1 else "tie" for key, found in verdicts.items()}


# --- columns ---------------------------------------------------------------------------------------------------
def _label(key: str, fallback: str, lang: str) -> str:
    return t(key, lang) if has(key) else fallback


def _metric_keys(data: RunData) -> list[str]:
    if data.summary and data.summary.metrics:
        return list(data.summary.metrics)
    keys = []
    for name in data.config.metrics:
        try:
            keys.append(registry.get(name).key)
        except LLMOpsError:
            keys.append(name)  # a metric this version no longer knows still shows under its own name
    return keys


def _metric_columns(data: RunData, lang: str) -> list[tuple[Column, dict[str, float | None]]]:
    out = []
    for key in _metric_keys(data):
        try:
            metric = registry.get(key)
            label, higher, scale = metric.display(lang), metric.higher_is_better, metric.scale
        except LLMOpsError:
            label, higher, scale = key, True, ""
        values = {}
        for model in data.models:
            figure = _summary(data, model).metrics.get(key) if _summary(data, model) else None
            values[model] = figure if figure is not None else _mean(
                row.get(key) for (m, _), row in data.scores.items() if m == model)
        out.append((Column(key=f"metric:{key}", name=key, group="metric", label=label, higher_is_better=higher,
                           scale=scale), values))
    return out


def _judge_columns(data: RunData, lang: str) -> list[tuple[Column, dict[str, float | None]]]:
    judge = data.config.judge
    if judge is None or judge.mode != "single":
        return []
    out = []
    for dim in judge.dimensions:
        values = {}
        for model in data.models:
            summary = _summary(data, model)
            figure = summary.judge.get(dim) if summary else None
            values[model] = figure if figure is not None else _mean(
                j.scores.get(dim) for (m, _), j in data.single.items() if m == model and j.error is None)
        label = t("evr.col.judge", lang, dim=_label(f"evr.dim.{dim}", dim, lang))
        out.append((Column(key=f"judge:{dim}", name=dim, group="judge", label=label, higher_is_better=True,
                           scale="1-5"), values))
    return out


def _human_columns(data: RunData, lang: str) -> list[tuple[Column, dict[str, float | None]]]:
    dims: list[str] = []
    for model in data.models:
        summary = _summary(data, model)
        dims += [d for d in (summary.human if summary else {}) if d not in dims]
    out = []
    for dim in dims:
        values = {m: (_summary(data, m).human.get(dim) if _summary(data, m) else None) for m in data.models}
        label = t("evr.col.human", lang, dim=_label(f"evr.dim.{dim}", dim, lang))
        out.append((Column(key=f"human:{dim}", name=dim, group="human", label=label, higher_is_better=True,
                           scale="1-5"), values))
    return out


def _speed_columns(data: RunData, lang: str) -> list[tuple[Column, dict[str, float | None]]]:
    latency, speed = {}, {}
    for model in data.models:
        summary = _summary(data, model)
        answered = [p for (m, _), p in data.predictions.items() if m == model and p.error is None and p.latency_s > 0]
        latency[model] = summary.latency_mean_s if summary and summary.latency_mean_s is not None else _mean(
            p.latency_s for p in answered)
        seconds = sum(p.latency_s for p in answered)
        computed = sum(p.tokens for p in answered) / seconds if seconds > 0 else None
        speed[model] = summary.tokens_per_s if summary and summary.tokens_per_s is not None else computed
    return [(Column(key="latency", name="latency_mean_s", group="speed", label=t("evr.col.latency", lang),
                    higher_is_better=False, scale="s"), latency),
            (Column(key="tokens_per_s", name="tokens_per_s", group="speed", label=t("evr.col.tokens_per_s", lang),
                    higher_is_better=True, scale="tokens/s"), speed)]


def _pairwise_columns(data: RunData, lang: str) -> list[tuple[Column, dict[str, float | None]]]:
    summaries = [_summary(data, m) for m in data.models]
    if not data.pairs and not any(s and s.win is not None for s in summaries):
        return []
    counted = {m: {"win": 0, "loss": 0, "tie": 0} for m in data.models}
    for (_, a, b), outcome in pair_outcomes(data).items():
        for model, mine in ((a, "a"), (b, "b")):
            if model in counted:
                counted[model]["tie" if outcome == "tie" else "win" if outcome == mine else "loss"] += 1
    out = []
    for name, higher in (("win", True), ("loss", False), ("tie", None)):
        values = {}
        for model, summary in zip(data.models, summaries):
            figure = getattr(summary, name) if summary else None
            values[model] = float(figure if figure is not None else counted[model][name])
        out.append((Column(key=name, name=name, group="pairwise", label=t(f"evr.col.{name}", lang),
                           higher_is_better=higher, scale="count"), values))
    return out


# --- helpers ---------------------------------------------------------------------------------------------------
def _summary(data: RunData, model: str):
    return data.summary.models.get(model) if data.summary else None


def _usable(data: RunData, model: str) -> int:
    summary = _summary(data, model)
    if summary and summary.samples:
        return summary.samples
    return sum(1 for (m, _), p in data.predictions.items() if m == model and p.error is None)


def _mean(values) -> float | None:
    found = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return fmean(found) if found else None


def _best(higher: bool | None, values: dict[str, float | None]) -> list[str]:
    present = {m: v for m, v in values.items() if v is not None}
    if higher is None or not present:
        return []
    top = max(present.values()) if higher else min(present.values())
    return [m for m, v in present.items() if abs(v - top) <= _EPS * max(1.0, abs(top))]


def _changes_between(base_table: Comparison, base: str, table: Comparison, model: str,
                     threshold: float) -> list[Change]:
    """`model` of `table` against `base` of `base_table`, column by column where both have a value."""
    out = []
    for column in table.columns:
        if column.higher_is_better is None or column.group == "pairwise":
            continue
        if not any(c.key == column.key for c in base_table.columns):
            continue
        before, after = base_table.value(base, column.key), table.value(model, column.key)
        if before is None or after is None:
            continue
        delta = after - before
        relative = delta / abs(before) if abs(before) > _EPS else None
        gain = delta if column.higher_is_better else -delta
        loss_share = -gain / abs(before) if abs(before) > _EPS else (1.0 if gain < -_EPS else 0.0)
        better = None if abs(delta) <= _EPS else gain > 0
        out.append(Change(model=model, baseline=base, column=column.key, label=column.label, baseline_value=before,
                          value=after, delta=delta, relative=relative, better=better,
                          regression=bool(better is False and loss_share > threshold
                                                     and column.group in QUALITY_GROUPS)))
    return out
