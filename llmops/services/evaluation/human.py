"""Human rating sheets of a run: export (blind by default), validated import, per-model means; the per-sample table.

A sheet has one row per answer (sample x model): sample, model (a letter A, B, C... when blind), prompt, reference,
output, one empty score column per rubric dimension (1-5) and a comment. One answer per row is what a rater fills
fastest: the scores sit next to the text they judge, and a sheet sorts and filters without breaking groups.
Blind letters are shuffled per sample with a seed kept in `<run>/human/key.json`, so a letter's position says
nothing about the model behind it. An import replaces `<run>/human/scores.json` whole, or writes nothing.
"""

from __future__ import annotations

import math
import random
import secrets
import string
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticError

from ...errors import InvalidInputError, StorageError
from ...i18n import Lines, Message, t
from ...schemas.eval_runs import DEFAULT_DIMENSIONS
from ...security.paths import contain
from ...settings import Settings
from ...storage import atomic_write_json
from .run_folder import RunFolder
from .sheets import read_table, sheet_format, write_table

SCORE_MIN, SCORE_MAX = 1, 5
MAX_REPORTED = 30
LETTERS = string.ascii_uppercase
_TEXT_COLUMNS = ("sample", "model", "prompt", "reference", "output")
_WIDTHS = {"sample": 8, "model": 14, "prompt": 50, "reference": 50, "output": 60, "comment": 30}


class HumanScore(BaseModel):
    """One rated answer."""

    sample: int = Field(ge=0)
    model: str
    scores: dict[str, float] = Field(default_factory=dict)  # dimension -> 1..5; a blank cell is left out
    comment: str = ""
    row: int = 0  # the sheet row it came from


class HumanScores(BaseModel):
    """human/scores.json: the last imported sheet, validated, letters already translated to models."""

    run_id: str
    dimensions: list[str]
    source: str = ""
    imported: str = ""
    scores: list[HumanScore] = Field(default_factory=list)


class BlindKey(BaseModel):
    """human/key.json: the seed and, per sample, which model each letter stands for."""

    run_id: str
    seed: int
    dimensions: list[str]
    letters: dict[str, dict[str, str]] = Field(default_factory=dict)  # str(sample) -> {letter: model}


def _key_path(folder: RunFolder) -> Path:
    return folder.human_dir / "key.json"


def _scores_path(folder: RunFolder) -> Path:
    return folder.human_dir / "scores.json"


def load_key(folder: RunFolder) -> BlindKey | None:
    """The key the last export wrote, or None before any export."""
    try:
        return BlindKey.model_validate_json(_key_path(folder).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, PydanticError) as exc:
        raise StorageError("err.hu_key_corrupt", path=str(_key_path(folder)), reason=str(exc)[:300]) from None


def load_scores(folder: RunFolder) -> HumanScores | None:
    """The last imported scores, or None before any import."""
    try:
        return HumanScores.model_validate_json(_scores_path(folder).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, PydanticError) as exc:
        raise StorageError("err.hu_scores_corrupt", path=str(_scores_path(folder)), reason=str(exc)[:300]) from None


# --- headers ------------------------------------------------------------------------------------------------


def column_label(key: str, lang: str) -> str:
    """A column's header in `lang`; a dimension without a translation is shown as named."""
    if key in _TEXT_COLUMNS or key == "comment":
        return t(f"hu.col_{key}", lang)
    name = t(f"hu.dim_{key}", lang) if key in DEFAULT_DIMENSIONS else key
    return f"{name} ({SCORE_MIN}-{SCORE_MAX})"


def _normal(header: str) -> str:
    text = (header or "").strip().casefold().replace("（", "(").replace("）", ")")
    suffix = f"({SCORE_MIN}-{SCORE_MAX})"
    return text[: -len(suffix)].strip() if text.endswith(suffix) else text


def _columns(header: list[str], dimensions: list[str]) -> dict[str, int]:
    """Column key -> index, from headers in either language (or the bare key)."""
    aliases: dict[str, str] = {}
    for key in (*_TEXT_COLUMNS, "comment", *dimensions):
        aliases[_normal(key)] = key
        for lang in ("en", "zh"):
            aliases[_normal(column_label(key, lang))] = key
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        key = aliases.get(_normal(text))
        if key is not None and key not in found:
            found[key] = index
    return found


# --- export -------------------------------------------------------------------------------------------------


