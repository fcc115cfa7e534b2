"""Dataset formats: detect a row's shape and map each shape to a LLaMA-Factory dataset_info entry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ...errors import InvalidInputError

FORMATS = ("pt", "alpaca", "sharegpt", "messages", "preference")
FORMAT_CHOICES = ("auto", *FORMATS)
SUFFIXES = (".json", ".jsonl", ".csv", ".txt", ".parquet")
# How many rows auto-detection looks at before giving up.
DETECT_ROWS = 50

SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
MESSAGES_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                 "system_tag": "system"}
# Optional columns worth mapping when the data has them, per row layout (LF column name -> default field).
_OPTIONAL = {"alpaca": {"query": "input", "system": "system", "history": "history"},
             "sharegpt": {"system": "system", "tools": "tools"},
             "messages": {"system": "system", "tools": "tools"}}


@dataclass(frozen=True)
class Shape:
    """How rows are laid out: the format, its row layout, LF column mapping and role tags."""

    format: str  # one of FORMATS
    layout: str  # text | alpaca | sharegpt | messages (a preference set uses one of the last three)
    columns: dict = field(default_factory=dict)  # LF column name -> field in the rows
    tags: dict = field(default_factory=dict)  # role tags for conversation layouts

    @property
    def ranking(self) -> bool:
        return self.format == "preference"

    @property
    def kind(self) -> str:
        """The dataset_info kind: pt, sft or preference."""
        return {"pt": "pt", "preference": "preference"}.get(self.format, "sft")


def check_format_name(name: str) -> str:
    """Return `name` if it is 'auto' or a known format, else raise."""
    name = (name or "auto").strip().lower()
    if name not in FORMAT_CHOICES:
        raise InvalidInputError("err.ds_bad_format_name", format=name, formats=", ".join(FORMAT_CHOICES))
    return name


def _conversation_field(row: dict) -> str | None:
    for key in ("conversations", "messages"):
        if key in row:
            return key
    return None


def _conversation_tags(row: dict, column: str) -> dict:
    """Role tags from the first message's keys; the column name decides when the rows say nothing."""
    messages = row.get(column)
    first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
    if "from" in first or "value" in first:
        return dict(SHAREGPT_TAGS)
    if "role" in first or "content" in first:
        return dict(MESSAGES_TAGS)
    return dict(SHAREGPT_TAGS if column == "conversations" else MESSAGES_TAGS)


def _conversation_shape(fmt: str, row: dict, column: str) -> Shape:
    tags = _conversation_tags(row, column)
    layout = "messages" if tags["role_tag"] == "role" else "sharegpt"
    columns = {"messages": column}
    if fmt == "preference":
        columns.update(chosen="chosen", rejected="rejected")
    return Shape(layout if fmt != "preference" else fmt, layout, columns, tags)


def _alpaca_preference(row: dict) -> Shape:
    prompt = "prompt" if "prompt" in row or "instruction" not in row else "instruction"
    return Shape("preference", "alpaca", {"prompt": prompt, "chosen": "chosen", "rejected": "rejected"})


def detect_row(row: object) -> Shape | None:
    """The shape one row has, or None when it fits no known format."""
    if not isinstance(row, dict):
        return None
    pair = "chosen" in row and "rejected" in row
    conversation = _conversation_field(row)
    if conversation:
        return _conversation_shape("preference" if pair else "auto", row, conversation)
    if pair and ("prompt" in row or "instruction" in row):
        return _alpaca_preference(row)
    if "instruction" in row and "output" in row:
        return Shape("alpaca", "alpaca", {"prompt": "instruction", "response": "output"})
    if "text" in row:
        return Shape("pt", "text", {"prompt": "text"})
    return None


def forced_shape(fmt: str, row: object) -> Shape:
    """The shape for a format the user chose, with column and tag details taken from a sample row."""
    row = row if isinstance(row, dict) else {}
    if fmt == "pt":
        return Shape("pt", "text", {"prompt": "text"})
    if fmt == "alpaca":
        return Shape("alpaca", "alpaca", {"prompt": "instruction", "response": "output"})
    if fmt == "preference":
        conversation = _conversation_field(row)
        return _conversation_shape("preference", row, conversation) if conversation else _alpaca_preference(row)
    # sharegpt / messages: the user's choice decides the tags; the rows decide the column's name.
    column = _conversation_field(row) or ("conversations" if fmt == "sharegpt" else "messages")
    tags = dict(SHAREGPT_TAGS if fmt == "sharegpt" else MESSAGES_TAGS)
    return Shape(fmt, fmt, {"messages": column}, tags)


def detect(rows: Iterable[object], fmt: str = "auto") -> Shape | None:
    """The shape of a file: the forced format, or the first recognisable row among the first few."""
    sample = []
    for row in rows:
        sample.append(row)
        if len(sample) >= DETECT_ROWS:
            break
    if fmt != "auto":
        return forced_shape(fmt, next((r for r in sample if isinstance(r, dict)), {}))
    for row in sample:
        shape = detect_row(row)
        if shape is not None:
            return shape
    return None


def optional_fields(shape: Shape) -> dict[str, str]:
    """Optional LF columns (-> row field) this shape could still map; empty once all are mapped."""
    optional = _OPTIONAL.get(shape.layout, {})
    if shape.format == "preference" and shape.layout == "alpaca":
        optional = {"query": "input", "system": "system"}
    return {lf: name for lf, name in optional.items() if lf not in shape.columns}


def with_optional_columns(shape: Shape, rows: Iterable[object]) -> Shape:
    """Map optional fields (input, system, history, tools) that at least one row carries."""
    wanted = optional_fields(shape)
    found: dict[str, str] = {}
    for row in rows:
        if isinstance(row, dict):
            found.update({lf: name for lf, name in wanted.items() if name in row})
            if len(found) == len(wanted):
                break
    return replace(shape, columns={**shape.columns, **found}) if found else shape


def entry_for(shape: Shape, file_name: str) -> dict:
    """The dataset_info.json entry LLaMA-Factory needs to read a file of this shape."""
    entry: dict = {"file_name": file_name}
    if shape.format == "pt":
        entry["columns"] = {"prompt": shape.columns.get("prompt", "text")}
        return entry
    if shape.ranking:
        entry["ranking"] = True
    entry["formatting"] = "alpaca" if shape.layout == "alpaca" else "sharegpt"
    entry["columns"] = dict(shape.columns)
    if shape.layout in ("sharegpt", "messages"):
        entry["tags"] = dict(shape.tags)
    return entry


def shape_of_entry(entry: dict) -> Shape:
    """Read a dataset_info entry back into a shape (for datasets registered by hand, like the samples)."""
    columns = dict(entry.get("columns") or {})
    ranking = bool(entry.get("ranking"))
    if entry.get("formatting", "alpaca") == "sharegpt":
        tags = {**SHAREGPT_TAGS, **(entry.get("tags") or {})}
        layout = "messages" if tags.get("role_tag") == "role" else "sharegpt"
        columns.setdefault("messages", "conversations")
        if ranking:
            columns.setdefault("chosen", "chosen")
            columns.setdefault("rejected", "rejected")
        return Shape("preference" if ranking else layout, layout, columns, tags)
    if ranking:
        return Shape("preference", "alpaca", {"prompt": "instruction", **columns})
    if columns and set(columns) <= {"prompt"}:
        return Shape("pt", "text", columns)
    return Shape("alpaca", "alpaca", {"prompt": "instruction", "query": "input", "response": "output", **columns})
