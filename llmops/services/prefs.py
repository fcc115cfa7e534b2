"""The preference log: one JSON line per arena vote, appended under a lock and fsynced; DPO pairs derive from it."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, NamedTuple

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ValidationError, pydantic_details
from ..storage import atomic_write_text, file_lock

SCHEMA_VERSION = 1
WINNERS = ("a", "b", "tie", "both_bad")
_TAIL_CHUNK = 64 * 1024
# Bytes of the last indexed line remembered to prove the file was only appended to since (they hold its vote_id).
_SIG_BYTES = 160


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Vote(BaseModel):
    """One arena vote; keys other tools add are kept as extras and written back unchanged."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_version: int = Field(SCHEMA_VERSION, alias="schema", ge=1)
    vote_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1)
    ts: str = Field(default_factory=_now)
    session: str = ""
    prompt: str
    system: str = ""
    model_a: str = Field(min_length=1)
    model_b: str = Field(min_length=1)
    response_a: str
    response_b: str
    left: Literal["a", "b"] = "a"
    winner: Literal["a", "b", "tie", "both_bad"]
    edited: str | None = None
    params: dict = Field(default_factory=dict)
    latency_ms: dict[str, float] | float | None = None
    source: Literal["human", "synthetic"] = "human"

    @field_validator("ts")
    @classmethod
    def _iso_ts(cls, value: str) -> str:
        datetime.fromisoformat(value)  # raises ValueError, which pydantic reports
        return value

    @field_validator("edited")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    def to_line(self) -> bytes:
        """The vote as one UTF-8 JSON line, Chinese kept as text."""
        return (json.dumps(self.model_dump(by_alias=True, mode="json"), ensure_ascii=False) + "\n").encode("utf-8")


@dataclass
class ReadResult:
    """Votes that parsed, and one `file:line: reason` string per line that did not."""

    votes: list[Vote] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class TornTail(NamedTuple):
    """An incomplete last line that repair moved to the .torn file."""

    offset: int
    line: int
    size: int


def _json_object(raw: bytes) -> dict | None:
    """The JSON object on a line, or None when the line holds anything else."""
    try:
        obj = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        return None
    return obj if isinstance(obj, dict) else None


class PrefsStore:
    """Append-only prefs.jsonl shared by any number of processes."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.torn_path = Path(str(self.path) + ".torn")
        self._ids: set[str] = set()
        # (inode, size, mtime_ns) when the index was last brought up to date.
        self._stat: tuple[int, int, int] | None = None
        self._offset = 0  # end of the last complete line in the index
        self._sig: tuple[int, bytes] = (0, b"")  # (start, first bytes) of the last indexed line

    def append(self, vote: Vote | dict) -> bool:
        """Store `vote` durably; False when its vote_id is already stored."""
        if not isinstance(vote, Vote):
            try:
                vote = Vote.model_validate(vote)
            except pydantic.ValidationError as exc:
                raise ValidationError("err.prefs_invalid_vote", reason=pydantic_details(exc, "vote", limit=3)) from exc
        line = vote.to_line()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.path):
            fd = self._open()
            try:
                self._sync_locked(fd)
                if vote.vote_id in self._ids:
                    return False
                before = os.fstat(fd).st_size
                try:
                    # One write on an O_APPEND fd: the line lands whole at the end; os.write has no user-space buffer,
                    # so fsync alone makes it durable.
                    written = os.write(fd, line)
                    if written != len(line):
                        raise OSError(0, f"short write ({written} of {len(line)} bytes; disk full?)")
                    os.fsync(fd)
                except OSError as exc:
                    self._truncate_back(fd, before)
                    raise ValidationError("err.prefs_write_failed", path=str(self.path), reason=exc.strerror or str(exc)) from exc
                self._ids.add(vote.vote_id)
                self._sig = (before, line[:_SIG_BYTES])
                self._offset = before + len(line)
                self._stat = _stat_key(fd)
                return True
            finally:
                os.close(fd)

    def repair(self) -> TornTail | None:
        """Move an incomplete last line to the .torn file now; returns what was moved, if anything."""
        if not self.path.exists():
            return None
        with file_lock(self.path):
            fd = self._open()
            try:
                return self._repair_locked(fd)
            finally:
                os.close(fd)

    def read(self) -> ReadResult:
        """Every readable vote in file order; bad lines become problems, never exceptions."""
        result = ReadResult()
        try:
            with open(self.path, "rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    problem = _parse_line(raw, result.votes)
                    if problem:
                        result.problems.append(f"{self.path}:{number}: {problem}")
        except FileNotFoundError:
            return result
        except OSError as exc:
            raise ValidationError("err.prefs_read_failed", path=str(self.path), reason=exc.strerror or str(exc)) from exc
        return result

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)

    def _sync_locked(self, fd: int) -> None:
        """Under the lock: repair a torn tail and catch the id index up with what other processes wrote."""
        if self._stat is not None and _stat_key(fd) == self._stat and self._offset == self._stat[1]:
            return  # nothing written or truncated since we last indexed every line
        self._repair_locked(fd)
        st = os.fstat(fd)
        start, prefix = self._sig
        # Append-only since we last looked, unless the file shrank or the last line we indexed is no longer there.
        if self._stat is None or st.st_ino != self._stat[0] or st.st_size < self._offset or (
            self._offset and os.pread(fd, len(prefix), start) != prefix
        ):
            self._ids, self._offset, self._sig = set(), 0, (0, b"")
        carry, end = b"", self._offset
        for pos, chunk in _chunks(fd, self._offset, st.st_size):  # the log may be far larger than memory we want to use
            buf, start, end = carry + chunk, pos - len(carry), pos + len(chunk)
            *lines, carry = buf.split(b"\n")
            for raw in lines:
                vote_id = (_json_object(raw) or {}).get("vote_id")
                if isinstance(vote_id, str):
                    self._ids.add(vote_id)
                self._sig = (start, raw[:_SIG_BYTES])
                start += len(raw) + 1
        # A racing writer that skips the lock could leave a partial line (carry); it is re-read next time.
        self._offset = end - len(carry)
        self._stat = _stat_key(fd)

    def _repair_locked(self, fd: int) -> TornTail | None:
        size = os.fstat(fd).st_size
        if size == 0:
            return None
        start = _last_line_start(fd, size)
        tail = os.pread(fd, size - start, start)
        if tail.endswith(b"\n") and _json_object(tail) is not None:
            return None
        torn = TornTail(offset=start, line=sum(c.count(b"\n") for _, c in _chunks(fd, 0, start)) + 1, size=len(tail))
        record = {"ts": _now(), "file": str(self.path), "offset": torn.offset, "line": torn.line, "size": torn.size,
                  "text": tail.decode("utf-8", "replace")}
        # The tail is copied and fsynced before the truncate, so a crash in between loses nothing.
        tfd = os.open(self.torn_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(tfd, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
            os.fsync(tfd)
        finally:
            os.close(tfd)
        os.ftruncate(fd, start)
        os.fsync(fd)
        return torn

    def _truncate_back(self, fd: int, size: int) -> None:
        """Drop a partial line left by a failed write."""
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError:
            # Can't shrink it now; the partial line is a torn tail that the next append or repair() moves aside.
            self._stat = None


def _stat_key(fd: int) -> tuple[int, int, int]:
    st = os.fstat(fd)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _last_line_start(fd: int, size: int) -> int:
    """Offset just after the last newline that precedes the final byte."""
    end = size - 1  # the final byte may itself be the line's newline
    while end > 0:
        begin = max(0, end - _TAIL_CHUNK)
        cut = os.pread(fd, end - begin, begin).rfind(b"\n")
        if cut >= 0:
            return begin + cut + 1
        end = begin
    return 0


def _chunks(fd: int, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) pieces of [start, end) of the file, 1 MiB at a time."""
    while start < end:
        chunk = os.pread(fd, min(1 << 20, end - start), start)
        if not chunk:
            return
        yield start, chunk
        start += len(chunk)


