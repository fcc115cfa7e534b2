"""Statistics and deduplication over a dataset's rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ..corpus.chunk import approx_tokens
from ..corpus.dedup import near_duplicates
from .formats import Shape

_HIST_BINS = 20


@dataclass
class DatasetStats:
    """Counts a user looks at before training: size, length spread, duplicates, empty fields."""

    name: str
    samples: int
    format: str
    tokens: dict = field(default_factory=dict)  # min, max, mean, median, p90, total (approximate tokens)
    histogram: dict = field(default_factory=lambda: {"bins": [], "counts": []})
    duplicates: int = 0  # rows identical to an earlier row
    empty_fields: dict[str, int] = field(default_factory=dict)  # field -> rows where it is missing or blank

    def to_dict(self) -> dict:
        return asdict(self)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _message_texts(messages: object, content_tag: str) -> list[str]:
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        return [_as_text(messages)]
    return [_as_text(m.get(content_tag)) if isinstance(m, dict) else _as_text(m) for m in messages]


def row_text(row: object, shape: Shape) -> str:
    """Everything a row says, as one text (what tokens are counted over and near-duplicates compared on)."""
    if not isinstance(row, dict):
        return _as_text(row)
    cols = shape.columns
    if shape.layout in ("text", "alpaca"):
        keys = [cols.get(k) for k in ("system", "prompt", "query", "response", "chosen", "rejected")]
        return "\n".join(_as_text(row.get(k)) for k in keys if k and row.get(k) is not None)
    content = shape.tags.get("content_tag", "value")
    parts = [_as_text(row.get(cols["system"]))] if "system" in cols and row.get(cols["system"]) else []
    for key in ("messages", "chosen", "rejected"):
        if key in cols and cols[key] in row:
            parts.extend(_message_texts(row[cols[key]], content))
    return "\n".join(parts)


def canonical(row: object) -> str:
    """A row as sorted-key JSON: equal strings mean equal rows."""
    return json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)


def exact_duplicate_mask(rows: Sequence[object]) -> np.ndarray:
    """True for each row equal to an earlier one."""
    seen: set[str] = set()
    mask = np.zeros(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        key = canonical(row)
        mask[i] = key in seen
        seen.add(key)
    return mask


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, dict)) and not value)


def empty_counts(rows: Sequence[object], shape: Shape) -> dict[str, int]:
    """Per field, rows where it is missing or blank; for conversations also rows with an empty message."""
    fields: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            fields.update(dict.fromkeys(row))
    counts = {name: sum(1 for row in rows if not isinstance(row, dict) or _blank(row.get(name))) for name in fields}
    if shape.layout in ("sharegpt", "messages") and "messages" in shape.columns:
        column, content = shape.columns["messages"], shape.tags.get("content_tag", "value")
        counts[f"{column}[].{content}"] = sum(
            1 for row in rows if isinstance(row, dict) and isinstance(row.get(column), list)
            and any(not isinstance(m, dict) or _blank(m.get(content)) for m in row[column]))
    return counts


def compute(name: str, rows: Sequence[object], shape: Shape) -> DatasetStats:
    """Samples, approximate token lengths, exact duplicates and empty fields."""
    lengths = np.array([approx_tokens(row_text(row, shape)) for row in rows], dtype=np.int64)
    out = DatasetStats(name=name, samples=len(rows), format=shape.format,
                       duplicates=int(exact_duplicate_mask(rows).sum()), empty_fields=empty_counts(rows, shape))
    if len(lengths):
        out.tokens = {"min": int(lengths.min()), "max": int(lengths.max()), "mean": round(float(lengths.mean()), 1),
                      "median": float(np.median(lengths)), "p90": float(np.percentile(lengths, 90)),
                      "total": int(lengths.sum())}
        counts, edges = np.histogram(lengths, bins=min(_HIST_BINS, max(1, len(np.unique(lengths)))))
        out.histogram = {"bins": [round(float(e), 2) for e in edges], "counts": [int(c) for c in counts]}
    return out


def dedup_rows(rows: Sequence[object], shape: Shape, near: bool = True,
               threshold: float = 0.8) -> tuple[list[object], int, int]:
    """Rows without exact duplicates (and near ones when asked); the first of each group stays."""
    exact = exact_duplicate_mask(rows)
    kept = [row for row, dup in zip(rows, exact) if not dup]
    near_removed = 0
    if near and len(kept) > 1:
        found = near_duplicates([row_text(row, shape) for row in kept], threshold=threshold)
        near_removed = int(found.duplicate.sum())
        kept = [row for row, dup in zip(kept, found.duplicate) if not dup]
    return kept, int(exact.sum()), near_removed