def _letters(models: list[str], seed: int, sample: int) -> dict[str, str]:
    """Letter -> model for one sample: the run's models shuffled by (seed, sample)."""
    order = list(models)
    random.Random(f"{seed}:{sample}").shuffle(order)
    return dict(zip(LETTERS, order))


def _key_for(folder: RunFolder, models: list[str], samples: int, dimensions: list[str]) -> BlindKey:
    """The run's key: the first export draws a secret seed; later ones keep it, so earlier sheets still import."""
    old = load_key(folder)
    seed = old.seed if old is not None else secrets.randbelow(2**32)
    letters = {str(i): _letters(models, seed, i) for i in range(samples)}
    return BlindKey(run_id=folder.run_id, seed=seed, dimensions=dimensions, letters=letters)


def export_sheet(settings: Settings, folder: RunFolder, *, fmt: str = "xlsx", blind: bool = True,
                 dimensions: list[str] | None = None, lang: str | None = None) -> Path:
    """Write a rating sheet of every answer into `<run>/human/` and return its path."""
    lang = lang or settings.lang
    fmt = sheet_format(fmt)
    config = folder.config()
    dims = [d.strip() for d in (dimensions or DEFAULT_DIMENSIONS) if d and d.strip()]
    if not dims or len(set(dims)) != len(dims):
        raise InvalidInputError("err.hu_bad_dimensions", dimensions=", ".join(dimensions or []))
    samples = folder.samples()
    answers = {(p.sample, p.model): p for p in folder.predictions() if p.model in config.models}
    if not answers:
        raise InvalidInputError("err.hu_no_predictions", run=folder.run_id)
    key = _key_for(folder, config.models, len(samples), dims)
    rows = []
    for index in range(len(samples)):
        for letter, model in key.letters[str(index)].items():
            answer = answers.get((index, model))
            if answer is not None:
                rows.append([index, letter if blind else model, answer.prompt, answer.reference or "",
                             answer.output, *([None] * len(dims)), ""])
    if not blind:
        rows.sort(key=lambda r: (r[0], config.models.index(r[1])))
    keys = [*_TEXT_COLUMNS, *dims, "comment"]
    header = [column_label(k, lang) for k in keys]
    first_score = len(_TEXT_COLUMNS)
    ranges = {first_score + i: (SCORE_MIN, SCORE_MAX) for i in range(len(dims))}
    widths = [_WIDTHS.get(k, 14) for k in keys]
    atomic_write_json(_key_path(folder), key.model_dump(mode="json"))
    name = f"sheet-{'blind' if blind else 'open'}.{fmt}"
    return write_table(folder.human_dir / name, header, rows, **({"widths": widths, "ranges": ranges}
                                                                  if fmt == "xlsx" else {}))


# --- import -------------------------------------------------------------------------------------------------


