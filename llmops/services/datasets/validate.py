"""Check every row of a dataset file against its format; report problems as 'file:line: reason'."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import LLMOpsError, NotFoundError, InvalidInputError
from ...i18n import Message
from . import encoding as encodings
from . import formats
from .records import (
    DEFAULT_CSV_FIELD_LIMIT,
    DEFAULT_MAX_CHARS,
    Issue,
    ParquetRows,
    Parsed,
    type_name,
)
from .streams import RowStream

DEFAULT_MAX_BYTES = 512 * 2**20
# Problems kept in a report; the rest are counted.
MAX_REPORTED = 200


@dataclass
class ValidationReport:
    """What a file holds and what is wrong with it."""

    path: str
    format: str | None  # the detected or chosen format; None when unrecognisable
    valid_rows: int = 0
    total_rows: int = 0
    messages: list[Message] = field(default_factory=list)  # "file:line: reason" as keys, at most MAX_REPORTED
    error_count: int = 0
    encoding: str = "utf-8"
    needs_conversion: bool = False  # the file is GBK/GB18030/UTF-16: storing it means converting to UTF-8
    layout: str | None = None
    entry: dict | None = None  # the dataset_info entry the file would get (file_name left blank)

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.valid_rows > 0

    @property
    def errors(self) -> list[str]:
        """The problems in English (logs, JSON); a reader sees lines(lang)."""
        return self.lines("en")

    def lines(self, lang: str) -> list[str]:
        """One 'file:line: reason' per problem, in `lang`."""
        return [m.render(lang) for m in self.messages]

    def to_dict(self) -> dict:
        return {**asdict(self), "errors": self.errors, "ok": self.ok}


@dataclass
class Inspection:
    """A validated file: the report plus what registering it needs (its shape and a way to read it again)."""

    report: ValidationReport
    shape: formats.Shape | None
    source: RowStream | ParquetRows | None  # iterate it again to stream the rows (or .chunks() for the text)
    stamp: tuple[int, int] | None  # size and mtime when read: what is stored must be what was checked
    error: LLMOpsError | None = None  # the file-level problem, kept so callers can raise it with its own key


def stamp_of(path: Path) -> tuple[int, int]:
    """Size and modification time of a file."""
    info = Path(path).stat()
    return info.st_size, info.st_mtime_ns


class _Issues:
    """The first MAX_REPORTED problems by line, and how many there were in all."""

    def __init__(self):
        self.kept: list[Issue] = []
        self.count = 0

    def add(self, issue: Issue) -> None:
        self.count += 1
        self.kept.append(issue)
        if len(self.kept) > 2 * MAX_REPORTED:  # keeping the smallest lines at any time keeps them overall
            self.kept.sort(key=lambda i: i.line)
            del self.kept[MAX_REPORTED:]

    def first(self) -> list[Issue]:
        return sorted(self.kept, key=lambda i: i.line)[:MAX_REPORTED]


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_field(row: dict, name: str, fmt: str, out: list[Issue], required: bool = True) -> None:
    if name not in row or (row[name] is None and required):
        if required:
            out.append(Issue(0, "ds.r_missing", {"field": name, "format": fmt}))
        return
    value = row[name]
    if value is None:
        return
    if not _is_text(value):
        out.append(Issue(0, "ds.r_type", {"field": name, "expected": "ds.t_text", "found": type_name(value)}))
    elif required and not value.strip():
        out.append(Issue(0, "ds.r_empty", {"field": name}))


def _check_alpaca(row: dict, shape: formats.Shape, out: list[Issue]) -> None:
    cols = shape.columns
    _text_field(row, cols["prompt"], shape.format, out)
    for optional in ("query", "system"):
        if optional in cols:
            _text_field(row, cols[optional], shape.format, out, required=False)
    if shape.ranking:
        _text_field(row, cols["chosen"], shape.format, out)
        _text_field(row, cols["rejected"], shape.format, out)
        if not out and row[cols["chosen"]].strip() == row[cols["rejected"]].strip():
            out.append(Issue(0, "ds.r_same_pair"))
        return
    _text_field(row, cols["response"], shape.format, out)
    history = row.get(cols["history"]) if "history" in cols else None
    if history is not None and not (isinstance(history, list) and all(
            isinstance(turn, list) and len(turn) == 2 and all(map(_is_text, turn)) for turn in history)):
        out.append(Issue(0, "ds.r_type", {"field": cols["history"], "expected": "ds.t_list",
                                          "found": type_name(history)}))


def _either(*names: str) -> str:
    quoted = [f"'{n}'" for n in names if n]
    return quoted[0] if len(quoted) == 1 else f"{quoted[0]} / {quoted[1]}"


def _check_turns(messages: list, shape: formats.Shape, field_name: str, out: list[Issue]) -> None:
    """Roles known, contents non-empty, system first only, user/assistant alternating, calls answered."""
    tags = shape.tags
    role_tag, content_tag = tags["role_tag"], tags["content_tag"]
    user, assistant, system = tags["user_tag"], tags["assistant_tag"], tags.get("system_tag")
    function = tags.get("function_tag") if shape.layout == "sharegpt" else None
    observation = tags.get("observation_tag") if shape.layout == "sharegpt" else None
    allowed = [r for r in (system, user, assistant, function, observation) if r]
    turns: list[tuple[int, str]] = []
    for index, message in enumerate(messages, start=1):
        if not isinstance(message, dict) or role_tag not in message or content_tag not in message:
            out.append(Issue(0, "ds.r_msg_not_object", {"index": index, "field": field_name, "role": role_tag,
                                                        "content": content_tag}))
            return
        role, content = message[role_tag], message[content_tag]
        if role not in allowed:
            out.append(Issue(0, "ds.r_msg_role", {"index": index, "role": role, "allowed": ", ".join(allowed)}))
            return
        if not _is_text(content):
            out.append(Issue(0, "ds.r_type", {"field": f"{field_name}[{index}].{content_tag}",
                                              "expected": "ds.t_text", "found": type_name(content)}))
        elif not content.strip():
            out.append(Issue(0, "ds.r_msg_empty", {"index": index, "role": role}))
        if role == system:
            if index != 1:
                out.append(Issue(0, "ds.r_system_not_first", {"index": index}))
                return
            continue
        turns.append((index, role))
    if not turns:
        out.append(Issue(0, "ds.r_no_turns", {"field": field_name}))
        return
    for position, (index, role) in enumerate(turns):
        previous = turns[position - 1][1] if position else None
        if previous is not None and previous == function and role != observation:
            out.append(Issue(0, "ds.r_function_observation", {"index": index, "role": role}))
            return
        if role == observation and previous != function:
            out.append(Issue(0, "ds.r_observation_without_call", {"index": index}))
            return
        expected = (user, observation) if position % 2 == 0 else (assistant, function)
        if role not in expected:
            out.append(Issue(0, "ds.r_order", {"index": index, "role": role, "expected": _either(*expected)}))
            return
    # SFT ends on the assistant's turn; a preference prompt ends on the user's, chosen/rejected answer it.
    ends_on_user = len(turns) % 2 == 1
    if ends_on_user != shape.ranking:
        expected = _either(user, observation) if shape.ranking else _either(assistant, function)
        out.append(Issue(0, "ds.r_ends", {"expected": expected, "role": turns[-1][1]}))


def _check_answer(row: dict, name: str, shape: formats.Shape, out: list[Issue]) -> None:
    tags = shape.tags
    value = row.get(name)
    if name not in row or value is None:
        out.append(Issue(0, "ds.r_missing", {"field": name, "format": shape.format}))
        return
    if not isinstance(value, dict) or tags["role_tag"] not in value or tags["content_tag"] not in value:
        out.append(Issue(0, "ds.r_type", {"field": name, "expected": "ds.t_message", "found": type_name(value)}))
        return
    role, content = value[tags["role_tag"]], value[tags["content_tag"]]
    answer_roles = [r for r in (tags["assistant_tag"], tags.get("function_tag") if shape.layout == "sharegpt"
                                else None) if r]
    if role not in answer_roles:
        out.append(Issue(0, "ds.r_msg_role", {"index": name, "role": role, "allowed": ", ".join(answer_roles)}))
    elif not _is_text(content):
        out.append(Issue(0, "ds.r_type", {"field": f"{name}.{tags['content_tag']}", "expected": "ds.t_text",
                                          "found": type_name(content)}))
    elif not content.strip():
        out.append(Issue(0, "ds.r_msg_empty", {"index": name, "role": role}))


def _check_conversation(row: dict, shape: formats.Shape, csv: bool, out: list[Issue]) -> None:
    name = shape.columns["messages"]
    messages = row.get(name)
    if name not in row or messages is None:
        out.append(Issue(0, "ds.r_missing", {"field": name, "format": shape.format}))
        return
    if not isinstance(messages, list):
        if isinstance(messages, str) and csv:
            out.append(Issue(0, "ds.r_nested_in_csv", {"field": name}))
        else:
            out.append(Issue(0, "ds.r_type", {"field": name, "expected": "ds.t_list", "found": type_name(messages)}))
        return
    _check_turns(messages, shape, name, out)
    if "system" in shape.columns:
        _text_field(row, shape.columns["system"], shape.format, out, required=False)
    if shape.ranking:
        _check_answer(row, shape.columns["chosen"], shape, out)
        _check_answer(row, shape.columns["rejected"], shape, out)
        if not out and row[shape.columns["chosen"]] == row[shape.columns["rejected"]]:
            out.append(Issue(0, "ds.r_same_pair"))


def check_row(row: object, shape: formats.Shape, csv: bool = False) -> list[Issue]:
    """Problems of one row (line numbers are filled in by the caller)."""
    if not isinstance(row, dict):
        return [Issue(0, "ds.r_not_object", {"found": type_name(row)})]
    out: list[Issue] = []
    if shape.layout == "text":
        _text_field(row, shape.columns.get("prompt", "text"), shape.format, out)
    elif shape.layout == "alpaca":
        _check_alpaca(row, shape, out)
    else:
        _check_conversation(row, shape, csv, out)
    return out


def message_of(issue: Issue, label: str, unit: str) -> Message:
    """'file:line: reason' as a message (Parquet rows read 'file: row N: reason')."""
    params = {k: Message(v) if isinstance(v, str) and v.startswith("ds.t_") else v for k, v in issue.params.items()}
    return Message("ds.at_line" if unit == "line" else "ds.at_row",
                   {"label": label, "line": issue.line, "reason": Message(issue.key, params)})


def render(issue: Issue, label: str, unit: str, lang: str) -> str:
    """'file:line: reason' in `lang`."""
    return message_of(issue, label, unit).render(lang)


def open_source(path: Path, label: str, max_bytes: int = DEFAULT_MAX_BYTES,
                csv_field_limit: int = DEFAULT_CSV_FIELD_LIMIT,
                max_chars: int = DEFAULT_MAX_CHARS) -> tuple[RowStream | ParquetRows, str | None]:
    """A file's rows, to be read as a stream, and its encoding; file-level problems (missing, type, size) raise."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError("err.ds_source_missing", path=label)
    suffix = path.suffix.lower()
    if suffix not in formats.SUFFIXES:
        raise InvalidInputError("err.ds_unsupported_type", path=label, suffix=path.suffix or "(none)",
                              suffixes=", ".join(formats.SUFFIXES))
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidInputError("err.ds_too_large", path=label, size_mb=round(size / 2**20, 1),
                              limit_mb=round(max_bytes / 2**20, 1))
    if size == 0:
        raise InvalidInputError("err.ds_empty", path=label)
    if suffix == ".parquet":
        return ParquetRows(path, label), None
    encoding = encodings.detect(path, label)
    return RowStream(lambda: encodings.chunks(path, label, encoding), suffix, csv_field_limit=csv_field_limit,
                     max_chars=max_chars), encoding


