"""LLaMA-Factory's dataset_info.json: read tolerantly, change under a lock, replace atomically.

Its writing functions are called only by services/datasets/registry.py, the file's one owner."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NotFoundError, InvalidInputError
from ..i18n import Message
from ..settings import Settings
from ..storage import atomic_write_json, file_lock, safe_name

SAMPLE_ENTRIES = {
    "sample_pt": {"file_name": "samples/pt.jsonl", "columns": {"prompt": "text"}},
    "sample_sft": {
        "file_name": "samples/sft.json",
        "formatting": "alpaca",
        "columns": {"prompt": "instruction", "query": "input", "response": "output"},
    },
    "sample_dpo": {
        "file_name": "samples/dpo.jsonl",
        "ranking": True,
        "formatting": "alpaca",
        "columns": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"},
    },
    # GRPO rows (prompt + solution with a checkable final answer), read by the TRL engine; LLaMA-Factory and
    # the evaluation sets read them as SFT too. Named to sort after sample_sft, which stays the SFT default.
    "sample_verifiable": {"file_name": "samples/grpo.jsonl", "columns": {"prompt": "prompt", "response": "solution"}},
}


@dataclass
class DatasetInfo:
    """The parsed file: usable entries plus, for each broken one, its name and what is wrong (a message)."""

    entries: dict[str, dict] = field(default_factory=dict)
    problems: list[tuple[str, Message]] = field(default_factory=list)


def entry_kind(entry: dict) -> str:
    """Classify an entry as 'pt', 'sft', 'preference' or 'kto' the way LLaMA-Factory will read it."""
    if entry.get("ranking"):
        return "preference"
    columns = entry.get("columns") or {}
    if columns.get("kto_tag"):
        return "kto"  # single answers tagged desirable or not (LLaMA-Factory's kto_tag column)
    # A plain-text corpus maps only its text to `prompt`; alpaca without columns means instruction data.
    if entry.get("formatting", "alpaca") == "alpaca" and columns and set(columns) <= {"prompt"}:
        return "pt"
    return "sft"


def _check_entry(name: str, entry) -> Message | None:
    if not isinstance(entry, dict):
        return Message("ds.entry_not_object", {"name": name})
    sources = [key for key in ("file_name", "hf_hub_url", "ms_hub_url", "script_url", "cloud_file_name") if key in entry]
    if not sources:
        return Message("ds.entry_no_source", {"name": name})
    if "columns" in entry and not isinstance(entry["columns"], dict):
        return Message("ds.entry_columns", {"name": name})
    return None


def seed_entries(settings: Settings) -> dict[str, dict]:
    """Sample entries with file names that resolve from this home's data folder."""
    entries = json.loads(json.dumps(SAMPLE_ENTRIES))
    if settings.data_dir.resolve() != (settings.install_root / "data").resolve():
        for entry in entries.values():
            entry["file_name"] = str(settings.install_root / "data" / entry["file_name"])
    return entries


def ensure(settings: Settings) -> Path:
    """Create dataset_info.json with the sample datasets when the home has none."""
    path = settings.dataset_info_path
    if not path.exists():
        with file_lock(path):
            if not path.exists():
                atomic_write_json(path, seed_entries(settings))
    return path


def read(path: Path) -> DatasetInfo:
    """Read every usable entry; a broken entry is reported, never hiding the rest."""
    info = DatasetInfo()
    raw = _read_raw(path)
    for name, entry in raw.items():
        problem = _check_entry(name, entry)
        if problem:
            info.problems.append((name, problem))
        else:
            info.entries[name] = entry
    return info


def register(path: Path, name: str, entry: dict, *, replace: bool = False) -> None:
    """Add or replace one entry; concurrent registrations all survive."""
    safe_name(name, "dataset name")
    problem = _check_entry(name, entry)
    if problem:
        raise InvalidInputError("err.dataset_entry_invalid", reason=problem)
    with file_lock(path):
        raw = _read_raw(path)
        if raw.get(name) == entry:
            return  # the same entry again: the file is left as it is
        if name in raw and not replace:
            raise InvalidInputError("err.dataset_exists", name=name)
        raw[name] = entry
        atomic_write_json(path, raw)


def unregister(path: Path, name: str) -> dict:
    """Remove one entry and return it."""
    with file_lock(path):
        raw = _read_raw(path)
        if name not in raw:
            raise NotFoundError("err.dataset_unknown", name=name)
        entry = raw.pop(name)
        atomic_write_json(path, raw)
    return entry


def _read_raw(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        # Never overwrite a file we could not read: the user's entries would be lost.
        raise InvalidInputError("err.dataset_info_corrupt", path=str(path), reason=str(exc)) from exc
    if not isinstance(raw, dict):
        raise InvalidInputError("err.dataset_info_corrupt", path=str(path), reason=Message("ds.info_top_not_object"))
    return raw


def resolve_file(dataset_dir: Path, entry: dict) -> Path | None:
    """The local file (or folder) an entry reads, or None for hub datasets."""
    if "file_name" not in entry:
        return None
    return (Path(dataset_dir) / entry["file_name"]).resolve()
