"""Spreadsheets in and out: CSV (UTF-8 with a BOM) or XLSX, every cell neutralised on write, uploads read safely.

Writing: a text cell that a spreadsheet would run as a formula or a DDE command (it starts with = + - @, a tab,
CR or NUL) gets a leading `'`; read back, that one `'` is dropped again, so a round trip gives the text unchanged.
Reading: size, row and column caps; every XML part of a workbook is parsed with defusedxml first (a DTD, an entity
or an external reference refuses the file), and openpyxl never evaluates formulas: a formula cell reads as its text.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InvalidInputError
from ...storage import atomic_write_bytes
from ..cells import needs_quote, neutral_text

FORMATS = ("xlsx", "csv")
MAX_SHEET_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a workbook's parts together, uncompressed (zip bombs)
MAX_PARTS = 2000
_XML_PARTS = (".xml", ".rels", ".vml")
# Characters XML 1.0 cannot hold; openpyxl refuses them, so they become U+FFFD in a workbook.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = str | int | float | None


def neutralise(value: object) -> Cell:
    """A cell value safe to hand to a spreadsheet: numbers stay numbers, text that could run gets a leading `'`."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).upper()
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return neutral_text(text)


def restore(value: Cell) -> Cell:
    """The inverse of neutralise() for one read cell."""
    if isinstance(value, str) and value.startswith("'") and needs_quote(value[1:]):
        return value[1:]
    return value


@dataclass
class Table:
    """A read sheet: its header and its non-blank rows, each with the row number a spreadsheet shows (header = 1)."""

    header: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)


# --- writing ------------------------------------------------------------------------------------------------


def sheet_format(fmt: str) -> str:
    """`fmt` if it is a format we write ("xlsx" or "csv"), else InvalidInputError."""
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidInputError("err.sh_format", format=fmt, known=", ".join(FORMATS))
    return fmt


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """The table as CSV bytes: UTF-8 with a BOM (so Excel reads Chinese), CRLF lines, every cell neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in (header, *rows):
        writer.writerow(["" if (cell := neutralise(value)) is None else cell for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[object]], *, widths: Sequence[int] = (),
               ranges: dict[int, tuple[float, float]] | None = None) -> bytes:
    """The table as a workbook: bold frozen header, wrapped text, optional number ranges checked by the program."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    for row in (header, *rows):
        sheet.append([neutralise(_xml_safe(value)) for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        if width >= 30:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.alignment = wrap
    last = len(rows) + 1
    for index, (low, high) in (ranges or {}).items():
        rule = DataValidation(type="decimal", operator="between", formula1=str(low), formula2=str(high),
                              allow_blank=True, showErrorMessage=True)
        letter = get_column_letter(index + 1)
        rule.add(f"{letter}2:{letter}{max(last, 2)}")
        sheet.add_data_validation(rule)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], **xlsx_options) -> Path:
    """Write the table atomically as CSV or XLSX, chosen by the file's suffix."""
    fmt = sheet_format(Path(path).suffix)
    data = csv_bytes(header, rows) if fmt == "csv" else xlsx_bytes(header, rows, **xlsx_options)
    try:
        return atomic_write_bytes(Path(path), data)
    except OSError as exc:
        raise InvalidInputError("err.sh_write_failed", path=str(path), reason=exc.strerror or str(exc)) from None


def _xml_safe(value: Cell) -> Cell:
    return _ILLEGAL_XML.sub("\ufffd", value) if isinstance(value, str) else value


# --- reading ------------------------------------------------------------------------------------------------


def read_table(path: Path | str, *, max_bytes: int = MAX_SHEET_BYTES, max_rows: int = MAX_ROWS) -> Table:
    """Read an uploaded .csv or .xlsx: the first sheet, text restored, blank rows left out; refuses what is unsafe."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InvalidInputError("err.sh_suffix", path=path.name, known=", ".join(f".{f}" for f in FORMATS))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInputError("err.sh_unreadable", path=path.name, reason=exc.strerror or str(exc)) from None
    if size > max_bytes:
        raise InvalidInputError("err.sh_too_big", path=path.name, size_mb=round(size / 2**20, 1),
                                limit_mb=round(max_bytes / 2**20, 1))
    raw_rows = _csv_rows(path) if suffix == "csv" else _xlsx_rows(path)
    return _table(path.name, raw_rows, max_rows)


def _table(name: str, raw_rows, max_rows: int) -> Table:
    header: list[str] | None = None
    table = Table(header=[])
    for number, cells in enumerate(raw_rows, start=1):
        if len(cells) > MAX_COLUMNS and any(c not in (None, "") for c in cells[MAX_COLUMNS:]):
            raise InvalidInputError("err.sh_too_wide", path=name, limit=MAX_COLUMNS)
        cells = [restore(c) for c in cells[:MAX_COLUMNS]]
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if header is None:
            header = ["" if c is None else str(c).strip() for c in cells]
            table.header = header
            continue
        if len(table.rows) >= max_rows:
            raise InvalidInputError("err.sh_too_many_rows", path=name, limit=max_rows)
        table.rows.append((number, (cells + [None] * len(header))[:len(header)]))
    if header is None:
        raise InvalidInputError("err.sh_empty", path=name)
    return table


def _csv_rows(path: Path) -> list[list[Cell]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in a Chinese locale saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInputError("err.sh_encoding", path=path.name)
    try:
        return [[c for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise InvalidInputError("err.sh_corrupt", path=path.name, reason=str(exc)) from None


def _check_parts(path: Path) -> None:
    """Refuse a workbook whose zip is a bomb or whose XML declares a DTD, an entity or an external reference."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInputError("err.sh_corrupt", path=path.name, reason=str(exc)) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNZIPPED_BYTES:
            raise InvalidInputError("err.sh_bomb", path=path.name)
        budget = MAX_UNZIPPED_BYTES
        for part in parts:
            if not part.filename.lower().endswith(_XML_PARTS):
                continue
            try:
                with archive.open(part) as handle:
                    data = handle.read(budget + 1)  # the header's size may lie: read at most what is left
                budget -= len(data)
                if budget < 0:
                    raise InvalidInputError("err.sh_bomb", path=path.name)
                fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            except DefusedXmlException:
                raise InvalidInputError("err.sh_xml_unsafe", path=path.name, part=part.filename) from None
            except (ParseError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise InvalidInputError("err.sh_corrupt", path=path.name, reason=f"{part.filename}: {exc}") from None


def _xlsx_rows(path: Path) -> list[list[Cell]]:
    from openpyxl import load_workbook

    _check_parts(path)
    try:
        # data_only=False: a formula cell reads as its text ("=1+1"), never as a value someone computed.
        book = load_workbook(path, read_only=True, data_only=False, keep_links=False, keep_vba=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise InvalidInputError("err.sh_corrupt", path=path.name, reason=str(exc)) from None
    try:
        if not book.worksheets:
            raise InvalidInputError("err.sh_empty", path=path.name)
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append([_cell(value) for value in row])
            if len(rows) > MAX_ROWS * 2:  # blank rows included; far past any sheet we accept
                raise InvalidInputError("err.sh_too_many_rows", path=path.name, limit=MAX_ROWS)
        return rows
    finally:
        book.close()


def _cell(value: object) -> Cell:
    """A workbook value as text or a number; dates as ISO text, formulas (and array formulas) as their text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, (int, float)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else str(value)
