"""The generation half of the Data studio: corpus build, instruction data (rules or an LLM), mock preferences."""

from .common import (
    CorpusChunk,
    EmptyGeneration,
    GenResult,
    dedup_pairs,
    instruction_key,
    load_chunks,
)
from .corpus_build import (
    PRESET,
    CorpusBuild,
    build_corpus,
    preset_sources,
    resolve_sources,
)
from .endpoint import Endpoint, Secret
from .llm import GenProgress, LLMGenOptions, generate_llm, llm_pairs
from .mockprefs import (
    DEGRADED,
    REFERENCE,
    MockPrefs,
    degrade,
    mock_prefs,
    read_pairs,
    resolve_sft,
)
from .prompts import build_messages, parse_pairs
from .rules import RulesOptions, generate_rules, rule_pairs, trim_answer

__all__ = [
    "DEGRADED",
    "PRESET",
    "REFERENCE",
    "CorpusBuild",
    "CorpusChunk",
    "EmptyGeneration",
    "Endpoint",
    "GenProgress",
    "GenResult",
    "LLMGenOptions",
    "MockPrefs",
    "RulesOptions",
    "Secret",
    "build_corpus",
    "build_messages",
    "dedup_pairs",
    "degrade",
    "generate_llm",
    "generate_rules",
    "instruction_key",
    "llm_pairs",
    "load_chunks",
    "mock_prefs",
    "parse_pairs",
    "preset_sources",
    "read_pairs",
    "resolve_sft",
    "resolve_sources",
    "rule_pairs",
    "trim_answer",
]