def read_file(path: Path, label: str, max_bytes: int = DEFAULT_MAX_BYTES,
              csv_field_limit: int = DEFAULT_CSV_FIELD_LIMIT) -> tuple[Parsed, str | None]:
    """Every row of a dataset file in memory (for previews and stats) and its encoding; file problems raise."""
    source, encoding = open_source(Path(path), label, max_bytes, csv_field_limit)
    parsed = Parsed(unit=source.unit)
    for item in source:
        if isinstance(item, Issue):
            parsed.issues.append(item)
        else:
            parsed.rows.append(item)
    parsed.fatal = source.fatal
    if not parsed.rows and not parsed.issues:
        raise InvalidInputError("err.ds_empty", path=label)
    return parsed, encoding


def inspect(path: Path, fmt: str = "auto", *, label: str | None = None,
            max_bytes: int = DEFAULT_MAX_BYTES, csv_field_limit: int = DEFAULT_CSV_FIELD_LIMIT,
            max_chars: int = DEFAULT_MAX_CHARS) -> Inspection:
    """Read, detect and check a file as a stream; file-level problems become the report's single error."""
    fmt = formats.check_format_name(fmt)
    label = label or str(path)
    report = ValidationReport(path=label, format=None if fmt == "auto" else fmt)
    try:
        source, encoding = open_source(Path(path), label, max_bytes, csv_field_limit, max_chars)
        stamp = stamp_of(path)
        if encoding is not None:
            report.encoding, report.needs_conversion = encoding, encoding not in encodings.UTF8
        shape, error = _check_rows(source, fmt, report, label, Path(path).suffix.lower() == ".csv")
    except NotFoundError:
        raise
    except LLMOpsError as exc:  # found before reading rows, or mid-way (a bad byte, a NUL)
        failed = ValidationReport(path=label, format=None if fmt == "auto" else fmt)
        failed.messages, failed.error_count = [Message(exc.key, exc.params)], 1
        return Inspection(failed, None, None, None, exc)
    return Inspection(report, shape, source, stamp, error)


