"""Duplicate detection: exact (content hash) and near (MinHash LSH over character shingles, in numpy)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .batching import char_batches

_WHITESPACE_BYTES = b" \t\n\r\x0b\x0c"
_SENTINEL = "\uffff"  # separates texts when they are hashed together; normalize() removes it from inputs
_SENTINEL_UTF32 = _SENTINEL.encode("utf-32-le")
_BASE = np.uint64(0x100000001B3)
_BASE32 = np.uint32(0x01000193)
_BATCH_CHARS = 4_000_000  # characters hashed together (bounds memory)
_BLOCK = 4096  # shingles per MinHash block: 128 x 4096 x 8 bytes stays in cache


def exact_key(text: str) -> bytes:
    """Digest of `text` ignoring case and whitespace."""
    return hashlib.blake2b(text.lower().encode("utf-8").translate(None, _WHITESPACE_BYTES), digest_size=16).digest()


def exact_duplicates(texts: Sequence[str]) -> np.ndarray:
    """True for each text whose key equals that of an earlier text."""
    seen: set[bytes] = set()
    dup = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        key = exact_key(text)
        if key in seen:
            dup[i] = True
        else:
            seen.add(key)
    return dup


@functools.lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int = 128) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm that minimise false positives + false negatives at `threshold`."""
    s = (np.arange(1000) + 0.5) / 1000  # midpoints for the integrals
    below, above = s < threshold, s >= threshold
    best, best_err = (1, num_perm), np.inf
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            p = 1.0 - (1.0 - s**rows) ** bands  # probability of becoming a candidate
            err = (p[below].sum() + (1.0 - p[above]).sum()) / 1000
            if err < best_err:
                best, best_err = (bands, rows), err
    return best


