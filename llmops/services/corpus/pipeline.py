"""Corpus pipeline: read -> normalise -> chunk -> exact dedup -> quality filters -> near dedup, with counts."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...errors import InvalidInputError
from ...settings import Settings
from ...storage import atomic_write_text, safe_name
from .chunk import CountTokens, approx_tokens, chunk_text, tokenizer_counter
from .dedup import exact_duplicates, near_duplicates
from .normalize import normalize
from .quality import REASONS, QualityRules, assess
from .readers import FORMATS, Skipped, list_files, read_source_file

STEPS = ("read", "normalize", "chunk", "exact_dedup", "filter", "near_dedup")
# progress(step, done, total): "read" counts files (normalize and chunk run inside it, file by file);
# "exact_dedup", "filter" and "near_dedup" count chunks; "done" comes last.
Progress = Callable[[str, int, int], None]


class CorpusOptions(BaseModel):
    """Everything a corpus run can be told; defaults suit a mixed zh/en domain corpus."""

    model_config = ConfigDict(extra="forbid")

    text_field: str = Field("text", min_length=1, description="JSON/JSONL field holding the text (a.b for nested)")
    csv_column: str = Field("text", min_length=1, description="CSV/TSV column holding the text")
    max_file_mb: float = Field(200.0, gt=0, le=10_240)
    strip_markup: bool = True
    tokenizer: str | None = Field(None, description="model folder or hub id whose tokenizer measures chunks")
    max_tokens: int = Field(512, ge=16, le=32_768)
    exact_dedup: bool = True
    near_dedup: bool = True
    near_threshold: float = Field(0.8, ge=0.3, le=0.99)
    num_perm: int = Field(128, ge=16, le=512)
    shingle_size: int = Field(5, ge=2, le=16)
    seed: int = Field(1, ge=0)
    min_chars: int = Field(20, ge=0)
    max_chars: int = Field(100_000, ge=1)
    max_symbol_ratio: float = Field(0.3, ge=0, le=1)
    max_dup_line_ratio: float = Field(0.3, ge=0, le=1)
    max_top_ngram_ratio: float = Field(0.2, ge=0, le=1)
    top_ngram_n: int = Field(3, ge=1, le=10)
    languages: list[Literal["zh", "en", "other"]] = Field(default_factory=lambda: ["zh", "en"], min_length=1)
    hist_bins: int = Field(20, ge=1, le=200)

    @model_validator(mode="after")
    def _ranges(self) -> CorpusOptions:
        if self.min_chars >= self.max_chars:
            raise ValueError("min_chars must be smaller than max_chars")
        return self

    def rules(self) -> QualityRules:
        """The quality thresholds of these options."""
        return QualityRules(self.min_chars, self.max_chars, self.max_symbol_ratio, self.max_dup_line_ratio,
                            self.max_top_ngram_ratio, self.top_ngram_n, tuple(self.languages))


class CorpusStats(BaseModel):
    """Counts per step; chunks - sum(removed) == records."""

    files: int = 0
    documents: int = 0
    chars_in: int = 0
    chunks: int = 0
    records: int = 0
    tokens: int = 0
    removed: dict[str, int] = Field(default_factory=dict)
    languages: dict[str, int] = Field(default_factory=dict)
    histogram: dict[str, list] = Field(default_factory=lambda: {"bins": [], "counts": []})
    elapsed_s: dict[str, float] = Field(default_factory=dict)
    skipped: list[dict[str, str]] = Field(default_factory=list)
    lsh: dict[str, int] = Field(default_factory=dict)


@dataclass
class Record:
    """One output line."""

    text: str
    source: str
    section: str
    tokens: int
    lang: str
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"text": self.text, "source": self.source, "section": self.section, "tokens": self.tokens,
                "lang": self.lang, **self.meta}


@dataclass
class CorpusResult:
    """Kept records and the run's statistics."""

    records: list[Record]
    stats: CorpusStats


