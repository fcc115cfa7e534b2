"""The preference log's incremental index: seen vote ids and vote counts, kept with the byte offset they cover."""

# A refresh reads only the lines appended since that offset. The offset is trusted only while the file is the same
# file (device, inode), at least that long, and its first and last bytes before the offset hash the same as when
# they were counted; anything else (rewritten, truncated, replaced) is counted again from the start.

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pydantic

from ..errors import pydantic_details
from ..schemas.votes import WINNERS, Vote, utc_day
from ..storage import atomic_write_bytes

try:
    import orjson as _orjson  # 4x faster than json on vote lines; installed with gradio
except ImportError:  # pragma: no cover - json alone is correct, only slower
    _orjson = None

CACHE_MAGIC = b"llmops-prefs-agg 1 "
MAX_PROBLEMS = 1000  # problem lines remembered verbatim; the count covers the rest
_FP_BYTES = 4096
_CHUNK = 1 << 20
_EMPTY_FP = hashlib.blake2b(b"", digest_size=16).hexdigest()
_MAX_EXACT = 2**53


class Row(NamedTuple):
    """What the aggregates need from one valid vote; vote_id is None when the line had none (never a duplicate)."""

    vote_id: str | None
    source: str
    model_a: str
    model_b: str
    winner: str
    day: str


def loads(raw: bytes):
    """Parse one line of JSON; raises ValueError (or RecursionError) like json.loads."""
    if _orjson is not None:
        try:
            return _orjson.loads(raw)
        except _orjson.JSONDecodeError:
            # orjson refuses some JSON that json reads (UTF-16 text, huge integers, lone surrogates): json decides.
            return json.loads(raw)
    return json.loads(raw)


def decode(raw: bytes) -> tuple[dict | None, str | None]:
    """The JSON object on one line, or why there is none; (None, None) for a blank line."""
    if not raw.strip():
        return None, None
    try:
        obj = loads(raw)
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except ValueError as exc:
        return None, f"invalid JSON ({exc})"
    except RecursionError:
        return None, "invalid JSON (nested too deeply)"
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, got {type(obj).__name__}"
    return obj, None


def _number(value) -> bool:
    return type(value) is float or (type(value) is int and -_MAX_EXACT <= value <= _MAX_EXACT)


def _optional(value, kind: type) -> bool:
    return value is None or type(value) is kind


def fast_row(obj: dict) -> Row | None:
    """The Row of a line that certainly passes Vote validation, checked without pydantic; None leaves it to Vote."""
    get = obj.get
    vote_id, ts, model_a, model_b = get("vote_id"), get("ts"), get("model_a"), get("model_b")
    winner, source, left, schema = get("winner"), get("source", "human"), get("left", "a"), get("schema", 1)
    if not (type(vote_id) is str and vote_id and type(ts) is str and type(model_a) is str and model_a
            and type(model_b) is str and model_b and type(winner) is str and winner in WINNERS
            and source in ("human", "synthetic") and left in ("a", "b") and type(schema) is int and schema >= 1
            and type(get("prompt")) is str and type(get("response_a")) is str and type(get("response_b")) is str
            and type(get("session", "")) is str and type(get("system", "")) is str
            and _optional(get("edited"), str) and type(get("params", {})) is dict and "schema_version" not in obj):
        return None
    latency = get("latency_ms")
    if not (latency is None or _number(latency)
            or (type(latency) is dict and all(_number(v) for v in latency.values()))):
        return None
    try:
        stamp = datetime.fromisoformat(ts)
    except ValueError:
        return None
    offset = stamp.utcoffset()
    day = (stamp.astimezone(UTC) if offset else stamp).date().isoformat()
    return Row(vote_id, source, model_a, model_b, winner, day)


def vote_row(vote: Vote, has_id: bool = True) -> Row:
    """The Row of a validated vote."""
    return Row(vote.vote_id if has_id else None, vote.source, vote.model_a, vote.model_b, vote.winner,
               utc_day(vote.ts))


def parse_vote(obj: dict) -> tuple[Vote | None, str | None]:
    """Validate one JSON object as a Vote, or say why it is not one."""
    try:
        return Vote.model_validate(obj), None
    except pydantic.ValidationError as exc:
        return None, f"invalid vote ({pydantic_details(exc, 'vote', limit=3)})"


def line_row(raw: bytes) -> tuple[Row | None, str | None]:
    """The Row on one complete line, or why the line is unreadable; (None, None) for a blank line."""
    obj, problem = decode(raw)
    if obj is None:
        return None, problem
    row = fast_row(obj)
    if row is not None:
        return row, None
    vote, problem = parse_vote(obj)
    return (vote_row(vote, "vote_id" in obj), None) if vote is not None else (None, problem)


