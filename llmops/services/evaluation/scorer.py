"""Score predictions: our own predictions files and LLaMA-Factory's `generated_predictions.jsonl`, read directly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError as PydanticError

from ...errors import InvalidInputError, pydantic_details
from ...i18n import Lines, Message
from ...schemas.evaluation import Prediction, ScoreReport
from ...settings import Settings
from ..datasets.records import Issue
from ..datasets.validate import MAX_REPORTED, message_of, open_source
from . import metrics as registry

_FIELDS = set(Prediction.model_fields) - {"line"}


def to_prediction(row: dict, line: int = 0) -> Prediction:
    """One predictions line as a Prediction; LLaMA-Factory's (`prompt`, `predict`, `label`) calls the reference 'label'."""
    if "predict" in row and "output" not in row:
        row = {"prompt": row.get("prompt", ""), "output": row["predict"], "reference": row.get("label")}
    return Prediction(**{k: v for k, v in row.items() if k in _FIELDS}, line=line)


def read_predictions(path: Path | str, label: str | None = None) -> list[Prediction]:
    """Every line of a predictions file; any bad line refuses the file with 'file:line: reason' for each."""
    label = label or str(path)
    source, _ = open_source(Path(path), label)
    out: list[Prediction] = []
    problems: list[Message] = []
    count = 0
    for item in source:
        if isinstance(item, Issue):
            issue = item
        else:
            line, row = item
            try:
                out.append(to_prediction(row, line))
                continue
            except PydanticError as exc:
                issue = Issue(line, "ev.r_prediction", {"details": pydantic_details(exc, limit=3)})
        count += 1
        if len(problems) < MAX_REPORTED:
            problems.append(message_of(issue, label, source.unit))
    if count:
        # The lines stay messages: the error renders them in the reader's language.
        raise InvalidInputError("err.ev_predictions_invalid", path=label, count=count, errors=Lines(tuple(problems[:10])))
    if not out:
        raise InvalidInputError("err.ds_empty", path=label)
    return out


def _has(row: Prediction, need: str) -> bool:
    """A label must say something; an empty reference is scored (LLaMA-Factory scores it 0)."""
    if need == registry.MODEL:
        return True
    value = getattr(row, need)
    return value is not None and (need != registry.LABEL or bool(value.strip()))


def score(predictions: Sequence[Prediction], metrics: Sequence[str] = registry.DEFAULT_METRICS, *,
          options: dict[str, dict] | None = None, model: str | None = None,
          adapter: str | None = None) -> ScoreReport:
    """Per-sample scores and the set's figures; a metric is computed over the samples that have what it needs."""
    if not predictions:
        raise InvalidInputError("err.ev_no_predictions")
    chosen = list(dict.fromkeys(registry.get(name).name for name in metrics))
    ctx = registry.Context(options=dict(options or {}), model=model, adapter=adapter)
    per_sample: list[dict[str, float | None]] = [{} for _ in predictions]
    summary: dict[str, float | int | str | None] = {}
    counted: dict[str, int] = {}
    by_family: dict[tuple, list[registry.Metric]] = {}
    for name in chosen:
        metric = registry.METRICS[name]
        by_family.setdefault((metric.family, metric.needs), []).append(metric)
    for (family, needs), group in by_family.items():
        index = [i for i, row in enumerate(predictions) if all(_has(row, need) for need in needs)]
        if not index:
            raise InvalidInputError("err.ev_nothing_to_score", metric=", ".join(m.name for m in group),
                                  needs=", ".join(n for n in needs if n != registry.MODEL))
        results = registry.FAMILIES[family](group, [predictions[i] for i in index], ctx)
        for metric in group:
            figure, values = results[metric.key]
            summary[metric.key] = figure
            counted[metric.key] = len(index)
            for i, value in zip(index, values):
                per_sample[i][metric.key] = value
    for row in per_sample:
        for metric in chosen:
            row.setdefault(registry.METRICS[metric].key, None)
    summary["n"] = len(predictions)
    return ScoreReport(n=len(predictions), metrics=chosen, summary=summary, per_sample=per_sample,
                       details={**ctx.details, "counted": counted})


def score_file(settings: Settings, path: Path | str, metrics: Sequence[str] = registry.DEFAULT_METRICS, *,
               options: dict[str, dict] | None = None, model: str | None = None) -> ScoreReport:
    """Read a predictions file (ours or LLaMA-Factory's) and score it."""
    from ...security.paths import contain

    if model:
        contain(settings, model)
    return score(read_predictions(contain(settings, path)), metrics, options=options, model=model)
