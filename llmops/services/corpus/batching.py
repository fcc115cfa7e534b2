"""Split a list of texts into consecutive batches of bounded total length."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def char_batches(texts: Sequence[str], max_chars: int) -> Iterator[tuple[int, int]]:
    """Yield (start, end) index ranges whose texts total at most `max_chars` (a longer text goes alone)."""
    i = 0
    while i < len(texts):
        j, size = i, 0
        while j < len(texts) and (j == i or size + len(texts[j]) <= max_chars):
            size += len(texts[j])
            j += 1
        yield i, j
        i = j
