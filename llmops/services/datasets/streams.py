"""Text dataset files parsed chunk by chunk: rows are yielded as they are read, each with the line it starts on.

Memory grows with the longest row allowed (`max_chars`), never with the file: a longer line is
reported as a problem of that line and skipped without ever being held whole.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator

from .records import DEFAULT_CSV_FIELD_LIMIT, DEFAULT_MAX_CHARS, Issue, _json_issue, type_name

Item = tuple[int, object] | Issue  # a row with its line, or a problem
_WS = re.compile(r"[ \t\n\r]*")


def _mb(chars: int) -> float:
    return round(chars / 2**20, 2)


def lines(chunks: Iterable[str], max_chars: int, keep_ends: bool = False) -> Iterator[tuple[int, str | None]]:
    """(number, line) for every line split on '\\n' only; None stands for a line over `max_chars`."""
    number, parts, size, too_long = 1, [], 0, False
    for chunk in chunks:
        start = 0
        while True:
            newline = chunk.find("\n", start)
            piece = chunk[start:] if newline < 0 else chunk[start:newline + 1 if keep_ends else newline]
            if not too_long:
                size += len(piece)
                too_long = size > max_chars
                if too_long:
                    parts = []  # dropped at once: a line over the limit is never held whole
                else:
                    parts.append(piece)
            if newline < 0:
                break
            yield number, None if too_long else "".join(parts)
            number, parts, size, too_long, start = number + 1, [], 0, False, newline + 1
    if parts or too_long:
        yield number, None if too_long else "".join(parts)


class RowStream:
    """The rows of one text file; each iteration reads the file again through `chunks()`."""

    unit = "line"

    def __init__(self, chunks: Callable[[], Iterable[str]], suffix: str, *,
                 csv_field_limit: int = DEFAULT_CSV_FIELD_LIMIT, max_chars: int = DEFAULT_MAX_CHARS):
        self.chunks, self.suffix = chunks, suffix
        self.csv_field_limit, self.max_chars = csv_field_limit, max_chars
        self.fatal = False  # set when a problem stopped the reading; the rest of the file was not read

    def __iter__(self) -> Iterator[Item]:
        self.fatal = False
        parse = {".jsonl": self._jsonl, ".json": self._json, ".csv": self._csv}.get(self.suffix, self._txt)
        return parse()

    def _stop(self, issue: Issue) -> Issue:
        self.fatal = True
        return issue

    def _too_long(self, line: int) -> Issue:
        return Issue(line, "ds.r_too_long", {"limit_mb": _mb(self.max_chars)})

    def _jsonl(self) -> Iterator[Item]:
        first = True
        for number, line in lines(self.chunks(), self.max_chars):
            if line is None:
                yield self._too_long(number)
                first = False
                continue
            stripped = line.strip()
            if not stripped:
                continue
            if first and stripped.startswith("["):  # a JSON array saved as .jsonl
                yield self._stop(Issue(number, "ds.r_jsonl_array"))
                return
            first = False
            try:
                row = json.loads(stripped)
            except json.JSONDecodeError as exc:
                yield _json_issue(stripped, exc, number)
                continue
            if isinstance(row, list):
                yield Issue(number, "ds.r_jsonl_array")
            elif not isinstance(row, dict):
                yield Issue(number, "ds.r_not_object", {"found": type_name(row)})
            else:
                yield number, row

    def _txt(self) -> Iterator[Item]:
        """One row per paragraph when blank lines separate multi-line blocks, else one per line."""
        by_paragraph = _paragraphs(self.chunks(), self.max_chars)
        block: list[str] | None = None  # the paragraph being read; None once it went over the limit
        in_block, start, size = False, 0, 0
        for number, line in lines(self.chunks(), self.max_chars):
            text = None if line is None else line.rstrip("\r")
            blank = text is not None and not text.strip()
            if not by_paragraph:
                if text is None:
                    yield self._too_long(number)
                elif not blank:
                    yield number, {"text": text.strip()}
                continue
            if blank:
                if in_block:
                    yield self._paragraph(start, block)
                in_block = False
                continue
            if not in_block:
                in_block, start, block, size = True, number, [], 0
            if block is not None:
                size += self.max_chars + 1 if text is None else len(text) + 1
                if size > self.max_chars:
                    block = None
                else:
                    block.append(text)
        if in_block:
            yield self._paragraph(start, block)

    def _paragraph(self, start: int, block: list[str] | None) -> Item:
        return self._too_long(start) if block is None else (start, {"text": "\n".join(block).strip()})

    def _csv(self) -> Iterator[Item]:
        """A header row, then one row per record; quoted fields may span lines (a row is numbered by its first)."""
        # The module-wide limit only ever grows here; each field is also checked against this stream's limit.
        csv.field_size_limit(max(csv.field_size_limit(), self.csv_field_limit + 1))
        long_line: list[int] = []
        reader = csv.reader(_csv_lines(self.chunks(), self.max_chars, long_line), strict=True)
        header: list[str] | None = None
        start, limit_mb = 1, _mb(self.csv_field_limit)
        while True:
            try:
                values = next(reader)
            except StopIteration:
                if long_line:
                    yield self._stop(self._too_long(long_line[0]))
                return
            except csv.Error as exc:
                if long_line:  # the reader met the end of what it was given: a line over the limit
                    yield self._stop(self._too_long(long_line[0]))
                    return
                large = "field larger" in str(exc)
                yield self._stop(Issue(start, "ds.r_csv_field_too_large" if large else "ds.r_csv",
                                       {"limit_mb": limit_mb} if large else {"detail": str(exc)}))
                return
            line, start = start, reader.line_num + 1
            if not values or all(not v.strip() for v in values) and len(values) == 1:
                continue  # blank line
            if any(len(v) > self.csv_field_limit for v in values):
                yield Issue(line, "ds.r_csv_field_too_large", {"limit_mb": limit_mb})
                continue
            if header is None:
                header = values
                bad = [name for i, name in enumerate(header) if not name.strip() or name in header[:i]]
                if bad:
                    yield self._stop(Issue(line, "ds.r_csv_header", {"columns": ", ".join(repr(b) for b in bad)}))
                    return
                continue
            if len(values) != len(header):
                yield Issue(line, "ds.r_csv_fields", {"expected": len(header), "found": len(values)})
                continue
            yield line, dict(zip(header, values))

    def _json(self) -> Iterator[Item]:
        """A top-level array of objects, decoded element by element from a sliding buffer."""
        buf = _Buffer(self.chunks(), self.max_chars)
        if not buf.skip_ws():
            return
        if buf.text[buf.pos] != "[":
            yield self._stop(self._not_array(buf))
            return
        buf.pos += 1
        if buf.skip_ws() and buf.text.startswith("]", buf.pos):
            buf.pos += 1
            yield from self._after_array(buf)
            return
        while True:
            line = buf.line_at(buf.pos)
            value = buf.value()
            if isinstance(value, Issue):
                yield self._stop(value)
                return
            yield (line, value) if isinstance(value, dict) else Issue(line, "ds.r_not_object",
                                                                      {"found": type_name(value)})
            more = buf.skip_ws()
            if more and buf.text.startswith(",", buf.pos):
                comma = buf.line_at(buf.pos)  # its line now: reading on may drop the text before it
                buf.pos += 1
                if buf.skip_ws() and buf.text.startswith("]", buf.pos):
                    yield self._stop(Issue(comma, "ds.r_trailing_comma"))
                    return
                continue
            if more and buf.text.startswith("]", buf.pos):
                buf.pos += 1
                yield from self._after_array(buf)
                return
            detail = "expecting ',' or ']' after an element" if more else "unexpected end of file"
            yield self._stop(Issue(buf.line_at(buf.pos), "ds.r_json", {"detail": detail}))
            return

    def _after_array(self, buf: _Buffer) -> Iterator[Item]:
        if buf.skip_ws():
            yield self._stop(Issue(buf.line_at(buf.pos), "ds.r_json_extra"))

    def _not_array(self, buf: _Buffer) -> Issue:
        """The issue for a file whose top level is not an array: rows as JSON Lines, one object, or bad JSON."""
        start = buf.line_at(buf.pos)
        value = buf.value()
        if isinstance(value, Issue):
            return value
        if not buf.skip_ws():
            return Issue(start, "ds.r_json_top", {"found": type_name(value)})
        line = buf.line_at(buf.pos)
        rest = buf.text[buf.pos:].strip()
        while rest == "," and buf.more():
            rest = buf.text[buf.pos:].strip()
        if rest == ",":
            return Issue(line, "ds.r_trailing_comma")
        return Issue(line, "ds.r_json_lines_in_json")


class _Buffer:
    """Decoded text read chunk by chunk; consumed text is dropped and its newlines counted."""

    def __init__(self, chunks: Iterable[str], max_chars: int):
        self.chunks, self.max_chars = iter(chunks), max_chars
        self.text, self.pos, self.eof = "", 0, False
        self.base, self.column = 1, 0  # the line number and column of text[0]
        self._counted, self._line = 0, 1  # line numbers found by scanning forwards only
        self.decoder = json.JSONDecoder()

    def more(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at the end of the file."""
        if self.eof:
            return False
        chunk = next(self.chunks, None)
        if chunk is None:
            self.eof = True
            return False
        line_start = self.text.rfind("\n", 0, self.pos) + 1
        self.column = self.pos - line_start if line_start else self.column + self.pos
        self.base = self.line_at(self.pos)
        self.text, self.pos, self._counted, self._line = self.text[self.pos:] + chunk, 0, 0, self.base
        return True

    def line_at(self, pos: int) -> int:
        if pos < self._counted:
            return self.base + self.text.count("\n", 0, pos)
        self._line += self.text.count("\n", self._counted, pos)
        self._counted = pos
        return self._line

    def skip_ws(self) -> bool:
        """Move past whitespace; False when the file ends first."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return True
            if not self.more():
                return False

    def value(self) -> object:
        """The JSON value at pos (pos moves past it), or an Issue when it is invalid or too large."""
        ahead = 1  # chunks to read before the next try; doubled, so a big element is re-parsed only a few times
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                # Cut by the buffer's end, the value may go on in the next chunk; an error well inside it is real.
                cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.text) - 16
                if cut and len(self.text) - self.pos > self.max_chars:
                    return Issue(self.line_at(self.pos), "ds.r_too_long", {"limit_mb": _mb(self.max_chars)})
                if cut and self.more():
                    for _ in range(ahead - 1):
                        if len(self.text) - self.pos > self.max_chars or not self.more():
                            break
                    ahead *= 2
                    continue
                if exc.lineno == 1:  # the buffer's first line may have begun in an earlier chunk
                    exc.colno += self.column
                issue = _json_issue(self.text, exc)
                return Issue(issue.line + self.base - 1, issue.key, issue.params)
            if not isinstance(value, (dict, list, str)) and len(self.text) - end < 64 and self.more():
                continue  # a number or literal ('3.', '1e') may go on in the next chunk
            if end - self.pos > self.max_chars:  # refused whatever the chunk size that happened to fit it
                return Issue(self.line_at(self.pos), "ds.r_too_long", {"limit_mb": _mb(self.max_chars)})
            self.pos = end
            return value


def _paragraphs(chunks: Iterable[str], max_chars: int) -> bool:
    """True when the text has several blocks and one of them spans lines (then each block is a row)."""
    blocks, multi, current = 0, False, 0
    for _, line in lines(chunks, max_chars):
        if line is not None and not line.rstrip("\r").strip():
            current = 0
            continue
        current += 1
        blocks += current == 1
        multi = multi or current > 1
        if multi and blocks > 1:
            return True
    return False


def _csv_lines(chunks: Iterable[str], max_chars: int, long_line: list[int]) -> Iterator[str]:
    """Lines with their ends for the csv reader; the reading stops at a line over the limit."""
    for number, line in lines(chunks, max_chars, keep_ends=True):
        if line is None:
            long_line.append(number)
            return
        yield line
