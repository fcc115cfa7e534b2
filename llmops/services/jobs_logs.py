"""A job's console log as a viewer reads it: level of each line, search with highlights, a bounded tail, follow."""

from __future__ import annotations

import html
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInputError
from ..i18n import t
from .datasets.results import human_size

# Ranks; a filter shows its level and every level above it.
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
FILTERS = ("ALL", "INFO", "WARNING", "ERROR")
# A viewer reads at most this much of a log's end per refresh, however large the file grows.
WINDOW_BYTES = 1024 * 1024
MAX_LINES = 2000

# A level word where loggers put it: "[INFO|...", "INFO:root:", " - WARNING - ", "ERROR 12:00", "[W 12:00".
_MARKER = re.compile(r"^\s*(?:\[|\S*\s*[-|]\s*|\d[\d:,./\- ]*\s)?(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)"
                     r"\b")
_PY_WARNING = re.compile(r"\b\w*Warning: ")
# An exception printed on its own line ("RuntimeError: …", "Error: …"), outside any traceback.
_PY_ERROR = re.compile(r"^\w*(?:Error|Exception): ")
_TRACEBACK_START = "Traceback (most recent call last):"
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
_ALIASES = {"WARN": "WARNING", "CRITICAL": "ERROR", "FATAL": "ERROR"}


@dataclass(frozen=True)
class LogLine:
    """One line of a log and the level it counts as."""

    text: str
    level: str


@dataclass
class LogView:
    """What a viewer shows: the filtered lines of a log's tail and where in the file they came from."""

    path: str
    size: int
    start: int  # byte offset the lines were read from (0: the whole file)
    lines: list[LogLine] = field(default_factory=list)
    scanned: int = 0  # lines read before filtering
    matches: int = 0  # lines that contain the search text

    @property
    def truncated(self) -> bool:
        return self.start > 0


class LevelTracker:
    """Gives each line a level; a traceback counts as ERROR from its first line through its exception line."""

    def __init__(self) -> None:
        self.in_traceback = False
        self.last = "INFO"

    def level(self, line: str) -> str:
        """The level of `line`, given the lines seen before it."""
        stripped = line.strip()
        if stripped.startswith(_TRACEBACK_START):
            self.in_traceback = True
            self.last = "ERROR"
            return "ERROR"
        if self.in_traceback:
            # Frames and source lines are indented; the first unindented line is the exception, which ends it.
            if stripped and not line[:1].isspace() and not stripped.startswith(_CHAINED):
                self.in_traceback = False
            return "ERROR"
        if any(stripped.startswith(text) for text in _CHAINED):
            return "ERROR"
        marker = _MARKER.match(line)
        if marker:
            word = marker.group("level").upper()
            self.last = _ALIASES.get(word, word)
        elif _PY_ERROR.match(line):
            self.last = "ERROR"
        elif _PY_WARNING.search(line):
            self.last = "WARNING"
        elif not (line[:1].isspace() and stripped):
            self.last = "INFO"  # an indented line continues the record above it (a warning's source line)
        return self.last


def classify(lines: Iterable[str]) -> list[LogLine]:
    """Every line with its level."""
    tracker = LevelTracker()
    return [LogLine(line, tracker.level(line)) for line in lines]


def check_filter(level: str | None) -> str:
    """The filter name, upper-cased; an unknown one is refused."""
    name = (level or "ALL").upper()
    if name not in FILTERS:
        raise InvalidInputError("err.jobs_log_level", level=level, levels=", ".join(FILTERS))
    return name


def keep(line: LogLine, level: str, query: str) -> bool:
    """True when `line` passes the level filter and contains `query` (case-insensitive; '' matches all)."""
    if level != "ALL" and LEVELS[line.level] < LEVELS[level]:
        return False
    return not query or query.lower() in line.text.lower()


def last_frame(row: str) -> str:
    """A line as a terminal would leave it: of a progress bar's carriage-return frames, the last."""
    return row.rstrip("\r\n").rsplit("\r", 1)[-1]


