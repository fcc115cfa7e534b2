"""Does a registered dataset fit the stage that will read it? Checked before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import NotFoundError, InvalidInputError
from ..schemas.stages import STAGES
from . import dataset_info

# Columns LLaMA-Factory falls back to when an entry names none.
_DEFAULT_COLUMNS = {
    "alpaca": {"prompt": "instruction", "query": "input", "response": "output"},
    "sharegpt": {"messages": "conversations"},
}
# Mapped columns a row must carry; the rest (query, system, history, tools, images…) are optional.
_REQUIRED = {"pt": ("prompt",), "sft": ("prompt", "response", "messages"),
             "preference": ("prompt", "chosen", "rejected", "messages"),
             "kto": ("prompt", "response", "messages", "kto_tag")}
_PEEK_ROWS = 5
_PEEK_BYTES = 64 * 1024 * 1024


def check(dataset_dir: Path, name: str, entries: dict[str, dict], stage: str) -> None:
    """Raise a user-facing error if `name` is unknown, of the wrong kind, missing, or misshapen."""
    entry = entries.get(name)
    if entry is None:
        raise NotFoundError("err.dataset_unknown", name=name)
    kind = dataset_info.entry_kind(entry)
    wanted = STAGES[stage].dataset_kinds
    if kind not in wanted and "kto" in wanted:
        raise InvalidInputError("err.stage.kto_no_tag", name=name, kind=kind)
    if kind not in wanted:
        raise InvalidInputError("err.dataset_wrong_kind", name=name, kind=kind, stage=stage, wanted="/".join(wanted))
    path = dataset_info.resolve_file(dataset_dir, entry)
    if path is None:
        return  # a hub dataset: LLaMA-Factory fetches and checks it
    if not path.exists():
        raise InvalidInputError("err.dataset_file_missing", name=name, path=str(path))
    if path.is_dir():
        return
    formatting = entry.get("formatting", "alpaca")
    columns = {**_DEFAULT_COLUMNS.get(formatting, {}), **(entry.get("columns") or {})}
    needed = [columns[key] for key in _REQUIRED[kind] if key in columns]
    for line_no, row in _peek(path):
        if not isinstance(row, dict):
            raise InvalidInputError("err.dataset_shape", path=f"{path}:{line_no}", reason="row is not an object")
        missing = [column for column in needed if column not in row]
        if missing:
            raise InvalidInputError("err.dataset_shape", path=f"{path}:{line_no}",
                                  reason=f"missing field(s) {', '.join(missing)} for a {kind} dataset")
        # LLaMA-Factory reads a row whose tag is not a boolean as an untagged example, silently: refuse it here.
        if kind == "kto" and not isinstance(row[columns["kto_tag"]], bool):
            raise InvalidInputError("err.stage.kto_tag_value", path=f"{path}:{line_no}", column=columns["kto_tag"],
                                    value=json.dumps(row[columns["kto_tag"]], ensure_ascii=False)[:80])


def _peek(path: Path) -> list[tuple[int, object]]:
    """The first rows of a .json array or a .jsonl file, with their line numbers."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".jsonl"):
        return []  # csv/parquet/txt: LLaMA-Factory's own loader reports their problems
    if path.stat().st_size == 0:
        raise InvalidInputError("err.dataset_shape", path=f"{path}:1", reason="the file is empty")
    if suffix == ".json" and path.stat().st_size <= _PEEK_BYTES:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            raise InvalidInputError("err.dataset_shape", path=f"{path}:{line}", reason=str(exc)) from exc
        if isinstance(data, list):
            return [(index + 1, row) for index, row in enumerate(data[:_PEEK_ROWS])]
        if isinstance(data, dict):
            return [(1, data)]
    rows = []
    with open(path, encoding="utf-8-sig", errors="strict") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append((line_no, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InvalidInputError("err.dataset_shape", path=f"{path}:{line_no}", reason=exc.msg) from exc
            if len(rows) >= _PEEK_ROWS:
                break
    return rows
