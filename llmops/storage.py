"""Safe file primitives: atomic writes, inter-process locks, names that cannot escape a folder."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InvalidInputError, PermissionDeniedError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]{0,99}$")


def safe_name(name: str, what: str = "name") -> str:
    """Return `name` if it is a plain file/run name (no separators, no '..'), else raise."""
    name = (name or "").strip()
    if not _SAFE_NAME.match(name) or ".." in name:
        raise InvalidInputError("err.unsafe_name", what=what, name=name)
    return name


def inside(root: Path, path: Path | str, what: str = "path") -> Path:
    """Resolve `path` against `root` and refuse anything that lands outside it."""
    root = Path(root).resolve()
    candidate = (root / path).resolve()
    if candidate != root and root not in candidate.parents:
        raise PermissionDeniedError("err.path_escape", what=what, path=str(path), root=str(root))
    return candidate


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Write `data` to `path` so that readers see the old file or the whole new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the target exists, so a concurrent writer can never be clobbered.
            os.link(tmp, path)
            os.unlink(tmp)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: Path, text: str, *, overwrite: bool = True) -> Path:
    """Atomic write of UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def atomic_write_json(path: Path, obj, *, overwrite: bool = True) -> Path:
    """Atomic write of pretty JSON that keeps Chinese as text."""
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n", overwrite=overwrite)


def write_json_if_changed(path: Path, obj) -> bool:
    """Atomically rewrite `path` only when its content would change (so watchers see real changes only)."""
    data = (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if Path(path).is_file() and Path(path).read_bytes() == data:
        return False
    atomic_write_bytes(Path(path), data)
    return True


def create_unique(path: Path, text: str) -> Path:
    """Atomically create `path`, or `stem_2`, `stem_3`… if taken; never overwrites."""
    path = Path(path)
    for attempt in range(1, 1000):
        target = path if attempt == 1 else path.with_name(f"{path.stem}_{attempt}{path.suffix}")
        try:
            return atomic_write_text(target, text, overwrite=False)
        except FileExistsError:
            continue
    raise FileExistsError(path)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path`.lock across processes."""
    lock_path = Path(str(path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
