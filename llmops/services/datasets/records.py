"""Rows and problems of dataset files: issues keyed for i18n, JSON error wording, Parquet rows in batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InvalidInputError
from ...i18n import Message

# Largest CSV field accepted; a cap keeps one runaway quote from swallowing the whole file into memory twice.
DEFAULT_CSV_FIELD_LIMIT = 64 * 2**20
# Longest line (or JSON element, or paragraph) read whole; a longer one is reported without being held.
DEFAULT_MAX_CHARS = 16 * 2**20


@dataclass(frozen=True)
class Issue:
    """One problem: where (a 1-based line, or a row for Parquet) and an i18n key with its parameters."""

    line: int
    key: str
    params: dict = field(default_factory=dict)


@dataclass
class Parsed:
    """Rows that parsed (line, row) and the problems met; `fatal` when the rest of the file could not be read."""

    rows: list[tuple[int, object]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    fatal: bool = False
    unit: str = "line"  # "row" for Parquet, which has no lines


def type_name(value: object) -> str:
    """How a JSON value is called in messages."""
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _json_issue(doc: str, exc: json.JSONDecodeError, line: int | None = None) -> Issue:
    """An issue for a decode error in `doc`; `line` overrides the line (a .jsonl row is one document)."""
    def where(pos: int) -> int:
        return line if line is not None else doc.count("\n", 0, pos) + 1

    rest = doc[exc.pos:].strip()
    if exc.msg == "Extra data" and rest == ",":
        return Issue(where(exc.pos), "ds.r_trailing_comma")
    before = doc[:exc.pos].rstrip()
    if exc.msg.startswith(("Expecting property name", "Expecting value")) and before.endswith(",") \
            and rest[:1] in ("}", "]"):
        return Issue(where(len(before) - 1), "ds.r_trailing_comma")
    # The decoder's own words are English; the common ones have keys, any other is shown as it is.
    what = Message(_JSON_MESSAGES[exc.msg]) if exc.msg in _JSON_MESSAGES else exc.msg
    return Issue(where(exc.pos), "ds.r_json", {"detail": Message("ds.json_at", {"what": what, "column": exc.colno})})


_JSON_MESSAGES = {
    "Expecting value": "ds.json_value", "Expecting property name enclosed in double quotes": "ds.json_name",
    "Expecting ',' delimiter": "ds.json_comma", "Expecting ':' delimiter": "ds.json_colon",
    "Unterminated string starting at": "ds.json_unterminated", "Invalid control character at": "ds.json_control",
    "Invalid \\escape": "ds.json_escape", "Extra data": "ds.json_extra",
}


class ParquetRows:
    """Rows of a Parquet file numbered from 1, read batch by batch on each iteration."""

    unit = "row"
    fatal = False

    def __init__(self, path: Path, label: str, batch_rows: int = 1024):
        self.path, self.label, self.batch_rows = path, label, batch_rows

    def __iter__(self) -> Iterator[tuple[int, object]]:
        import pyarrow as pa  # imported here: pyarrow is slow to load and only Parquet needs it
        import pyarrow.parquet as pq

        number = 0
        try:
            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.batch_rows):
                for row in batch.to_pylist():
                    number += 1
                    yield number, row
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InvalidInputError("err.ds_unreadable", path=self.label, reason=str(exc)[:300]) from None
