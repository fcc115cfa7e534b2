"""The lineage store: facts about artifacts that no other store records (a votes batch, a document set, a gate).

    <work_dir>/lineage.jsonl    one fact per line: {"schema", "id", "at", "nodes": [...], "edges": [...]}

Append-only and locked across processes; a fact id is written once, so recording the same batch again is a no-op.
Every other part of the graph is read from the store that owns it (models, datasets, jobs, evaluation runs).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ...errors import StorageError
from ...settings import Settings
from ...storage import file_lock

SCHEMA_VERSION = 1
FILE_NAME = "lineage.jsonl"


def now() -> str:
    """UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def digest(parts: Iterable[str], length: int = 16) -> str:
    """A short content hash of `parts` (order matters; sort first where it must not)."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:length]


@dataclass
class Fact:
    """Nodes (id, kind, label, details) and edges (parent, child, relation) recorded at one moment."""

    id: str
    nodes: list[dict] = field(default_factory=list)
    edges: list[dict] = field(default_factory=list)
    at: str = ""

    def to_line(self) -> bytes:
        data = {"schema": SCHEMA_VERSION, "id": self.id, "at": self.at or now(), "nodes": self.nodes,
                "edges": self.edges}
        return (json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


class LineageStore:
    """The one writer and reader of lineage.jsonl."""

    def __init__(self, settings: Settings):
        self.path = settings.work_dir / FILE_NAME

    def facts(self) -> list[Fact]:
        """Every stored fact, oldest first; a torn last line (a crash mid-append) is skipped."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageError("err.lineage_store", path=str(self.path), reason=str(exc)) from None
        found = []
        for line in raw.splitlines():
            try:
                data = json.loads(line)
                found.append(Fact(str(data["id"]), list(data.get("nodes") or []), list(data.get("edges") or []),
                                  str(data.get("at") or "")))
            except (ValueError, KeyError, TypeError):
                continue  # a torn or foreign line: the rest of the history stays readable
        return found

    def append(self, fact: Fact) -> bool:
        """Store `fact` durably; False when a fact with its id is already stored."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = fact.to_line()
        with file_lock(self.path):
            if any(known.id == fact.id for known in self.facts()):
                return False
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    if os.fstat(fd).st_size and not _ends_with_newline(self.path):
                        os.write(fd, b"\n")  # finish a torn line so this fact starts on its own
                    os.write(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise StorageError("err.lineage_store", path=str(self.path), reason=exc.strerror or str(exc)) from None
        return True


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