def _parse_line(raw: bytes, votes: list[Vote]) -> str | None:
    """Append the vote on `raw` to `votes`, or say why the line is unreadable."""
    if not raw.strip():
        return None
    if not raw.endswith(b"\n"):
        return "incomplete last line (torn write, or a write in progress)"
    try:
        obj = json.loads(raw)
    except UnicodeDecodeError:
        return "not UTF-8"
    except ValueError as exc:
        return f"invalid JSON ({exc})"
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    try:
        votes.append(Vote.model_validate(obj))
    except pydantic.ValidationError as exc:
        return f"invalid vote ({pydantic_details(exc, 'vote', limit=3)})"
    return None


def export_dpo(votes: Iterable[Vote], out_path: Path | str, only_models: str | Iterable[str] | None = None,
               source: str | None = None) -> int:
    """Write one DPO pair per decisive vote (edited answer preferred as chosen); returns the number written."""
    models = {only_models} if isinstance(only_models, str) else (set(only_models) if only_models is not None else None)
    lines = []
    for vote in votes:
        if vote.winner not in ("a", "b") or (source and vote.source != source):
            continue
        if models is not None and not models & {vote.model_a, vote.model_b}:
            continue
        win, lose = (vote.response_a, vote.response_b) if vote.winner == "a" else (vote.response_b, vote.response_a)
        chosen = vote.edited or win
        if chosen == lose:
            continue  # identical sides teach the policy nothing and make DPO's loss degenerate
        pair = {"prompt": vote.prompt, "system": vote.system, "chosen": chosen, "rejected": lose, "vote_id": vote.vote_id}
        lines.append(json.dumps(pair, ensure_ascii=False) + "\n")
    if not lines:
        # An empty dataset would only fail later inside LLaMA-Factory, far from the cause.
        raise ValidationError("err.prefs_export_empty")
    atomic_write_text(Path(out_path), "".join(lines))
    return len(lines)


def stats(votes: Iterable[Vote]) -> dict:
    """Vote counts in total, by winner, by source, by model pair (sorted 'x vs y') and by UTC day."""
    by_winner, by_source, by_pair, by_day = Counter({w: 0 for w in WINNERS}), Counter(), Counter(), Counter()
    for vote in votes:
        by_winner[vote.winner] += 1
        by_source[vote.source] += 1
        by_pair[" vs ".join(sorted((vote.model_a, vote.model_b)))] += 1
        by_day[_day(vote.ts)] += 1
    return {"total": sum(by_winner.values()), "by_winner": dict(by_winner), "by_source": dict(by_source),
            "by_pair": dict(by_pair.most_common()), "by_day": dict(sorted(by_day.items()))}


def _day(ts: str) -> str:
    stamp = datetime.fromisoformat(ts)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC)  # naive stamps from other tools are taken as UTC already
    return stamp.date().isoformat()
