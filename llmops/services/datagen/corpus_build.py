"""Corpus build as a product step: documents -> data/llmops/domain_corpus_<ts>.jsonl, registered for pre-training."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import InvalidInputError, NotFoundError
from ...security.paths import contain
from ...settings import Settings
from ..corpus import CorpusOptions, CorpusStats
from ..corpus import run as run_corpus
from ..corpus.pipeline import Progress
from ..lineage.record import record_corpus
from .common import PT_COLUMNS, dataset_name_for, register, write_new

PRESET = "preset"


@dataclass(frozen=True)
class CorpusBuild:
    """The written corpus, the dataset name it is registered under, and the pipeline's statistics."""

    path: Path
    dataset_name: str | None  # None until a job's completion registers it
    stats: CorpusStats


def preset_sources(settings: Settings) -> list[Path]:
    """The shipped sample documents (zh + en): the language folders, not the folder's own README."""
    return sorted(path for path in settings.sample_docs_dir.iterdir() if path.is_dir())


def resolve_sources(settings: Settings, sources: Sequence[str | Path]) -> list[Path]:
    """Paths of `sources`, the word 'preset' standing for the shipped documents; every one must exist."""
    if not sources:
        raise InvalidInputError("err.corpus_no_sources")
    paths: list[Path] = []
    for source in sources:
        if str(source).strip() == PRESET:
            paths.extend(preset_sources(settings))
            continue
        path = contain(settings, source)
        if not path.exists():
            raise NotFoundError("err.corpus_source_missing", path=str(source))
        paths.append(path)
    return paths


def build_corpus(settings: Settings, sources: Sequence[str | Path], options: CorpusOptions | None = None,
                 progress: Progress | None = None, *, out: Path | str | None = None,
                 register_it: bool = True) -> CorpusBuild:
    """Run the corpus pipeline over `sources`, write the JSONL (never overwriting) and register it as pt data.

    An empty result is refused (err.gen_corpus_empty): nothing is written or registered.
    """
    paths = resolve_sources(settings, sources)
    result = run_corpus(paths, options or CorpusOptions(), progress=progress)
    if not result.records:
        raise InvalidInputError("err.gen_corpus_empty", chunks=result.stats.chunks)
    text = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in result.records)
    path = write_new(settings, "domain_corpus", ".jsonl", text, out)
    name = register(settings, path, {"columns": dict(PT_COLUMNS)}) if register_it else None
    record_corpus(settings, path, name or dataset_name_for(path), (r.source for r in result.records))
    return CorpusBuild(path, name, result.stats)