@dataclass
class Tally:
    """Counts over the complete lines in [0, offset) of one file; the first valid line of a vote_id wins."""

    ident: tuple[int, int] | None = None
    offset: int = 0
    lines: int = 0
    fingerprint: str = _EMPTY_FP
    seen: set[str] = field(default_factory=set)
    pairs: dict[tuple[str, str, str, str], int] = field(default_factory=dict)  # (source, a, b, winner) -> votes
    days: dict[tuple[str, str], int] = field(default_factory=dict)  # (source, UTC day) -> votes
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    generation: int = 0  # bumped on every change, so views derived from the counts can be cached

    def add(self, row: Row) -> bool:
        """Count one vote; False (and counted as a duplicate) when its vote_id was already counted."""
        if row.vote_id is not None:
            if row.vote_id in self.seen:
                self.duplicates += 1
                return False
            self.seen.add(row.vote_id)
        key = (row.source, row.model_a, row.model_b, row.winner)
        self.pairs[key] = self.pairs.get(key, 0) + 1
        day = (row.source, row.day)
        self.days[day] = self.days.get(day, 0) + 1
        return True

    def problem(self, text: str) -> None:
        """Remember one unreadable line."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def consume(self, data: bytes, label: str) -> int:
        """Count the complete lines of `data`, which starts at `offset`; returns the bytes consumed."""
        end = data.rfind(b"\n") + 1
        if not end:
            return 0
        number, add = self.lines, self.add
        for raw in data[:end].split(b"\n")[:-1]:
            number += 1
            row, problem = line_row(raw)
            if row is not None:
                add(row)
            elif problem:
                self.problem(f"{label}:{number}: {problem}")
        self.lines, self.offset = number, self.offset + end
        self.generation += 1
        return end


def fingerprint(fd: int, offset: int) -> str:
    """A hash of the first and the last bytes before `offset`: changes when the counted part is rewritten."""
    if offset <= 0:
        return _EMPTY_FP
    size = min(_FP_BYTES, offset)
    return hashlib.blake2b(os.pread(fd, size, 0) + b"|" + os.pread(fd, size, offset - size),
                           digest_size=16).hexdigest()


def file_ident(fd: int) -> tuple[int, int]:
    """(device, inode): a replaced file is a different file even at the same path."""
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)


def still_valid(tally: Tally, fd: int) -> bool:
    """True when `fd` is the file the tally counted and the counted bytes are unchanged."""
    st = os.fstat(fd)
    return (tally.ident == (st.st_dev, st.st_ino) and tally.offset <= st.st_size
            and fingerprint(fd, tally.offset) == tally.fingerprint)


def refresh(tally: Tally, fd: int, label: str) -> Tally:
    """Bring the tally up to the end of the last complete line, from scratch when the file is not the one counted."""
    if not still_valid(tally, fd):
        tally = Tally(ident=file_ident(fd), generation=tally.generation + 1)
    size, pos, carry = os.fstat(fd).st_size, tally.offset, b""
    while pos < size:  # the log may be far larger than the memory we want to use
        chunk = os.pread(fd, min(_CHUNK, size - pos), pos)
        if not chunk:
            break
        pos += len(chunk)
        buf = carry + chunk
        carry = buf[tally.consume(buf, label):]
    tally.fingerprint = fingerprint(fd, tally.offset)
    return tally


def torn_tail(tally: Tally, fd: int, label: str) -> str | None:
    """A problem line for bytes after the tally's offset that do not (yet) end in a newline."""
    size = os.fstat(fd).st_size
    if size <= tally.offset or not os.pread(fd, min(size - tally.offset, _CHUNK), tally.offset).strip():
        return None
    return f"{label}:{tally.lines + 1}: incomplete last line (torn write, or a write in progress)"


def save(tally: Tally, path: Path) -> None:
    """Write the tally beside the log, atomically, with a checksum so a damaged copy is never trusted."""
    body = json.dumps({
        "ident": list(tally.ident or (0, 0)), "offset": tally.offset, "lines": tally.lines,
        "fingerprint": tally.fingerprint, "duplicates": tally.duplicates, "problem_count": tally.problem_count,
        "problems": tally.problems, "pairs": [[*key, n] for key, n in tally.pairs.items()],
        "days": [[*key, n] for key, n in tally.days.items()], "seen": list(tally.seen),
    }).encode("ascii")  # escaped, so even an id with a lone surrogate (json reads those) round-trips
    atomic_write_bytes(path, CACHE_MAGIC + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body)


def load(path: Path, fd: int) -> Tally | None:
    """The tally saved beside the log when it is intact and still describes this file; None otherwise."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, _, body = data.partition(b"\n")
    if not head.startswith(CACHE_MAGIC) or head[len(CACHE_MAGIC):] != hashlib.sha256(body).hexdigest().encode():
        return None
    try:
        raw = loads(body)
        tally = Tally(ident=(int(raw["ident"][0]), int(raw["ident"][1])), offset=int(raw["offset"]),
                      lines=int(raw["lines"]), fingerprint=str(raw["fingerprint"]),
                      seen=set(raw["seen"]), duplicates=int(raw["duplicates"]),
                      problems=[str(p) for p in raw["problems"]], problem_count=int(raw["problem_count"]),
                      pairs={(s, a, b, w): int(n) for s, a, b, w, n in raw["pairs"]},
                      days={(s, d): int(n) for s, d, n in raw["days"]})
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None  # written by another version, or damaged in a way the checksum cannot see: count afresh
    return tally if still_valid(tally, fd) else None