class _Clock:
    def __init__(self) -> None:
        self.elapsed: dict[str, float] = {step: 0.0 for step in STEPS}

    def add(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.elapsed[step] += now - since
        return now


def _histogram(tokens: list[int], bins: int) -> dict[str, list]:
    if not tokens:
        return {"bins": [], "counts": []}
    counts, edges = np.histogram(np.asarray(tokens), bins=bins)
    return {"bins": [round(float(e), 2) for e in edges], "counts": [int(c) for c in counts]}


def _read_and_chunk(sources, options: CorpusOptions, count: CountTokens, report: Progress, clock: "_Clock",
                    stats: CorpusStats) -> tuple[list[str], list[tuple[str, str, int, dict]]]:
    """Read every file, normalize each document and cut it into chunks; returns texts and their origins."""
    texts: list[str] = []
    origin: list[tuple[str, str, int, dict]] = []  # source, section, tokens, meta per chunk
    t = time.perf_counter()
    files, skipped = list_files(sources)
    max_bytes = int(options.max_file_mb * 2**20)
    for done, item in enumerate(files, start=1):
        docs = read_source_file(item, text_field=options.text_field, csv_column=options.csv_column,
                                max_bytes=max_bytes)
        if docs is None:
            skipped.append(Skipped(item.source, "corpus.skip.empty"))
            docs = []
        else:
            stats.files += 1
        t = clock.add("read", t)
        for doc in docs:
            stats.documents += 1
            stats.chars_in += len(doc.text)
            kind = doc.meta.get("format", "text")
            clean = normalize(doc.text, markup=options.strip_markup and kind == "markdown")
            t = clock.add("normalize", t)
            extra = {k: v for k, v in doc.meta.items() if k != "format"}
            for piece in chunk_text(clean, max_tokens=options.max_tokens, count_tokens=count,
                                    headings=kind in ("markdown", "html")):
                texts.append(piece.text)
                origin.append((doc.source, piece.section, piece.tokens, extra))
            t = clock.add("chunk", t)
        report("read", done, len(files))
    clock.add("read", t)
    if not stats.documents:
        raise InvalidInputError("err.corpus_no_documents", suffixes=" ".join(sorted(FORMATS)))
    stats.skipped = [{"path": s.path, "reason": s.reason} for s in skipped]
    stats.chunks = len(texts)
    return texts, origin


def _prune(texts: list[str], options: CorpusOptions, report: Progress, clock: "_Clock",
           stats: CorpusStats) -> tuple[np.ndarray, list[str]]:
    """Exact dedup, quality filters, then near dedup; returns the kept mask and each chunk's language."""
    removed = Counter({"exact_dup": 0, "near_dup": 0, **{r: 0 for r in REASONS}})
    alive = np.ones(len(texts), dtype=bool)
    t = time.perf_counter()
    report("exact_dedup", 0, len(texts))
    if options.exact_dedup:
        dup = exact_duplicates(texts)
        removed["exact_dup"] = int(dup.sum())
        alive &= ~dup
    t = clock.add("exact_dedup", t)

    langs = [""] * len(texts)
    idx = np.nonzero(alive)[0]
    report("filter", 0, len(idx))
    reasons, found = assess([texts[i] for i in idx], options.rules())
    for i, reason, lang in zip(idx.tolist(), reasons, found):
        langs[i] = lang
        if reason:
            removed[reason] += 1
            alive[i] = False
    t = clock.add("filter", t)

    # Near dedup runs last so MinHash never spends time on chunks the filters drop.
    if options.near_dedup:
        idx = np.nonzero(alive)[0]
        report("near_dedup", 0, len(idx))
        near = near_duplicates([texts[i] for i in idx], options.near_threshold, num_perm=options.num_perm,
                               shingle_size=options.shingle_size, seed=options.seed,
                               progress=lambda done, total: report("near_dedup", done, total))
        removed["near_dup"] = int(near.duplicate.sum())
        alive[idx[near.duplicate]] = False
        stats.lsh = {"bands": near.bands, "rows": near.rows, "candidate_pairs": near.candidate_pairs,
                     "verified_pairs": near.verified_pairs}
    clock.add("near_dedup", t)
    stats.removed = dict(removed)
    return alive, langs


def run(sources: Sequence[str | Path], options: CorpusOptions | None = None, *,
        count_tokens: CountTokens | None = None, progress: Progress | None = None) -> CorpusResult:
    """Turn `sources` (files/folders) into deduplicated, filtered chunks with per-step statistics."""
    options = options or CorpusOptions()
    count = count_tokens or (tokenizer_counter(options.tokenizer) if options.tokenizer else approx_tokens)
    report = progress or (lambda step, done, total: None)
    clock = _Clock()
    stats = CorpusStats()
    texts, origin = _read_and_chunk(sources, options, count, report, clock, stats)
    alive, langs = _prune(texts, options, report, clock, stats)
    records = []
    for i in np.nonzero(alive)[0]:
        source, section, tokens, meta = origin[i]
        records.append(Record(texts[i], source, section, tokens, langs[i], dict(meta)))
    stats.records = len(records)
    stats.tokens = sum(r.tokens for r in records)
    stats.languages = dict(Counter(r.lang for r in records))
    stats.histogram = _histogram([r.tokens for r in records], options.hist_bins)
    stats.elapsed_s = {k: round(v, 4) for k, v in clock.elapsed.items()}
    stats.elapsed_s["total"] = round(sum(clock.elapsed.values()), 4)
    report("done", stats.records, stats.records)
    return CorpusResult(records, stats)


def write_jsonl(result: CorpusResult, out_path: str | Path) -> Path:
    """Write one JSON object per record (Chinese kept as text), atomically."""
    lines = [json.dumps(r.to_dict(), ensure_ascii=False) for r in result.records]
    return atomic_write_text(Path(out_path), "\n".join(lines) + ("\n" if lines else ""))


def output_path(settings: Settings, name: str) -> Path:
    """Where a corpus named `name` is written: <work_dir>/corpus/<name>.jsonl."""
    return settings.work_dir / "corpus" / f"{safe_name(name, 'corpus name')}.jsonl"
