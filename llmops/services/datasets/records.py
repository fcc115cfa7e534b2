"""Parse decoded file text into rows, each with the line it starts on; problems become keyed issues."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ValidationError

# Largest CSV field accepted; a cap keeps one runaway quote from swallowing the whole file into memory twice.
DEFAULT_CSV_FIELD_LIMIT = 64 * 2**20
_WS = re.compile(r"[ \t\n\r]*")


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
    return Issue(where(exc.pos), "ds.r_json", {"detail": f"{exc.msg} (column {exc.colno})"})


def parse_jsonl(text: str) -> Parsed:
    """One object per line; blank lines are skipped, CRLF and a missing final newline are fine."""
    out = Parsed()
    lines = text.split("\n")  # not splitlines(): U+2028 may sit unescaped inside a JSON string
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return out
    if lines[first].lstrip().startswith("["):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if whole is None or isinstance(whole, list):
            out.issues.append(Issue(first + 1, "ds.r_jsonl_array"))
            out.fatal = True
            return out
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            row = json.loads(stripped)
        except json.JSONDecodeError as exc:
            out.issues.append(_json_issue(stripped, exc, number))
            continue
        if isinstance(row, list):
            out.issues.append(Issue(number, "ds.r_jsonl_array"))
        elif not isinstance(row, dict):
            out.issues.append(Issue(number, "ds.r_not_object", {"found": type_name(row)}))
        else:
            out.rows.append((number, row))
    return out


class _Lines:
    """Line numbers of positions in a text scanned forwards, without recounting from the start."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos >= self.pos:
            self.line += self.text.count("\n", self.pos, pos)
        else:
            self.line = self.text.count("\n", 0, pos) + 1
        self.pos = pos
        return self.line


def parse_json(text: str) -> Parsed:
    """A top-level array of objects, each row numbered by the line its element starts on."""
    out = Parsed()
    lines = _Lines(text)
    pos = _WS.match(text, 0).end()
    if pos == len(text):
        return out
    if text[pos] != "[":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            extra = exc.msg == "Extra data" and text[exc.pos:].strip() != ","
            out.issues.append(Issue(exc.lineno, "ds.r_json_lines_in_json") if extra else _json_issue(text, exc))
        else:
            out.issues.append(Issue(lines.at(pos), "ds.r_json_top", {"found": type_name(value)}))
        out.fatal = True
        return out
    decoder = json.JSONDecoder()
    pos = _WS.match(text, pos + 1).end()
    if text.startswith("]", pos):
        return _after_array(out, text, pos + 1, lines)
    while True:
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            out.issues.append(_json_issue(text, exc))
            out.fatal = True
            return out
        line = lines.at(pos)
        if isinstance(value, dict):
            out.rows.append((line, value))
        else:
            out.issues.append(Issue(line, "ds.r_not_object", {"found": type_name(value)}))
        pos = _WS.match(text, end).end()
        if text.startswith(",", pos):
            comma = pos
            pos = _WS.match(text, pos + 1).end()
            if text.startswith("]", pos):
                out.issues.append(Issue(lines.at(comma), "ds.r_trailing_comma"))
                out.fatal = True
                return out
            continue
        if text.startswith("]", pos):
            return _after_array(out, text, pos + 1, lines)
        detail = "unexpected end of file" if pos >= len(text) else "expecting ',' or ']' after an element"
        out.issues.append(Issue(lines.at(min(pos, len(text))), "ds.r_json", {"detail": detail}))
        out.fatal = True
        return out


def _after_array(out: Parsed, text: str, pos: int, lines: _Lines) -> Parsed:
    pos = _WS.match(text, pos).end()
    if pos < len(text):
        out.issues.append(Issue(lines.at(pos), "ds.r_json_extra"))
        out.fatal = True
    return out


def parse_csv(text: str, field_limit: int = DEFAULT_CSV_FIELD_LIMIT) -> Parsed:
    """A header row, then one row per record; quoted fields may span lines (a row is numbered by its first)."""
    out = Parsed()
    # The module-wide limit only ever grows here; each field is also checked against this call's limit.
    csv.field_size_limit(max(csv.field_size_limit(), field_limit + 1))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    start = 1
    limit_mb = round(field_limit / 2**20, 2)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return out
        except csv.Error as exc:
            key = "ds.r_csv_field_too_large" if "field larger" in str(exc) else "ds.r_csv"
            out.issues.append(Issue(start, key, {"limit_mb": limit_mb} if "larger" in str(exc) else {"detail": str(exc)}))
            out.fatal = True
            return out
        line, start = start, reader.line_num + 1
        if not values or all(not v.strip() for v in values) and len(values) == 1:
            continue  # blank line
        if any(len(v) > field_limit for v in values):
            out.issues.append(Issue(line, "ds.r_csv_field_too_large", {"limit_mb": limit_mb}))
            continue
        if header is None:
            header = values
            bad = [name for i, name in enumerate(header) if not name.strip() or name in header[:i]]
            if bad:
                out.issues.append(Issue(line, "ds.r_csv_header", {"columns": ", ".join(repr(b) for b in bad)}))
                out.fatal = True
                return out
            continue
        if len(values) != len(header):
            out.issues.append(Issue(line, "ds.r_csv_fields", {"expected": len(header), "found": len(values)}))
            continue
        out.rows.append((line, dict(zip(header, values))))


def parse_txt(text: str) -> Parsed:
    """Plain text for pre-training: one row per paragraph when blank lines separate multi-line blocks, else per line."""
    out = Parsed()
    lines = [line.rstrip("\r") for line in text.split("\n")]
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                blocks.append((number, current))
            current.append(line)
        elif current:
            current = []
    by_paragraph = any(len(block) > 1 for _, block in blocks) and len(blocks) > 1
    for number, block in blocks:
        if by_paragraph:
            out.rows.append((number, {"text": "\n".join(block).strip()}))
        else:
            out.rows.extend((number + i, {"text": line.strip()}) for i, line in enumerate(block))
    return out


def parse_parquet(path: Path, label: str) -> Parsed:
    """Rows of a Parquet file, numbered from 1."""
    import pyarrow as pa  # imported here: pyarrow is slow to load and only Parquet needs it
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ValidationError("err.ds_unreadable", path=label, reason=str(exc)[:300]) from None
    return Parsed(rows=list(enumerate(rows, start=1)), unit="row")


def parse_text(text: str, suffix: str, csv_field_limit: int = DEFAULT_CSV_FIELD_LIMIT) -> Parsed:
    """Dispatch on the file type."""
    if suffix == ".jsonl":
        return parse_jsonl(text)
    if suffix == ".json":
        return parse_json(text)
    if suffix == ".csv":
        return parse_csv(text, csv_field_limit)
    return parse_txt(text)