def _score(value: object) -> float | str | None:
    """A score cell as a number, None when blank, or "nan" when it is no number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "nan"
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return "nan"
    return number if math.isfinite(number) else "nan"


def _sample_of(value: object, count: int) -> int | None:
    number = _score(value)
    if isinstance(number, float) and number.is_integer() and 0 <= number < count:
        return int(number)
    return None


def _model_of(value: object, sample: int, key: BlindKey | None, models: list[str]) -> str | None:
    text = "" if value is None else str(value).strip()
    if key is not None and text.upper() in key.letters.get(str(sample), {}):
        return key.letters[str(sample)][text.upper()]
    return text if text in models else None


def _read_row(number: int, cells: list, cols: dict[str, int], header: list[str], dims: list[str],
              context: tuple, problems: list[Message]) -> HumanScore | None:
    """One sheet row as a score, its problems appended (each naming its row and column)."""
    count, key, models = context
    where = {"row": number}
    raw_sample, raw_model = cells[cols["sample"]], cells[cols["model"]]
    sample = _sample_of(raw_sample, count)
    if sample is None:
        problems.append(Message("hu.p_sample", {**where, "column": header[cols["sample"]], "value": raw_sample}))
        return None
    model = _model_of(raw_model, sample, key, models)
    if model is None:
        problems.append(Message("hu.p_model", {**where, "column": header[cols["model"]], "value": raw_model}))
        return None
    scores: dict[str, float] = {}
    for dim in dims:
        value = _score(cells[cols[dim]])
        column = header[cols[dim]]
        if value == "nan":
            problems.append(Message("hu.p_not_number", {**where, "column": column, "value": cells[cols[dim]]}))
        elif value is not None and not SCORE_MIN <= value <= SCORE_MAX:
            problems.append(Message("hu.p_range", {**where, "column": column, "value": cells[cols[dim]],
                                                   "low": SCORE_MIN, "high": SCORE_MAX}))
        elif value is not None:
            scores[dim] = value
    comment = cells[cols["comment"]] if "comment" in cols else None
    return HumanScore(sample=sample, model=model, scores=scores, row=number,
                      comment="" if comment is None else str(comment).strip())


def import_sheet(settings: Settings, folder: RunFolder, path: Path | str, lang: str | None = None) -> HumanScores:
    """Validate a filled sheet and store its scores in `<run>/human/scores.json`; nothing is written on any problem."""
    lang = lang or settings.lang
    config = folder.config()
    path = contain(settings, path)
    table = read_table(path)
    key = load_key(folder)
    dims = list(key.dimensions) if key is not None else list(DEFAULT_DIMENSIONS)
    cols = _columns(table.header, dims)
    missing = [k for k in ("sample", "model", *dims) if k not in cols]
    if missing:
        raise InvalidInputError("err.hu_missing_columns", path=path.name,
                                columns=", ".join(column_label(k, lang) for k in missing))
    problems: list[Message] = []
    seen: dict[tuple[int, str], int] = {}
    kept: list[HumanScore] = []
    context = (len(folder.samples()), key, config.models)
    for number, cells in table.rows:
        score = _read_row(number, cells, cols, table.header, dims, context, problems)
        if score is None:
            continue
        earlier = seen.setdefault((score.sample, score.model), number)
        if earlier != number:
            problems.append(Message("hu.p_duplicate", {"row": number, "first": earlier, "sample": score.sample}))
        elif score.scores or score.comment:
            kept.append(score)
    if problems:
        shown = problems[:MAX_REPORTED]
        if len(problems) > MAX_REPORTED:
            shown.append(Message("hu.p_more", {"count": len(problems) - MAX_REPORTED}))
        raise InvalidInputError("err.hu_invalid", path=path.name, count=len(problems), errors=Lines(tuple(shown)))
    result = HumanScores(run_id=folder.run_id, dimensions=dims, source=path.name, scores=kept,
                         imported=datetime.now(UTC).isoformat(timespec="seconds"))
    atomic_write_json(_scores_path(folder), result.model_dump(mode="json"))
    return result


def aggregate(folder: RunFolder) -> dict[str, dict[str, float | None]]:
    """Per model, the mean human score of each dimension (None where nothing was rated): ModelSummary.human."""
    stored = load_scores(folder)
    if stored is None:
        return {}
    sums: dict[str, dict[str, list[float]]] = {}
    for item in stored.scores:
        per_model = sums.setdefault(item.model, {dim: [] for dim in stored.dimensions})
        for dim, value in item.scores.items():
            per_model.setdefault(dim, []).append(value)
    return {model: {dim: round(sum(v) / len(v), 4) if v else None for dim, v in dims.items()}
            for model, dims in sums.items()}


# --- the per-sample table -----------------------------------------------------------------------------------

_SAMPLE_COLUMNS = ("sample", "model", "prompt", "reference", "output", "latency_s", "tokens", "error")


def export_samples(settings: Settings, folder: RunFolder, fmt: str = "csv") -> Path:
    """Write every answer with its latency, tokens, error and per-sample metric values as `<run>/samples.<fmt>`."""
    fmt = sheet_format(fmt)
    config = folder.config()
    scores = {(row["model"], row["sample"]): row for row in folder.scores()}
    metric_keys = list(config.metrics)
    for row in scores.values():
        metric_keys += [k for k in row if k not in ("sample", "model") and k not in metric_keys]
    order = {model: i for i, model in enumerate(config.models)}
    predictions = sorted(folder.predictions(), key=lambda p: (p.sample, order.get(p.model, len(order)), p.model))
    rows = []
    for p in predictions:
        values = scores.get((p.model, p.sample), {})
        rows.append([p.sample, p.model, p.prompt, p.reference or "", p.output, round(p.latency_s, 4), p.tokens,
                     p.error or "", *(_metric_cell(values.get(k)) for k in metric_keys)])
    header = [*_SAMPLE_COLUMNS, *metric_keys]
    widths = [_WIDTHS.get(k, 12) for k in header]
    return write_table(folder.path / f"samples.{fmt}", header, rows, **({"widths": widths} if fmt == "xlsx" else {}))


def _metric_cell(value: object) -> object:
    """A metric value as a number; anything else (a label, a list) as text, None as blank."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)
