"""The scoring stage of an evaluation run: predictions -> scores.jsonl and summary.json, callable on its own.

Every prediction line is scored: a sample that failed (timeout, backend error, empty answer) counts with an empty
output, so a model cannot look better by failing on the hard ones. A metric whose needs no prediction has is left
out with a note instead of failing the run. Whatever else belongs in the summary (the judge's figures, human
scores) is merged by the `extra` steps, run in order after the metrics: see `SummaryExtra` and `register_extra`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ...errors import InvalidInputError
from ...schemas.eval_runs import (
    EvalRunConfig,
    ModelSummary,
    PredictionRecord,
    RunSummary,
)
from ...schemas.evaluation import EvalSample, Prediction
from ...settings import Settings
from ..models import ModelRegistry
from . import metrics as registry
from .checkpoints import resolve
from .run_folder import RunFolder
from .scorer import score

# A step that adds its figures to the summary before it is written (the judge's merge is one); it may change
# `summary` in place or return a new one.
SummaryExtra = Callable[[RunFolder, RunSummary], RunSummary | None]
_EXTRAS: list[SummaryExtra] = []
ERROR_KINDS = ("timeout", "backend", "empty")
STAGE = "score"


def register_extra(step: SummaryExtra) -> SummaryExtra:
    """Run `step` in every summarise from now on (after the metrics, before the write); usable as a decorator."""
    if step not in _EXTRAS:
        _EXTRAS.append(step)
    return step


def summarise(settings: Settings, folder: RunFolder, *, extra: Sequence[SummaryExtra] = (), running: bool = False,
              models: ModelRegistry | None = None) -> RunSummary:
    """Score every model's predictions, append the per-sample scores that changed, write and return summary.json."""
    config, samples = folder.config(), folder.samples()
    predictions = folder.predictions()
    keys = [registry.get(name).key for name in config.metrics]
    summary = RunSummary(run_id=config.run_id, set=config.set, samples=len(samples), done=len(predictions),
                         total=len(samples) * len(config.models), status="running", metrics=keys)
    summary.status = "running" if running else ("complete" if summary.done >= summary.total else "partial")
    registry_now = models or ModelRegistry(settings)
    if "perplexity" in config.metrics and config.perplexity_model:
        summary.notes.append({"key": "evr.note_perplexity_model", "params": {"model": config.perplexity_model}})
    existing = {(row["model"], row["sample"]): row for row in folder.scores()}
    for model in config.models:
        rows = sorted((p for p in predictions if p.model == model), key=lambda p: p.sample)
        weights = _perplexity_weights(config, model, registry_now)
        wanted = [m for m in config.metrics if m != "perplexity" or weights is not None]
        figures, per_sample, notes = score_model(model, rows, samples, wanted, config.metric_options, weights)
        summary.notes += notes
        summary.models[model] = _model_summary(rows, {key: figures.get(key) for key in keys})
        for record, values in zip(rows, per_sample):
            line = {"sample": record.sample, "model": model, **{key: values.get(key) for key in keys}}
            if existing.get((model, record.sample)) != line:
                folder.append(folder.scores_path, line)
    from .summary_extras import DEFAULT_EXTRAS

    for step in (*DEFAULT_EXTRAS, *extra, *_EXTRAS):
        summary = step(folder, summary) or summary
    summary.updated = datetime.now(UTC).isoformat(timespec="seconds")
    folder.write_summary(summary)
    return summary


def score_model(model: str, rows: list[PredictionRecord], samples: list[EvalSample], metrics: Sequence[str],
                options: dict[str, dict], weights: tuple[str, str | None] | None) -> tuple[dict, list[dict], list[dict]]:
    """One model's set figures, per-sample values (one dict per row) and the notes on metrics left out."""
    figures: dict[str, float | None] = {}
    per_sample: list[dict] = [{} for _ in rows]
    notes: list[dict] = []
    if not rows:
        return figures, per_sample, notes
    preds = [_prediction(record, samples[record.sample]) for record in rows]
    families: dict[tuple, list[registry.Metric]] = {}
    for name in metrics:
        metric = registry.get(name)
        families.setdefault((metric.family, metric.needs), []).append(metric)
    for (_, needs), group in families.items():
        names = ", ".join(m.name for m in group)
        lacking = [n for n in needs if n != registry.MODEL and not any(getattr(p, n) is not None for p in preds)]
        if lacking:
            notes.append({"key": "evr.note_metric_no_data",
                          "params": {"metric": names, "model": model, "needs": ", ".join(lacking)}})
            continue
        try:
            path, adapter = weights or (None, None)
            report = score(preds, [m.name for m in group], options=options, model=path, adapter=adapter)
        except InvalidInputError as exc:
            notes.append({"key": "evr.note_metric_failed",
                          "params": {"metric": names, "model": model, "reason": exc.message("en")}})
            continue
        for metric in group:
            figures[metric.key] = _finite(report.summary.get(metric.key))
            for values, row in zip(per_sample, report.per_sample):
                values[metric.key] = _finite(row.get(metric.key))
    return figures, per_sample, notes


def _prediction(record: PredictionRecord, sample: EvalSample) -> Prediction:
    """A line as the scorer takes it: a failed sample's output counts as empty."""
    return Prediction(prompt=sample.prompt, reference=record.reference, label=record.label, system=sample.system,
                      history=sample.history, output=record.output if record.error is None else "")


def _finite(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _model_summary(rows: list[PredictionRecord], figures: dict[str, float | None]) -> ModelSummary:
    answered = [r for r in rows if r.error is None]
    errors = {kind: sum(r.error == kind for r in rows) for kind in ERROR_KINDS}
    errors["truncated"] = sum(r.truncated for r in rows)
    seconds = sum(r.latency_s for r in answered)
    return ModelSummary(samples=len(answered), metrics=figures,
                        latency_mean_s=round(seconds / len(answered), 4) if answered else None,
                        tokens_per_s=round(sum(r.tokens for r in answered) / seconds, 2) if seconds > 0 else None,
                        errors=errors)


def _perplexity_weights(config: EvalRunConfig, model: str, models: ModelRegistry) -> tuple[str, str | None] | None:
    """The local weights (folder, adapter) whose perplexity of the references is this model's figure.

    Each local version (a checkpoint too) scores under its own weights, so checkpoints and versions compare; with
    `perplexity_model` set only that version is scored. An endpoint has no weights to score with.
    """
    if "perplexity" not in config.metrics or (config.perplexity_model and model != config.perplexity_model):
        return None
    entry = resolve(models, model)
    if entry.kind == "endpoint" or not entry.path:
        return None
    return entry.path, entry.adapter if entry.kind == "adapter" else None
