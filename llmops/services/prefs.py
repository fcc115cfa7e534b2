"""The preference log: one JSON line per arena vote, appended under a lock and fsynced; DPO pairs derive from it."""

# Every reader counts a vote_id once, the first valid line winning, whoever wrote the file. Counts for the
# leaderboard and stats come from an incremental index (prefs_index.py) kept in memory and beside the log
# (prefs.jsonl.agg), so a refresh reads only what was appended since.

from __future__ import annotations

import hashlib
import json
import os
import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pydantic

from ..errors import InvalidInputError, StorageError, os_failure, pydantic_details
from ..schemas.votes import SCHEMA_VERSION, WINNERS, Vote, now_iso
from ..storage import atomic_write_text, file_lock
from . import prefs_index as index
from . import ratings

__all__ = ["SCHEMA_VERSION", "WINNERS", "Aggregates", "PrefsStore", "ReadResult", "TornTail", "Vote",
           "dpo_pairs", "export_dpo", "pairs_digest", "stats"]

_TAIL_CHUNK = 64 * 1024
_SAVE_MAX_LAG = 16 << 20  # bytes counted but not yet in the .agg file before it is rewritten


@dataclass
class ReadResult:
    """Votes that parsed (each vote_id once, first line first), and one `file:line: reason` per line that did not."""

    votes: list[Vote] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicates: int = 0


@dataclass(frozen=True)
class Aggregates:
    """Vote counts of the whole log: per (source, model_a, model_b, winner) and per (source, UTC day)."""

    pairs: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    days: dict[tuple[str, str], int] = field(default_factory=dict)
    duplicates: int = 0
    problems: tuple[str, ...] = ()
    problem_count: int = 0
    generation: int = 0

    @classmethod
    def of(cls, votes: Iterable[Vote]) -> Aggregates:
        """Aggregates of votes already in memory (each vote_id once)."""
        tally = index.Tally()
        for vote in votes:
            tally.add(index.vote_row(vote))
        return cls(tally.pairs, tally.days, tally.duplicates)

    def outcomes(self, source: str | None = None) -> dict[tuple[str, str, str], int]:
        """{(model_a, model_b, winner): votes} for one source, or all."""
        out: dict[tuple[str, str, str], int] = {}
        for (src, a, b, winner), n in self.pairs.items():
            if source is None or src == source:
                out[(a, b, winner)] = out.get((a, b, winner), 0) + n
        return out

    def pair_counts(self, source: str | None = None) -> ratings.PairCounts:
        """The ratings' input for one source, or all."""
        return ratings.from_tally(self.outcomes(source))

    def total(self, source: str | None = None) -> int:
        """Votes counted (each vote_id once)."""
        return sum(n for (src, *_), n in self.pairs.items() if source is None or src == source)

    def stats(self, source: str | None = None) -> dict:
        """Vote counts in total, by winner, by source, by model pair (sorted 'x vs y') and by UTC day."""
        by_winner = {w: 0 for w in WINNERS}
        by_source: dict[str, int] = {}
        by_pair: dict[str, int] = {}
        for (src, a, b, winner), n in self.pairs.items():
            if source is not None and src != source:
                continue
            by_winner[winner] += n
            by_source[src] = by_source.get(src, 0) + n
            pair = " vs ".join(sorted((a, b)))
            by_pair[pair] = by_pair.get(pair, 0) + n
        by_day: dict[str, int] = {}
        for (src, day), n in self.days.items():
            if source is None or src == source:
                by_day[day] = by_day.get(day, 0) + n
        return {"total": sum(by_winner.values()), "by_winner": by_winner, "by_source": by_source,
                "by_pair": dict(sorted(by_pair.items(), key=lambda kv: (-kv[1], kv[0]))),
                "by_day": dict(sorted(by_day.items()))}


class TornTail(NamedTuple):
    """An incomplete last line that repair moved to the .torn file."""

    offset: int
    line: int
    size: int


