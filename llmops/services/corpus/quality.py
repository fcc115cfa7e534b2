"""Quality filters for chunks: length, symbol ratio, repetition, language; each refusal has a reason.

Character statistics are computed for many chunks at once with numpy (one class lookup per character),
so filtering keeps pace with normalising and chunking.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .batching import char_batches
from .normalize import split_fences

REASONS = ("too_short", "too_long", "symbol_ratio", "dup_lines", "top_ngram", "language")
LANGUAGES = ("zh", "en", "other")

# Character classes.
SPACE, HAN, LATIN, LETTER, DIGIT, PUNCT, SYMBOL, OTHER = range(8)
_N_CLASSES = 8
# Ordinary prose punctuation (Latin and CJK) is not counted as a symbol.
_PROSE_PUNCT = set(".,;:!?'\"()-\u2013\u2014/%°，。、：；！？（）“”‘’《》【】…·～")
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_LATIN_RANGES = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
_MIN_NGRAM_TOKENS = 30
_BATCH_CHARS = 1_000_000  # characters profiled together (small batches stay in cache)
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class QualityRules:
    """Thresholds; a chunk failing any one is dropped with that rule's reason."""

    min_chars: int = 20
    max_chars: int = 100_000
    max_symbol_ratio: float = 0.3
    max_dup_line_ratio: float = 0.3
    max_top_ngram_ratio: float = 0.2
    top_ngram_n: int = 3
    languages: tuple[str, ...] = ("zh", "en")


@functools.lru_cache(maxsize=1)
def _class_table() -> np.ndarray:
    """Class of every BMP code point."""
    table = np.full(0x10000, OTHER, dtype=np.uint8)
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if ch.isspace():
            table[cp] = SPACE
        elif cat[0] == "L":
            table[cp] = LETTER
        elif cat[0] == "N":
            table[cp] = DIGIT
        elif ch in _PROSE_PUNCT:
            table[cp] = PUNCT
        elif cat[0] in "PS" and ch != "_":
            table[cp] = SYMBOL
    for lo, hi in _LATIN_RANGES:
        sub = table[lo:hi + 1]
        sub[sub == LETTER] = LATIN
    for lo, hi in _HAN_RANGES:
        table[lo:hi + 1] = HAN
    return table


def _classes(cp: np.ndarray) -> np.ndarray:
    cls = _class_table()[np.minimum(cp, 0xFFFF)]
    astral = cp > 0xFFFF
    if astral.any():
        a = cp[astral]
        cls[astral] = np.where((a >= 0x20000) & (a <= 0x3FFFF), HAN,
                               np.where((a >= 0x1F000) & (a <= 0x1FAFF), SYMBOL, LETTER))
    return cls


def prose(text: str) -> str:
    """Text without its fenced code blocks (code has its own symbol and repetition profile)."""
    return "".join(piece for code, piece in split_fences(text) if not code)


@dataclass(frozen=True)
class Profile:
    """Per-text statistics behind the filters."""

    counts: np.ndarray  # (n, classes) characters per class
    top_ngram: np.ndarray  # (n,) share of token characters covered by the most repeated token n-gram

    def languages(self) -> list[str]:
        han, latin, other = self.counts[:, HAN], self.counts[:, LATIN], self.counts[:, LETTER]
        letters = han + latin + other
        zh = (letters > 0) & (han >= 0.3 * letters) & (han >= other)
        en = (letters > 0) & ~zh & (latin >= 0.5 * letters)
        return ["zh" if z else "en" if e else "other" for z, e in zip(zh.tolist(), en.tolist())]

    def symbol_ratios(self) -> np.ndarray:
        visible = self.counts.sum(axis=1) - self.counts[:, SPACE]
        return np.divide(self.counts[:, SYMBOL], visible, out=np.zeros(len(visible)), where=visible > 0)