def _check_rows(source, fmt: str, report: ValidationReport, label: str,
                is_csv: bool) -> tuple[formats.Shape | None, LLMOpsError | None]:
    """One pass: detect the shape on the first rows, then check each row as it is read; fills `report`."""
    issues = _Issues()
    pending: list[tuple[int, object]] = []  # rows read before the shape is known (at most _DETECT_ROWS)
    fields: set[str] = set()
    shape, wanted = None, {}
    rows = parse_issues = valid = 0
    undetectable = False
    for item in source:
        if isinstance(item, Issue):
            parse_issues += 1
            issues.add(item)
            continue
        rows += 1
        if undetectable:
            continue
        if shape is None:
            row = item[1]
            shape = formats.detect_row(row) if fmt == "auto" else formats.forced_shape(fmt, row)
            if shape is None:
                if isinstance(row, dict):
                    fields.update(row)
                pending.append(item)
                undetectable = len(pending) >= formats.DETECT_ROWS
                continue
            wanted = formats.optional_fields(shape)
            batch, pending = [*pending, item], []
        else:
            batch = [item]
        for line, row in batch:
            if wanted and isinstance(row, dict) and any(name in row for name in wanted.values()):
                shape = formats.with_optional_columns(shape, (row,))
                wanted = formats.optional_fields(shape)
            found = check_row(row, shape, is_csv)
            for issue in found:
                issues.add(Issue(line, issue.key, issue.params))
            valid += not found
    if shape is None and rows:
        error = InvalidInputError("err.ds_format_unknown", path=label, fields=", ".join(sorted(fields)[:12]) or "-",
                                formats=", ".join(formats.FORMATS))
        report.messages, report.error_count = [Message(error.key, error.params)], 1
        report.total_rows = rows + parse_issues
        return None, error
    if not rows and not issues.count:
        error = InvalidInputError("err.ds_empty", path=label)
        report.messages, report.error_count = [Message(error.key, error.params)], 1
        return None, error
    # Each issue of the parser stands for a row it could not read, except the one that stopped it.
    _fill(report, shape, valid, rows + parse_issues - source.fatal, issues, label, source.unit)
    return shape, None


def _fill(report: ValidationReport, shape: formats.Shape | None, valid: int, total: int, issues: _Issues,
          label: str, unit: str) -> None:
    if shape is not None:
        report.format, report.layout = shape.format, shape.layout
        report.entry = formats.entry_for(shape, "")
    report.valid_rows, report.total_rows, report.error_count = valid, total, issues.count
    report.messages = [message_of(i, label, unit) for i in issues.first()]
    if issues.count > MAX_REPORTED:
        report.messages.append(Message("ds.more_errors", {"count": issues.count - MAX_REPORTED}))
