"""Metrics over texts beside LLaMA-Factory's: sacrebleu corpus BLEU, normalised exact match, label accuracy."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")
# Share of CJK characters (of all non-space ones) above which a set is tokenised as Chinese by sacrebleu.
CHINESE_SHARE = 0.1
CHOICES = "ABCD"
_CHOICE_PATTERNS = (
    re.compile(r"(?:answer|答案|选项|选择)\s*(?:is|是|为|應為|应为)?\s*[:：]?\s*[(（]?([A-D])(?![A-Za-z])", re.IGNORECASE),
    re.compile(r"^\s*[(（]?([A-D])(?![A-Za-z])"),
    re.compile(r"[(（]([A-D])[)）]"),
    re.compile(r"(?<![A-Za-z])([A-D])(?![A-Za-z])"),
)


def is_chinese(texts: Sequence[str]) -> bool:
    """True when CJK characters make up at least CHINESE_SHARE of the texts' non-space characters."""
    cjk = total = 0
    for text in texts:
        cjk += len(_CJK.findall(text))
        total += len(text) - len(_SPACE.findall(text))
    return total > 0 and cjk / total >= CHINESE_SHARE


def sacrebleu_tokenizer(references: Sequence[str]) -> str:
    """sacrebleu's tokenizer for a set: 'zh' for Chinese text, '13a' (its default) otherwise."""
    return "zh" if is_chinese(references) else "13a"


def corpus_sacrebleu(outputs: Sequence[str], references: Sequence[str]) -> tuple[float, list[float], str]:
    """The corpus BLEU of the set (its figure), sentence BLEU per sample, and sacrebleu's signature."""
    from sacrebleu.metrics import BLEU

    tokenize = sacrebleu_tokenizer(references)
    corpus = BLEU(tokenize=tokenize)
    result = corpus.corpus_score(list(outputs), [list(references)])
    sentence = BLEU(tokenize=tokenize, effective_order=True)
    per_sample = [sentence.sentence_score(o, [r]).score for o, r in zip(outputs, references)]
    return result.score, per_sample, str(corpus.get_signature())


def normalise(text: str) -> str:
    """Text as exact match compares it: NFKC (full/half width), case-folded, punctuation gone, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return _SPACE.sub(" ", text).strip()


def exact_match(output: str, reference: str) -> float:
    """100 when the normalised texts are equal, else 0."""
    return 100.0 if normalise(output) == normalise(reference) else 0.0


def extract_choice(output: str) -> str | None:
    """The choice letter (A-D) an answer gives: 'Answer: B', '答案是C', '(D)', a leading 'A.' or a lone letter."""
    text = unicodedata.normalize("NFKC", output)
    for pattern in _CHOICE_PATTERNS:
        found = pattern.search(text)
        if found:
            return found.group(1).upper()
    return None


def accuracy(output: str, label: str, mode: str = "auto", pattern: str | None = None) -> float:
    """100 when the output gives the label, else 0.

    Modes: 'choice' compares the extracted letter; 'regex' compares what `pattern` captures (its first group, or the
    whole match); 'contains' looks for the normalised label inside the normalised output; 'auto' is 'choice' for a
    label that is a single letter A-D, else 'contains'."""
    if mode == "auto":
        mode = "choice" if normalise(label).upper() in CHOICES and len(normalise(label)) == 1 else "contains"
    if mode == "choice":
        return 100.0 if extract_choice(output) == normalise(label).upper() else 0.0
    if mode == "regex":
        found = re.search(pattern or "", output)
        got = (found.group(1) if found.groups() else found.group(0)) if found else None
        return 100.0 if got is not None and normalise(got) == normalise(label) else 0.0
    wanted = normalise(label)
    return 100.0 if wanted and wanted in normalise(output) else 0.0