def _top_ngram(cp: np.ndarray, cls: np.ndarray, seg: np.ndarray, n_texts: int, n: int) -> np.ndarray:
    """Coverage of the most repeated token n-gram per text; a token is one Han character or a run of letters/digits."""
    out = np.zeros(n_texts)
    han = cls == HAN
    word = (cls == LATIN) | (cls == LETTER) | (cls == DIGIT)
    prev_word = np.zeros_like(word)
    prev_word[1:] = word[:-1] & (seg[1:] == seg[:-1])
    start = han | (word & ~prev_word)
    pos = np.nonzero(han | word)[0]
    if len(pos) == 0:
        return out
    group_starts = np.nonzero(start[pos])[0]
    tok_len = np.diff(np.append(group_starts, len(pos)))
    tok_seg = seg[pos[group_starts]]
    offset = np.arange(len(pos)) - np.repeat(group_starts, tok_len)
    weights = (np.arange(1, 65, dtype=np.uint64) * _MIX) | np.uint64(1)
    tok_hash = np.add.reduceat(cp[pos].astype(np.uint64) * weights[offset & 63], group_starts)
    tok_hash ^= tok_hash >> np.uint64(31)
    tok_hash *= _MIX
    per_text = np.bincount(tok_seg, minlength=n_texts)
    chars = np.bincount(tok_seg, weights=tok_len, minlength=n_texts)
    m = len(tok_hash) - n + 1
    if m <= 0:
        return out
    gram = tok_hash[:m].copy()
    length = tok_len[:m].copy()
    for k in range(1, n):
        gram = (gram * np.uint64(0x100000001B3)) ^ tok_hash[k:k + m]
        length += tok_len[k:k + m]
    valid = tok_seg[:m] == tok_seg[n - 1:n - 1 + m]
    if not valid.any():
        return out
    # One sortable key per n-gram: text (22 bits) | gram hash (30 bits) | gram length (12 bits).
    key = (tok_seg[:m][valid].astype(np.uint64) << np.uint64(42)) | ((gram[valid] >> np.uint64(34)) << np.uint64(12))
    key |= np.minimum(length[valid], 4095).astype(np.uint64)
    key.sort()
    new_run = np.ones(len(key), dtype=bool)
    new_run[1:] = key[1:] != key[:-1]
    run_starts = np.nonzero(new_run)[0]
    run_count = np.diff(np.append(run_starts, len(key)))
    run_key = key[run_starts]
    coverage = np.where(run_count >= 2, run_count * (run_key & np.uint64(4095)).astype(np.int64), 0)
    run_seg = (run_key >> np.uint64(42)).astype(np.int64)
    seg_first = np.nonzero(np.append(True, run_seg[1:] != run_seg[:-1]))[0]
    best = np.zeros(n_texts)
    best[run_seg[seg_first]] = np.maximum.reduceat(coverage, seg_first)
    enough = (per_text >= max(_MIN_NGRAM_TOKENS, n + 1)) & (chars > 0)
    out[enough] = np.minimum(1.0, best[enough] / chars[enough])
    return out


def profile(texts: Sequence[str], n: int = 3) -> Profile:
    """Class counts and top n-gram coverage of each text (case-folded), computed in batches."""
    counts = np.zeros((len(texts), _N_CLASSES), dtype=np.int64)
    top = np.zeros(len(texts))
    for i, j in char_batches(texts, _BATCH_CHARS):
        lowered = [t.lower() for t in texts[i:j]]
        cp = np.frombuffer("".join(lowered).encode("utf-32-le"), dtype=np.uint32)
        lens = np.fromiter(map(len, lowered), dtype=np.int64, count=j - i)
        seg = np.repeat(np.arange(j - i), lens)
        cls = _classes(cp)
        counts[i:j] = np.bincount(seg * _N_CLASSES + cls, minlength=(j - i) * _N_CLASSES).reshape(j - i, _N_CLASSES)
        top[i:j] = _top_ngram(cp, cls, seg, j - i, n)
    return Profile(counts, top)


def dup_line_ratio(text: str) -> float:
    """Share of non-empty lines that repeat an earlier line."""
    lines = [line for line in (raw.strip() for raw in text.split("\n")) if line]
    if len(lines) < 2:
        return 0.0
    return 1.0 - len(set(lines)) / len(lines)


def assess(texts: Sequence[str], rules: QualityRules = QualityRules()) -> tuple[list[str | None], list[str]]:
    """(first failed reason or None, detected language) for each text; code blocks are left out of the
    symbol, repetition and language measures (language falls back to the code when there is no prose)."""
    bodies = [prose(t) for t in texts]
    has_prose = [bool(b.strip()) for b in bodies]
    bodies = [b if ok else t for b, ok, t in zip(bodies, has_prose, texts)]
    prof = profile(bodies, rules.top_ngram_n)
    langs = prof.languages()
    symbols = prof.symbol_ratios()
    reasons: list[str | None] = []
    for i, text in enumerate(texts):
        size = len(text)
        if size < rules.min_chars:
            reasons.append("too_short")
        elif size > rules.max_chars:
            reasons.append("too_long")
        elif has_prose[i] and symbols[i] > rules.max_symbol_ratio:
            reasons.append("symbol_ratio")
        elif has_prose[i] and dup_line_ratio(bodies[i]) > rules.max_dup_line_ratio:
            reasons.append("dup_lines")
        elif has_prose[i] and prof.top_ngram[i] > rules.max_top_ngram_ratio:
            reasons.append("top_ngram")
        elif langs[i] not in rules.languages:
            reasons.append("language")
        else:
            reasons.append(None)
    return reasons, langs


def check(text: str, rules: QualityRules = QualityRules()) -> tuple[str | None, str]:
    """(first failed reason or None, detected language) for one text."""
    reasons, langs = assess([text], rules)
    return reasons[0], langs[0]


def detect_language(text: str) -> str:
    """'zh' when Han characters are >= 30% of letters, 'en' when Latin letters are half or more, else 'other'."""
    return profile([text]).languages()[0]


def symbol_ratio(text: str) -> float:
    """Share of non-space characters that are symbols (not letters, digits, CJK or prose punctuation)."""
    return float(profile([text]).symbol_ratios()[0])


def top_ngram_ratio(text: str, n: int = 3) -> float:
    """Share of token characters covered by the most repeated token n-gram (Gopher-style repetition)."""
    return float(profile([text], n).top_ngram[0])
