"""Split normalised text into chunks under a token budget, by Markdown headings, paragraphs, then sentences."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import InvalidInputError
from .normalize import split_fences

CountTokens = Callable[[str], int]

# Matched against "\n" + text: a literal first character lets the regex engine skip ahead quickly.
_HEADING = re.compile(r"\n(#{1,6})[ \t]+([^\n]*?[^\s#][^\n]*?)(?:[ \t]+#+)?[ \t]*(?=\n|\Z)")
# A sentence with its end mark (and closing quotes/brackets) and the space after it.
_SENTENCE = re.compile(r".+?(?:[.!?]+[\"')\]]*(?=\s|\Z)|[。！？]+[”’」』）)]*|\Z)\s*", re.DOTALL)
_SOFT_BREAKS = (" ", "，", "；", "、", ",", ";")
# Whitespace bytes -> b" ", everything else -> b"x", so that words are the b" x" boundaries.
_WORD_MARKS = bytes(32 if b in b" \t\n\r\x0b\x0c" else 120 for b in range(256))


def approx_tokens(text: str) -> int:
    """Fast token estimate: each non-ASCII (CJK) character counts 1, each ASCII word about 1.3."""
    ascii_part = text.encode("ascii", "ignore")
    non_ascii = len(text) - len(ascii_part)
    if not ascii_part:
        return non_ascii
    marks = ascii_part.translate(_WORD_MARKS)
    words = marks.count(b" x") + (marks[:1] == b"x")
    return non_ascii + (words * 13 + 9) // 10


def tokenizer_counter(model_path: str | Path) -> CountTokens:
    """A counter backed by the Hugging Face tokenizer at `model_path`; loaded on first use."""
    lock = threading.Lock()
    holder: list = []

    def load():
        with lock:
            if not holder:
                try:
                    from transformers import AutoTokenizer

                    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
                except (OSError, ValueError, KeyError, ImportError) as exc:
                    raise InvalidInputError("err.corpus_tokenizer", model=str(model_path), reason=str(exc)[:300]) from None
                tokenizer.model_max_length = 10**12  # counting only; silence the "sequence too long" warning
                holder.append(tokenizer)
        return holder[0]

    def count(text: str) -> int:
        tokenizer = holder[0] if holder else load()
        return len(tokenizer.encode(text, add_special_tokens=False))

    count.model_path = str(model_path)  # type: ignore[attr-defined]
    return count


@dataclass(frozen=True)
class Chunk:
    """A piece of one document: its text, heading path ("Title > Section") and token count."""

    text: str
    section: str
    tokens: int


def _blocks(text: str, headings: bool) -> list[tuple[str, object]]:
    """('h', (level, title)), ('p', paragraph) and ('c', fenced code) in document order.

    Paragraphs are separated by a blank line ("\n\n", as normalize() leaves them).
    """
    out: list[tuple[str, object]] = []
    for code, piece in split_fences(text):
        if code:
            out.append(("c", piece))
            continue
        if headings and "#" in piece:
            parts = _HEADING.split("\n" + piece)
        else:
            parts = [piece]
        for i in range(0, len(parts), 3):
            if i:
                out.append(("h", (len(parts[i - 2]), parts[i - 1])))
            for para in parts[i].split("\n\n"):
                para = para.strip()
                if para:
                    out.append(("p", para))
    return out


def _emit(parts: list[tuple[str, int]], sep: str, budget: int, count: CountTokens) -> list[tuple[str, int]]:
    """Join parts; if the counter is not additive and the join runs over, halve and retry."""
    if len(parts) == 1:
        return parts
    text = sep.join(p for p, _ in parts)
    n = count(text)
    if n <= budget:
        return [(text, n)]
    mid = len(parts) // 2
    return _emit(parts[:mid], sep, budget, count) + _emit(parts[mid:], sep, budget, count)


def _pack(items: list[tuple[str, int]], sep: str, budget: int, count: CountTokens) -> list[tuple[str, int]]:
    """Greedy packing of items (each within budget) into joined pieces within budget."""
    out: list[tuple[str, int]] = []
    current: list[tuple[str, int]] = []
    total = 0
    for item in items:
        if current and total + item[1] > budget:
            out.extend(_emit(current, sep, budget, count))
            current, total = [], 0
        current.append(item)
        total += item[1]
    if current:
        out.extend(_emit(current, sep, budget, count))
    return out


def _hard_split(text: str, budget: int, count: CountTokens) -> list[tuple[str, int]]:
    """Cut text with no usable boundary into pieces within budget, preferring spaces."""
    out = []
    while text:
        n = count(text)
        if n <= budget:
            out.append((text, n))
            break
        cut = max(1, int(len(text) * budget / n * 0.95))
        # Prefer a space or a CJK/Latin comma in the second half of the piece.
        soft = max(text.rfind(mark, cut // 2, cut) for mark in _SOFT_BREAKS)
        if soft > 0:
            cut = soft + (text[soft] != " ")
        while cut > 1 and count(text[:cut]) > budget:
            cut = max(1, int(cut * 0.8))
        piece = text[:cut].rstrip()
        if piece:
            out.append((piece, count(piece)))
        text = text[cut:].lstrip()
    return out


def _split_prose(text: str, budget: int, count: CountTokens, level: int = 0) -> list[tuple[str, int]]:
    """An over-long paragraph: by lines, then sentences (. ! ? 。！？), then hard cuts."""
    if level == 0:
        pieces, sep = text.split("\n"), "\n"
    elif level == 1:
        # Sentences keep their trailing space, so joining with "" restores the text (CJK needs no space).
        pieces, sep = [p for p in _SENTENCE.findall(text) if p.strip()], ""
    else:
        return _hard_split(text, budget, count)
    if len(pieces) <= 1:
        return _split_prose(text, budget, count, level + 1)
    items: list[tuple[str, int]] = []
    for piece in pieces:
        n = count(piece)
        if n <= budget:
            items.append((piece, n))
            continue
        sub = _split_prose(piece.strip(), budget, count, level + 1)
        if sep == "" and piece[-1:].isspace():
            sub[-1] = (sub[-1][0] + " ", sub[-1][1])  # keep the space before the next sentence
        items.extend(sub)
    return [(t.strip(), n if t == t.strip() else count(t.strip())) for t, n in _pack(items, sep, budget, count)]


def _split_code(block: str, budget: int, count: CountTokens) -> list[tuple[str, int]]:
    """An over-long fenced block: pieces of whole lines, each re-fenced so it stays valid Markdown."""
    lines = block.split("\n")
    opener = lines[0]
    mark = opener.lstrip()[0]
    fence = mark * (len(opener.lstrip()) - len(opener.lstrip().lstrip(mark)))
    closed = len(lines) > 1 and lines[-1].strip().startswith(fence)
    body = lines[1:-1] if closed else lines[1:]
    closer = lines[-1] if closed else fence
    overhead = count(f"{opener}\n{closer}") + 1
    room = budget - overhead
    if room < 8:
        return _hard_split(block, budget, count)
    items: list[tuple[str, int]] = []
    for line in body:
        n = count(line)
        items.extend([(line, n)] if n <= room else _hard_split(line, room, count))
    out = []
    for piece, _ in _pack(items, "\n", room, count):
        wrapped = f"{opener}\n{piece}\n{closer}"
        out.append((wrapped, count(wrapped)))
    return out


def _section_chunks(heads: list[str], blocks: list[tuple[str, str]], max_tokens: int,
                    count: CountTokens) -> list[tuple[str, int]]:
    """Chunks of one section: heading lines first, then its blocks packed up to the budget."""
    whole = "\n\n".join([*heads, *(b for _, b in blocks)])
    n = count(whole)
    if n <= max_tokens:  # the common case: one count for the whole section
        return [(whole, n)]
    head = "\n\n".join(heads)
    room = max_tokens - count(head) - 2 if heads else max_tokens  # what is left beside the heading
    units: list[tuple[str, int]] = []
    for i, (kind, block) in enumerate(blocks):
        n = count(block)
        if i == 0 and kind == "p" and n > room >= max(8, max_tokens // 4):
            units.extend(_split_prose(block, room, count))  # so that the heading fits with its first sentences
        elif n <= max_tokens:
            units.append((block, n))
        elif kind == "c":
            units.extend(_split_code(block, max_tokens, count))
        else:
            units.extend(_split_prose(block, max_tokens, count))
    if heads:
        joined = f"{head}\n\n{units[0][0]}"
        joined_n = count(joined)
        if joined_n <= max_tokens:  # keep the heading with the text it introduces
            units[0] = (joined, joined_n)
        else:
            head_n = count(head)
            units[:0] = [(head, head_n)] if head_n <= max_tokens else _hard_split(head, max_tokens, count)
    return _pack(units, "\n\n", max_tokens, count)


def chunk_text(text: str, *, max_tokens: int = 512, count_tokens: CountTokens = approx_tokens,
               headings: bool = True) -> list[Chunk]:
    """Chunks of normalised `text`: one section (heading) at a time, paragraphs packed up to `max_tokens`.

    A section's first chunk starts with its heading line(s), including those of parent sections that had no
    text of their own; fenced code is never cut unless one block alone exceeds the budget, in which case it is
    cut between lines and each piece re-fenced.
    """
    if max_tokens < 1:
        raise InvalidInputError("err.corpus_bad_budget", max_tokens=max_tokens)
    chunks: list[Chunk] = []
    path: list[tuple[int, str]] = []
    pending: list[tuple[int, str]] = []  # headings whose section has no body yet
    blocks: list[tuple[str, str]] = []
    section = ""

    def flush() -> None:
        nonlocal pending
        for piece, n in _section_chunks([t for _, t in pending], blocks, max_tokens, count_tokens):
            chunks.append(Chunk(piece, section, n))
        pending = []
        blocks.clear()

    for kind, value in _blocks(text, headings):
        if kind == "h":
            if blocks:
                flush()
            level, title = value  # type: ignore[misc]
            while path and path[-1][0] >= level:
                path.pop()
            pending = [h for h in pending if h[0] < level]
            path.append((level, title))
            pending.append((level, title))
            section = " > ".join(t for _, t in path)
        else:
            blocks.append((kind, value))  # type: ignore[arg-type]
    if blocks:
        flush()
    return chunks
