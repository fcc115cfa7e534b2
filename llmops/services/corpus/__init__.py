"""Domain corpus pipeline: sources -> clean, chunked, deduplicated, filtered JSONL for pre-training."""

from .chunk import Chunk, CountTokens, approx_tokens, chunk_text, tokenizer_counter
from .dedup import (
    MinHasher,
    NearDuplicates,
    exact_duplicates,
    exact_key,
    lsh_params,
    near_duplicates,
)
from .normalize import normalize as normalize_text
from .normalize import strip_markdown
from .pipeline import (
    CorpusOptions,
    CorpusResult,
    CorpusStats,
    Record,
    output_path,
    run,
    write_jsonl,
)
from .quality import REASONS, QualityRules, assess, check, detect_language
from .readers import (
    Doc,
    Skipped,
    SourceFile,
    html_to_text,
    iter_documents,
    list_files,
    read_file,
    read_source_file,
    read_sources,
)

__all__ = [
    "REASONS",
    "Chunk",
    "CorpusOptions",
    "CorpusResult",
    "CorpusStats",
    "CountTokens",
    "Doc",
    "MinHasher",
    "NearDuplicates",
    "QualityRules",
    "Record",
    "Skipped",
    "SourceFile",
    "approx_tokens",
    "assess",
    "check",
    "chunk_text",
    "detect_language",
    "exact_duplicates",
    "exact_key",
    "html_to_text",
    "iter_documents",
    "list_files",
    "lsh_params",
    "near_duplicates",
    "normalize_text",
    "output_path",
    "read_file",
    "read_source_file",
    "read_sources",
    "run",
    "strip_markdown",
    "tokenizer_counter",
    "write_jsonl",
]
