"""Writing a new dataset's files: all or nothing, never over an existing file."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from ...errors import InvalidInputError
from ...lf import dataset_info
from ...settings import Settings
from ...storage import atomic_write_bytes
from . import versions as manifests
from .records import Issue
from .validate import Inspection, stamp_of
from .versions import DatasetVersion, Manifest


def rel(settings: Settings, path: Path) -> str:
    """A path as dataset_info.json writes it: relative to the data folder when inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(settings.data_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def first_version(found: Inspection, file_name: str, note: str, source: str) -> DatasetVersion:
    """The manifest record of version v1."""
    return DatasetVersion("v1", file_name, None, note, found.report.valid_rows, manifests.now(), found.shape.format,
                          manifests.shape_dict(found.shape), source, found.report.encoding)


def stored_suffix(src: Path) -> str:
    """JSON Lines and text are kept as clean .jsonl rows; other files keep their type."""
    suffix = src.suffix.lower()
    return ".jsonl" if suffix in (".jsonl", ".txt") else suffix


def write_stored(src: Path, found: Inspection, dest: Path) -> None:
    """Stream the checked file to `dest` as UTF-8, and refuse it if it changed since it was checked."""
    suffix = src.suffix.lower()
    if suffix == ".parquet":
        shutil.copyfile(src, dest)
    else:
        # newline="" writes the text as read: a .json or .csv keeps its line ends, only the encoding changes.
        with open(dest, "w", encoding="utf-8", newline="") as out:
            if suffix in (".jsonl", ".txt"):  # rows re-serialised: blank lines, CRLF and BOM gone, paragraphs as rows
                for item in found.source:
                    if isinstance(item, Issue):
                        raise InvalidInputError("err.ds_changed", path=found.report.path)
                    out.write(json.dumps(item[1], ensure_ascii=False) + "\n")
            else:
                out.writelines(found.source.chunks())
            out.flush()
            os.fsync(out.fileno())
    if stamp_of(src) != found.stamp:
        raise InvalidInputError("err.ds_changed", path=found.report.path)


def store_copy(settings: Settings, src: Path, folder: Path, found: Inspection, note: str) -> str:
    """Write v1 and the manifest into a private folder, then give it its real name in one rename."""
    suffix = stored_suffix(src)
    file_name = rel(settings, folder / f"v1{suffix}")
    tmp = folder.parent / f".tmp-{folder.name}-{uuid.uuid4().hex[:12]}"
    try:
        tmp.mkdir(parents=True)
        write_stored(src, found, tmp / f"v1{suffix}")
        manifests.write(tmp, Manifest(folder.name, [first_version(found, file_name, note, src.name)], "v1"))
        os.rename(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InvalidInputError("err.ds_write_failed", path=str(folder), reason=exc.strerror or str(exc)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return file_name


def store_reference(settings: Settings, src: Path, folder: Path, found: Inspection, note: str) -> str:
    """Keep the file where it is (it must be inside the data folder); only the manifest is written."""
    resolved = src.resolve()
    data_dir = settings.data_dir.resolve()
    if data_dir not in resolved.parents:
        raise InvalidInputError("err.ds_outside_data", path=str(src), root=str(data_dir))
    file_name = rel(settings, resolved)
    folder.mkdir(parents=True)
    try:
        manifests.write(folder, Manifest(folder.name, [first_version(found, file_name, note, src.name)], "v1"))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return file_name


def write_rows(path: Path, rows: list) -> Path:
    """Rows as a new JSONL file; an existing file is never replaced."""
    text = "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    try:
        return atomic_write_bytes(path, text.encode("utf-8"), overwrite=False)
    except OSError as exc:
        raise InvalidInputError("err.ds_write_failed", path=str(path), reason=exc.strerror or str(exc)) from None


def write_version(settings: Settings, folder: Path, previous: Manifest | None, manifest: Manifest, rows: list,
                  point: Callable[[], None]) -> None:
    """Write the manifest's current version as new JSONL, then the manifest, then `point` dataset_info.json at it.

    The file never replaces an existing one; if a later step fails, the earlier ones are undone."""
    path = dataset_info.resolve_file(settings.data_dir, {"file_name": manifest.get().file})
    write_rows(path, rows)
    try:
        manifests.write(folder, manifest)
        point()
    except BaseException:
        path.unlink(missing_ok=True)
        if previous is None:
            (folder / manifests.MANIFEST).unlink(missing_ok=True)
        else:
            manifests.write(folder, previous)
        raise


def delete_files(settings: Settings, folder: Path, manifest: Manifest | None) -> list[str]:
    """Remove a dataset's folder and its versions stored elsewhere under data/llmops; nothing outside it."""
    work = settings.work_dir.resolve()
    inner = folder.resolve()
    removed = []
    for item in manifest.versions if manifest else []:
        path = dataset_info.resolve_file(settings.data_dir, {"file_name": item.file})
        if path and path.is_file() and work in path.parents and inner not in path.parents:
            path.unlink()
            removed.append(str(path))
    if folder.is_dir():
        shutil.rmtree(folder)
        removed.append(str(folder))
    return removed