def _lines_from(handle, start: int) -> Iterator[str]:
    """Lines from byte `start`; a window that starts inside a line skips that cut line."""
    if start:
        handle.seek(start - 1)
        if handle.read(1) != b"\n":
            handle.readline()
    else:
        handle.seek(0)
    for raw in handle:
        yield last_frame(raw.decode("utf-8", errors="replace"))


def view(path: Path | str, *, query: str = "", level: str = "ALL", window_bytes: int | None = WINDOW_BYTES,
         max_lines: int = MAX_LINES) -> LogView:
    """The last `max_lines` lines of the log's final `window_bytes` (None: the whole file, streamed) that pass."""
    level, path = check_filter(level), Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return LogView(str(path), 0, 0)
    start = 0 if window_bytes is None else max(0, size - window_bytes)
    result = LogView(str(path), size, start)
    kept: deque[LogLine] = deque(maxlen=max_lines)
    tracker = LevelTracker()
    with open(path, "rb") as handle:
        for text in _lines_from(handle, start):
            line = LogLine(text, tracker.level(text))
            result.scanned += 1
            if query and query.lower() in text.lower():
                result.matches += 1
            if keep(line, level, query):
                kept.append(line)
    result.lines = list(kept)
    return result


@dataclass
class Cursor:
    """Where a follower stopped reading: the byte after the last complete line, and the level state there."""

    offset: int = 0
    tracker: LevelTracker = field(default_factory=LevelTracker)


def read_new(path: Path | str, cursor: Cursor) -> list[LogLine]:
    """Complete lines appended since `cursor` (a line still being written waits for its newline); a log that
    shrank (rewritten) is read again from its start."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return []
    if size < cursor.offset:
        cursor.offset, cursor.tracker = 0, LevelTracker()
    if size == cursor.offset:
        return []
    with open(path, "rb") as handle:
        handle.seek(cursor.offset)
        data = handle.read(size - cursor.offset)
    complete = data.rfind(b"\n") + 1
    cursor.offset += complete
    rows = [last_frame(row) for row in data[:complete].decode("utf-8", errors="replace").split("\n")[:-1]]
    return [LogLine(row, cursor.tracker.level(row)) for row in rows]


def start_cursor(path: Path | str, tail_bytes: int = 64 * 1024) -> Cursor:
    """A cursor near the end of the log, at a line start, so a follower begins with its recent lines."""
    try:
        size = Path(path).stat().st_size
    except FileNotFoundError:
        return Cursor()
    if size <= tail_bytes:
        return Cursor()
    with open(path, "rb") as handle:
        handle.seek(size - tail_bytes)
        handle.readline()
        return Cursor(handle.tell())


def highlight(text: str, query: str) -> str:
    """`text` HTML-escaped, each case-insensitive occurrence of `query` wrapped in <mark>."""
    if not query:
        return html.escape(text)
    pieces = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    return "".join(f"<mark>{html.escape(piece)}</mark>" if index % 2 else html.escape(piece)
                   for index, piece in enumerate(pieces))


def to_html(lines: Iterable[LogLine], query: str = "") -> str:
    """The lines as one <pre> block, each in a span classed by its level, search hits marked."""
    body = "\n".join(f'<span class="log-{line.level.lower()}">{highlight(line.text, query)}</span>' for line in lines)
    return f'<pre class="llmops-log">{body}</pre>'


def file_size(path: Path | str) -> int:
    """The log's size in bytes (0 when it does not exist yet)."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def summary(result: LogView, level: str, query: str, lang: str) -> str:
    """One line over the viewer: how many lines are shown of how many read, the matches, the log's size."""
    if not result.size:
        return t("jobsx.no_log", lang)
    search = t("jobsx.log_search", lang, query=query) if query else ""
    cut = t("jobsx.log_cut", lang, window=human_size(result.size - result.start)) if result.truncated else ""
    return t("jobsx.log_window", lang, shown=len(result.lines), scanned=result.scanned, level=level, search=search,
             matches=result.matches, size=human_size(result.size), cut=cut)