class PrefsStore:
    """Append-only prefs.jsonl shared by any number of processes (and threads)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.torn_path = Path(str(self.path) + ".torn")
        self.cache_path = Path(str(self.path) + ".agg")
        self._tally = index.Tally()
        self._saved: tuple[weakref.ref | None, int] = (None, 0)  # (tally, offset) the .agg file holds
        self._loaded = False  # the .agg file is tried once, before the first count
        self._snapshot: tuple[tuple, Aggregates] | None = None
        # Gradio serves events on threads that share this store; file_lock orders processes, this orders threads.
        self._mutex = threading.RLock()

    def append(self, vote: Vote | dict) -> bool:
        """Store `vote` durably; False when its vote_id is already stored."""
        if not isinstance(vote, Vote):
            try:
                vote = Vote.model_validate(vote)
            except pydantic.ValidationError as exc:
                raise InvalidInputError("err.prefs_invalid_vote", reason=pydantic_details(exc, "vote", limit=3)) from exc
        line = vote.to_line()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.path), self._mutex:
            fd = self._open()
            try:
                self._repair_locked(fd)
                self._refresh(fd)
                if vote.vote_id in self._tally.seen:
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
                    raise StorageError("err.prefs_write_failed", path=str(self.path), reason=exc.strerror or str(exc)) from exc
                self._count_own(fd, before, line, vote)
                self._maybe_save()
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
        """Every readable vote in file order, each vote_id once; bad lines become problems, never exceptions."""
        result, seen = ReadResult(), set()
        try:
            with open(self.path, "rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    vote, problem = _parse_line(raw)
                    if problem:
                        result.problems.append(f"{self.path}:{number}: {problem}")
                    elif vote is not None and vote.vote_id in seen:
                        result.duplicates += 1
                    elif vote is not None:
                        seen.add(vote.vote_id)
                        result.votes.append(vote)
        except FileNotFoundError:
            return result
        except OSError as exc:
            raise os_failure("err.prefs_read_failed", exc, path=str(self.path)) from exc
        return result

    def aggregates(self) -> Aggregates:
        """Counts over the whole log, reading only what was appended since the last call (or since the .agg file)."""
        with self._mutex:
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                self._tally = index.Tally(generation=self._tally.generation + 1)
                return Aggregates(generation=self._tally.generation)
            except OSError as exc:
                raise os_failure("err.prefs_read_failed", exc, path=str(self.path)) from exc
            try:
                self._refresh(fd)
                self._maybe_save()
                return self._snapshot_of(index.torn_tail(self._tally, fd, str(self.path)))
            except OSError as exc:
                raise os_failure("err.prefs_read_failed", exc, path=str(self.path)) from exc
            finally:
                os.close(fd)

    def _snapshot_of(self, tail: str | None) -> Aggregates:
        """An immutable copy of the counts, reused while nothing changed."""
        tally = self._tally
        key = (tally.generation, tail)  # generation only grows, across resets too
        if self._snapshot is None or self._snapshot[0] != key:
            problems = tuple(tally.problems) + ((tail,) if tail else ())
            self._snapshot = (key, Aggregates(dict(tally.pairs), dict(tally.days), tally.duplicates, problems,
                                              tally.problem_count + bool(tail), tally.generation))
        return self._snapshot[1]

    def _refresh(self, fd: int) -> None:
        if not self._loaded:
            self._loaded = True
            cached = index.load(self.cache_path, fd)
            if cached is not None:
                cached.generation = self._tally.generation + 1
                self._tally, self._saved = cached, (weakref.ref(cached), cached.offset)
        self._tally = index.refresh(self._tally, fd, str(self.path))

    def _maybe_save(self) -> None:
        """Rewrite the .agg file once the part it lacks is worth more than rewriting it (amortised, geometric)."""
        tally = self._tally
        saved_ref, saved_offset = self._saved
        lag = tally.offset - saved_offset if saved_ref is not None and saved_ref() is tally else tally.offset
        if lag <= 0 or lag < min(tally.offset // 8, _SAVE_MAX_LAG):
            return
        try:
            index.save(tally, self.cache_path)
        except OSError:
            return  # a read-only folder: the counts stay correct, only the next process counts from the start
        self._saved = (weakref.ref(tally), tally.offset)

    def _count_own(self, fd: int, before: int, line: bytes, vote: Vote) -> None:
        """Count the line just written without reading it back (it is ours and whole)."""
        tally = self._tally
        if before != tally.offset:
            return  # bytes we have not counted sit before it; the next refresh reads both
        tally.add(index.vote_row(vote))
        tally.offset, tally.lines = before + len(line), tally.lines + 1
        tally.fingerprint = index.fingerprint(fd, tally.offset)
        tally.generation += 1

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)

    def _repair_locked(self, fd: int) -> TornTail | None:
        size = os.fstat(fd).st_size
        if size == 0:
            return None
        start = _last_line_start(fd, size)
        tail = os.pread(fd, size - start, start)
        if tail.endswith(b"\n") and index.decode(tail)[0] is not None:
            return None
        torn = TornTail(offset=start, line=sum(c.count(b"\n") for _, c in _chunks(fd, 0, start)) + 1, size=len(tail))
        record = {"ts": now_iso(), "file": str(self.path), "offset": torn.offset, "line": torn.line, "size": torn.size,
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
            return


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


def _parse_line(raw: bytes) -> tuple[Vote | None, str | None]:
    """The vote on `raw`, or why the line is unreadable; (None, None) for a blank line."""
    if raw.strip() and not raw.endswith(b"\n"):
        return None, "incomplete last line (torn write, or a write in progress)"
    obj, problem = index.decode(raw[:-1] if raw.endswith(b"\n") else raw)  # as the index sees it, so messages match
    if obj is None:
        return None, problem
    return index.parse_vote(obj)


def decisive_pairs(votes: Iterable[Vote], only_models: str | Iterable[str] | None = None,
                   source: str | None = None) -> Iterator[tuple[Vote, str, str]]:
    """(vote, chosen, rejected) per decisive vote, each vote_id once; the edited answer is preferred as chosen."""
    models = {only_models} if isinstance(only_models, str) else (set(only_models) if only_models is not None else None)
    seen = set()
    for vote in votes:
        if vote.vote_id in seen:
            continue
        seen.add(vote.vote_id)
        if vote.winner not in ("a", "b") or (source and vote.source != source):
            continue
        if models is not None and not models & {vote.model_a, vote.model_b}:
            continue
        win, lose = (vote.response_a, vote.response_b) if vote.winner == "a" else (vote.response_b, vote.response_a)
        chosen = vote.edited or win
        if chosen == lose:
            continue  # identical sides teach the policy nothing and make DPO's loss degenerate
        yield vote, chosen, lose


def dpo_pairs(votes: Iterable[Vote], only_models: str | Iterable[str] | None = None,
              source: str | None = None) -> list[str]:
    """One DPO pair (a JSON line) per decisive vote (see decisive_pairs)."""
    lines = [json.dumps({"prompt": vote.prompt, "system": vote.system, "chosen": chosen, "rejected": lose,
                         "vote_id": vote.vote_id}, ensure_ascii=False) + "\n"
             for vote, chosen, lose in decisive_pairs(votes, only_models, source)]
    if not lines:
        # An empty dataset would only fail later inside LLaMA-Factory, far from the cause.
        raise InvalidInputError("err.prefs_export_empty")
    return lines


def kto_examples(votes: Iterable[Vote], only_models: str | Iterable[str] | None = None,
                 source: str | None = None) -> list[str]:
    """Two KTO examples (JSON lines) per decisive vote: its chosen answer desirable, its rejected one not."""
    lines = [json.dumps({"prompt": vote.prompt, "system": vote.system, "response": answer, "kto_tag": tag,
                         "vote_id": vote.vote_id}, ensure_ascii=False) + "\n"
             for vote, chosen, lose in decisive_pairs(votes, only_models, source)
             for answer, tag in ((chosen, True), (lose, False))]
    if not lines:
        raise InvalidInputError("err.prefs_export_empty")
    return lines


def pairs_digest(lines: list[str]) -> str:
    """A short content hash of exported pairs: the same pairs always get the same file name."""
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()[:16]


def export_dpo(votes: Iterable[Vote], out_path: Path | str, only_models: str | Iterable[str] | None = None,
               source: str | None = None) -> int:
    """Write one DPO pair per decisive vote (see dpo_pairs); returns the number written."""
    return export_votes(votes, out_path, "dpo", only_models, source)


def export_votes(votes: Iterable[Vote], out_path: Path | str, shape: str = "dpo",
                 only_models: str | Iterable[str] | None = None, source: str | None = None) -> int:
    """Write decisive votes as DPO pairs or KTO examples (two per vote); returns the number of lines written."""
    lines = (kto_examples if shape == "kto" else dpo_pairs)(votes, only_models, source)
    atomic_write_text(Path(out_path), "".join(lines))
    return len(lines)


def stats(votes: Iterable[Vote]) -> dict:
    """Vote counts in total, by winner, by source, by model pair (sorted 'x vs y') and by UTC day; each vote_id once."""
    return Aggregates.of(votes).stats()