class MinHasher:
    """MinHash signatures: `num_perm` hash functions h(x) = (a*x + b) mod 2^64 >> 32 over character k-gram hashes."""

    def __init__(self, num_perm: int = 128, shingle_size: int = 5, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.k = shingle_size
        self.a = (rng.integers(0, 2**64 - 1, size=(num_perm, 1), dtype=np.uint64, endpoint=True) | np.uint64(1))
        self.b = rng.integers(0, 2**64 - 1, size=(num_perm, 1), dtype=np.uint64, endpoint=True)

    def shingles(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(32-bit hashes of every character k-gram, whitespace removed and case folded; count per text)."""
        k = self.k
        lowered = [t.lower() for t in texts]
        # Texts are hashed together, each followed by k sentinels so that no window spans two texts.
        cp = np.frombuffer((_SENTINEL * k).join(lowered).encode("utf-32-le") + _SENTINEL_UTF32 * k, dtype=np.uint32)
        raw_lens = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
        raw_starts = np.zeros(len(lowered), dtype=np.int64)
        np.cumsum(raw_lens[:-1] + k, out=raw_starts[1:])
        keep = (cp > 32) & (cp != 0xA0) & (cp != 0x3000)
        kept = np.add.reduceat(keep.view(np.uint8), raw_starts, dtype=np.int64)  # text + its k sentinels
        lens = kept - k
        starts = np.zeros(len(lowered), dtype=np.int64)
        np.cumsum(kept[:-1], out=starts[1:])
        chars = cp[keep]
        windows = len(chars) - k + 1
        rolling = chars[:windows].copy()
        sentinel = chars == 0xFFFF
        bad = sentinel[:windows].copy()
        for i in range(1, k):
            rolling *= _BASE32
            rolling += chars[i:i + windows]
            bad |= sentinel[i:i + windows]
        valid = ~bad
        valid[starts[lens < k]] = True  # a text shorter than k is one shingle, padded with sentinels
        x = rolling[valid]
        # lowbias32 finaliser: spreads the polynomial hash over all 32 bits.
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
        return x, np.maximum(lens - k + 1, 1)

    def _minhash(self, x: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Signatures (len(counts), num_perm) of consecutive groups of shingle hashes."""
        n = len(counts)
        out = np.empty((self.num_perm, n), dtype=np.uint64)
        buf = np.empty((self.num_perm, _BLOCK), dtype=np.uint64)
        ends = np.cumsum(counts)
        starts = ends - counts
        i = 0
        while i < n:
            lo = int(starts[i])
            if counts[i] > _BLOCK:  # one long text: fold its blocks together
                acc = np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
                for s in range(lo, int(ends[i]), _BLOCK):
                    xb = x[s:min(s + _BLOCK, int(ends[i]))]
                    view = buf[:, :len(xb)]
                    np.multiply(self.a, xb, out=view)
                    view += self.b
                    np.minimum(acc, view.min(axis=1), out=acc)
                out[:, i] = acc
                i += 1
                continue
            j = int(np.searchsorted(ends, lo + _BLOCK, side="right"))  # texts i..j-1 fit in one block
            hi = int(ends[j - 1])
            view = buf[:, :hi - lo]
            np.multiply(self.a, x[lo:hi], out=view)  # 32-bit x times 64-bit a, wrapping mod 2^64
            view += self.b
            out[:, i:j] = np.minimum.reduceat(view, starts[i:j] - lo, axis=1)
            i = j
        return (out >> np.uint64(32)).astype(np.uint32).T.copy()

    def signatures(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """MinHash signatures, shape (len(texts), num_perm), uint32."""
        sigs = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        for i, j in char_batches(texts, _BATCH_CHARS):
            x, counts = self.shingles(texts[i:j])
            sigs[i:j] = self._minhash(x, counts)
            if progress:
                progress(j, len(texts))
        return sigs


@dataclass(frozen=True)
class NearDuplicates:
    """Outcome of near-duplicate detection: which texts to drop, and the kept text each one duplicates."""

    duplicate: np.ndarray  # bool per text
    representative: np.ndarray  # index of the kept (first) text of its cluster
    bands: int
    rows: int
    candidate_pairs: int
    verified_pairs: int


def candidate_pairs(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Unique pairs (i < j), shape (m, 2), that share at least one LSH band bucket."""
    n = len(sigs)
    codes = []
    for band in range(bands):
        cols = sigs[:, band * rows:(band + 1) * rows].astype(np.uint64)
        key = np.zeros(n, dtype=np.uint64)
        for c in range(rows):
            key *= _BASE
            key += cols[:, c]
            key ^= key >> np.uint64(29)
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        same = np.empty(n, dtype=bool)
        same[0] = False
        np.equal(sorted_key[1:], sorted_key[:-1], out=same[1:])
        if not same.any():
            continue
        # Each member pairs with its bucket's first (lowest) index and with the member before it.
        first_pos = np.maximum.accumulate(np.where(same, 0, np.arange(n)))
        pos = np.nonzero(same)[0]
        members = order[pos]
        for other in (order[first_pos[pos]], order[pos - 1]):
            lo, hi = np.minimum(members, other), np.maximum(members, other)
            codes.append(lo.astype(np.int64) * n + hi)
    if not codes:
        return np.empty((0, 2), dtype=np.int64)
    unique = np.unique(np.concatenate(codes))
    return np.stack([unique // n, unique % n], axis=1)


def estimated_jaccard(sigs: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Fraction of equal signature positions for each pair."""
    out = np.empty(len(pairs), dtype=np.float64)
    for s in range(0, len(pairs), 65536):
        p = pairs[s:s + 65536]
        out[s:s + len(p)] = (sigs[p[:, 0]] == sigs[p[:, 1]]).mean(axis=1)
    return out


def clusters(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of the pair graph; each item's label is the lowest index in its component."""
    labels = np.arange(n)
    if len(pairs) == 0:
        return labels
    a, b = pairs[:, 0], pairs[:, 1]
    while True:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def near_duplicates(texts: Sequence[str], threshold: float = 0.8, *, num_perm: int = 128, shingle_size: int = 5,
                    seed: int = 1, progress: Callable[[int, int], None] | None = None) -> NearDuplicates:
    """Find near-duplicates: LSH candidates verified by estimated Jaccard >= threshold; the first of a cluster stays."""
    n = len(texts)
    bands, rows = lsh_params(threshold, num_perm)
    if n < 2:
        return NearDuplicates(np.zeros(n, bool), np.arange(n), bands, rows, 0, 0)
    sigs = MinHasher(num_perm, shingle_size, seed).signatures(texts, progress)
    pairs = candidate_pairs(sigs, bands, rows)
    verified = pairs[estimated_jaccard(sigs, pairs) >= threshold] if len(pairs) else pairs
    labels = clusters(n, verified)
    return NearDuplicates(labels != np.arange(n), labels, bands, rows, len(pairs), len(verified))
