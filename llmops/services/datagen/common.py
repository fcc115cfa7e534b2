"""Shared by the generators: reading corpus chunks, dedup keys, writing and registering datasets."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pydantic

from ...errors import ConflictError, InvalidInputError, NotFoundError, StorageError, pydantic_details
from ...lf import dataset_info
from ...security.paths import allowed, contain
from ...settings import Settings
from ...storage import atomic_write_text, create_unique
from ..corpus import CorpusOptions, detect_language
from ..corpus import run as run_corpus
from ..datasets import DatasetRegistry

PT_COLUMNS = {"prompt": "text"}
SFT_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output"}
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-\u4e00-\u9fff]+")
CORPUS_SUFFIXES = (".jsonl", ".json")


@dataclass(frozen=True)
class CorpusChunk:
    """One piece of a corpus: its text, heading path ("Title > Section"), language and origin file."""

    text: str
    section: str = ""
    lang: str = "en"
    source: str = ""


@dataclass
class GenResult:
    """A generation's output file and registered name (None when nothing was written), its pairs and counts."""

    path: Path | None
    dataset_name: str | None
    pairs: list[dict]
    stats: dict = field(default_factory=dict)


class EmptyGeneration(InvalidInputError):
    """Nothing usable came out, so nothing was written or registered; `.result` still carries the counts."""

    def __init__(self, key: str, /, result: GenResult, **params):
        super().__init__(key, **params)
        self.result = result


def timestamp() -> str:
    """Local time as used in generated file names."""
    return time.strftime("%Y%m%d_%H%M%S")


def language_of(text: str) -> str:
    """'zh' or 'en': the corpus quality detector's answer, with anything not Chinese treated as English."""
    return "zh" if detect_language(text) == "zh" else "en"


def instruction_key(text: str) -> str:
    """Instruction text reduced for duplicate detection: case, width, spaces and punctuation ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def dedup_pairs(pairs: Iterable[dict]) -> tuple[list[dict], int]:
    """Pairs with a previously seen (normalised) instruction dropped, and how many were dropped."""
    seen: set[str] = set()
    kept: list[dict] = []
    dropped = 0
    for pair in pairs:
        key = instruction_key(pair["instruction"])
        if not key or key in seen:
            dropped += 1
            continue
        seen.add(key)
        kept.append(pair)
    return kept, dropped


def dataset_name_for(path: Path) -> str:
    """A registrable dataset name made from a file's stem."""
    name = _NAME_CHARS.sub("_", Path(path).stem).strip("._-")[:100]
    return name or "dataset"


def file_name_for(settings: Settings, path: Path) -> str:
    """dataset_info.json's file_name: relative to the data folder when inside it, else absolute."""
    path = Path(path).resolve()
    data_dir = settings.data_dir.resolve()
    return path.relative_to(data_dir).as_posix() if data_dir in path.parents else str(path)


def write_new(settings: Settings, prefix: str, suffix: str, text: str, out: Path | str | None) -> Path:
    """Write `text` to `out` (which must not exist) or to data/llmops/<prefix>_<ts><suffix> (never overwritten)."""
    if out is None:
        settings.ensure_dirs()
        return create_unique(settings.work_dir / f"{prefix}_{timestamp()}{suffix}", text)
    path = contain(settings, out)
    if path.suffix.lower() != suffix:
        raise InvalidInputError("err.gen_out_suffix", path=str(out), suffix=suffix)
    try:
        return atomic_write_text(path.resolve(), text, overwrite=False)
    except FileExistsError:
        raise ConflictError("err.gen_out_exists", path=str(out)) from None


def register(settings: Settings, path: Path, entry: dict) -> str:
    """Register the just-written `path` under its stem's name; if that fails the file is removed again."""
    name = dataset_name_for(path)
    try:
        DatasetRegistry(settings).register_entry(name, {"file_name": file_name_for(settings, path), **entry})
    except InvalidInputError:
        Path(path).unlink(missing_ok=True)  # we created it a moment ago; leave no unregistered orphan behind
        raise
    return name


SFT_ENTRY = {"formatting": "alpaca", "columns": SFT_COLUMNS}


def write_sft(settings: Settings, pairs: list[dict], out: Path | str | None = None, *,
              register_it: bool = True) -> tuple[Path, str | None]:
    """Write alpaca pairs as data/llmops/sft_data_<ts>.json (or `out`) and register them for SFT (unless a job's
    completion will)."""
    rows = [{"instruction": p["instruction"], "input": p.get("input", ""), "output": p["output"]} for p in pairs]
    text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    path = write_new(settings, "sft_data", ".json", text, out)
    if not register_it:
        return path, None
    return path, register(settings, path, {"formatting": "alpaca", "columns": dict(SFT_COLUMNS)})


def _registered_file(settings: Settings, name: str) -> Path | None:
    info_path = settings.dataset_info_path
    if not info_path.exists():
        return None
    entry = dataset_info.read(info_path).entries.get(name)
    # dataset_info.json is a saved config: an entry pointing out of the allowed roots is refused too.
    return contain(settings, dataset_info.resolve_file(settings.data_dir, entry)) if entry else None


def load_chunks(settings: Settings, corpus: Path | str, options: CorpusOptions | None = None) -> list[CorpusChunk]:
    """Chunks of a corpus JSONL/JSON file, a registered corpus dataset, or documents (run through the pipeline)."""
    path = Path(corpus).expanduser()
    # Outside the allowed roots a path is neither read nor probed for existence; it may still be a dataset name.
    if not (allowed(settings, path) and path.exists()):
        registered = _registered_file(settings, str(corpus))
        if registered is None:
            contain(settings, path)
        if registered is None or not registered.exists():
            raise NotFoundError("err.gen_corpus_missing", corpus=str(corpus))
        path = registered
    if path.is_file() and path.suffix.lower() in CORPUS_SUFFIXES:
        return _read_corpus_file(path)
    result = run_corpus([path], options or CorpusOptions())
    return [CorpusChunk(r.text, r.section, r.lang if r.lang in ("zh", "en") else language_of(r.text), r.source)
            for r in result.records]


def _read_corpus_file(path: Path) -> list[CorpusChunk]:
    text = path.read_text(encoding="utf-8-sig")
    rows: list = []
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StorageError("err.gen_corpus_unreadable", path=f"{path}:{exc.lineno}", reason=exc.msg) from None
        rows = data if isinstance(data, list) else [data]
    else:
        for lineno, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise StorageError("err.gen_corpus_unreadable", path=f"{path}:{lineno}",
                                          reason=exc.msg) from None
    chunks = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
            continue
        lang = row.get("lang")
        if lang not in ("zh", "en"):
            lang = language_of(row["text"])
        chunks.append(CorpusChunk(row["text"], str(row.get("section") or ""), lang, str(row.get("source") or "")))
    if not chunks:
        raise InvalidInputError("err.gen_corpus_no_text", path=str(path))
    return chunks


def parse_options(model: type[pydantic.BaseModel], options) -> pydantic.BaseModel:
    """An options model from a model instance, a dict or None; refused values become one user error."""
    if isinstance(options, model):
        return options
    try:
        return model(**(options or {}))
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.gen_options_invalid", details=pydantic_details(exc)) from None
