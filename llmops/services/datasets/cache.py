"""Rows of recently read dataset files, kept while the file is unchanged (versions are never rewritten)."""

from __future__ import annotations

import threading
from pathlib import Path

from .validate import read_file


class RowCache:
    """A few files' rows, keyed by path, size and modification time; safe to share between threads."""

    def __init__(self, max_bytes: int, csv_field_limit: int, files: int = 4):
        self.max_bytes, self.csv_field_limit, self.files = max_bytes, csv_field_limit, files
        self._rows: dict[tuple, list] = {}
        self._lock = threading.Lock()

    def rows(self, path: Path) -> list:
        """The rows of `path` (objects that parsed; a bad line is skipped here and reported by validation)."""
        info = path.stat()
        key = (str(path), info.st_size, info.st_mtime_ns)
        with self._lock:
            if key in self._rows:
                return self._rows[key]
        parsed, _ = read_file(path, path.name, self.max_bytes, self.csv_field_limit)
        rows = [row for _, row in parsed.rows]
        with self._lock:
            while len(self._rows) >= self.files:
                self._rows.pop(next(iter(self._rows)))
            self._rows[key] = rows
        return rows
