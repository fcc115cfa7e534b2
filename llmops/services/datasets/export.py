"""CSV export that a spreadsheet opens without running anything a cell says."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from ...errors import InvalidInputError
from ...storage import atomic_write_bytes
from ..cells import neutral_text


def safe_cell(value: object) -> str:
    """The cell's text; nested values as JSON; a leading formula character neutralised with a single quote."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return neutral_text(text)


def columns_of(rows: Sequence[object]) -> list[str]:
    """Every field of every row, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            seen.update(dict.fromkeys(row))
    return list(seen)


def to_csv_text(rows: Sequence[object]) -> str:
    """The rows as CSV text with a header."""
    columns = columns_of(rows)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        row = row if isinstance(row, dict) else {"": row}
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def write_csv(rows: Sequence[object], out_path: Path | str) -> Path:
    """Write the rows atomically as UTF-8 CSV with a BOM (so spreadsheet programs read Chinese correctly)."""
    out_path = Path(out_path)
    try:
        return atomic_write_bytes(out_path, ("\ufeff" + to_csv_text(rows)).encode("utf-8"))
    except OSError as exc:
        raise InvalidInputError("err.ds_write_failed", path=str(out_path), reason=exc.strerror or str(exc)) from None
