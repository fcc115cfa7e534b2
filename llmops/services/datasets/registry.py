"""The dataset registry: every dataset in dataset_info.json, uploads, versions, dedup, delete and export."""

from __future__ import annotations

import contextlib
import copy
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ...errors import LLMOpsError, NotFoundError, InvalidInputError
from ...i18n import Lines, Message
from ...lf import dataset_info
from ...security.paths import contain
from ...settings import Settings
from ...storage import file_lock, safe_name
from . import export, formats, store
from . import stats as dstats
from . import versions as manifests
from .cache import RowCache
from .records import DEFAULT_CSV_FIELD_LIMIT
from .results import DatasetRow, DedupResult, Preview
from .validate import DEFAULT_MAX_BYTES, Inspection, ValidationReport, inspect
from .versions import DatasetVersion, Manifest

_MAX_PAGE_SIZE = 500
_ERRORS_IN_MESSAGE = 10


@dataclass
class Target:
    """A registered dataset resolved to one readable file."""

    name: str
    entry: dict
    path: Path
    shape: formats.Shape
    manifest: Manifest | None
    version: DatasetVersion | None


def _is_safe(name: str) -> bool:
    try:
        safe_name(name)
        return True
    except InvalidInputError:
        return False


class DatasetRegistry:
    """Datasets LLaMA-Factory can train on, with the files and versions behind them."""

    def __init__(self, settings: Settings, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 csv_field_limit: int = DEFAULT_CSV_FIELD_LIMIT):
        self.settings = settings
        self.max_bytes = max_bytes
        self.csv_field_limit = csv_field_limit
        self._cache = RowCache(max_bytes, csv_field_limit)

    # --- paths ----------------------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """Where managed datasets live: <work_dir>/datasets/<name>/."""
        return self.settings.work_dir / "datasets"

    def _info_path(self) -> Path:
        return self.ensure_samples()

    def _rel(self, path: Path) -> str:
        return store.rel(self.settings, path)

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """One writer per dataset name, across threads and processes."""
        with file_lock(self.root / ".locks" / name):
            yield

    # --- the one writer of dataset_info.json ----------------------------------------------------------

    def ensure_samples(self) -> Path:
        """dataset_info.json, created with the sample datasets when the home has none."""
        return dataset_info.ensure(self.settings)

    def entries(self) -> dict[str, dict]:
        """Every usable entry of dataset_info.json (the samples are registered on first use)."""
        return dataset_info.read(self._info_path()).entries

    def register_entry(self, name: str, entry: dict, *, replace: bool = False) -> None:
        """Add (or with replace, change) one entry; the same entry again leaves the file untouched."""
        dataset_info.register(self._info_path(), name, entry, replace=replace)

    def register_path(self, name: str, path: Path | str, entry: dict, *, replace: bool = False) -> str:
        """Register a local file under `name`, its file_name relative to the data folder when inside it."""
        self.register_entry(name, {"file_name": self._rel(Path(path)), **entry}, replace=replace)
        return name

    def unregister(self, name: str) -> dict:
        """Remove one entry (files stay) and return it."""
        return dataset_info.unregister(self._info_path(), name)

    def _manifest(self, name: str) -> Manifest | None:
        # A hand-written entry's name may be no valid folder name: then it has no manifest.
        return manifests.read(self.root / name) if _is_safe(name) else None

    # --- validation and registration ------------------------------------------------------------------

    def _inspect(self, path: Path | str, fmt: str, label: str | None) -> Inspection:
        contain(self.settings, path)  # upload, validate and register read only inside the allowed roots
        return inspect(Path(path), fmt, label=label or str(path), max_bytes=self.max_bytes,
                       csv_field_limit=self.csv_field_limit)

    def validate_file(self, path: Path | str, format: str = "auto", *, label: str | None = None) -> ValidationReport:
        """Check a file without storing anything; every problem is listed as 'file:line: reason'."""
        return self._inspect(path, format, label).report

    def upload(self, src_path: Path | str, name: str, format: str = "auto", confirm_conversion: bool = False,
               note: str = "", *, label: str | None = None) -> DatasetRow:
        """Copy a file into the registry as version v1 of a new dataset and register it for LLaMA-Factory."""
        return self.register_file(src_path, name, format, note, copy=True, confirm_conversion=confirm_conversion,
                                  label=label)

    def register_file(self, path: Path | str, name: str, format: str = "auto", note: str = "", copy: bool = True,
                      *, confirm_conversion: bool = False, label: str | None = None) -> DatasetRow:
        """Register a file as a new dataset; with copy=False it stays where it is (inside the data folder).

        Nothing is left behind when any step fails: no folder, no file, no registration."""
        name = safe_name(name, "dataset name")
        formats.check_format_name(format)
        src = Path(path)
        label = label or src.name
        info_path = self._info_path()
        folder = self.root / name
        with self.locked(name):
            if name in dataset_info.read(info_path).entries:
                raise InvalidInputError("err.ds_exists", name=name)
            if folder.exists():
                raise InvalidInputError("err.ds_folder_exists", path=str(folder), name=name)
            found = self._inspect(src, format, label)
            report = found.report
            if found.error is not None:
                raise found.error
            if not report.ok:
                raise self._invalid(report)
            if report.needs_conversion:
                if not confirm_conversion:
                    raise InvalidInputError("err.ds_needs_conversion", path=label, encoding=report.encoding)
                copy = True  # converted text has to be stored somewhere
            if copy:
                file_name = store.store_copy(self.settings, src, folder, found, note)
            else:
                file_name = store.store_reference(self.settings, src, folder, found, note)
            try:
                self.register_entry(name, formats.entry_for(found.shape, file_name))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        return self.row(name)

    def _invalid(self, report: ValidationReport) -> InvalidInputError:
        shown = report.messages[:_ERRORS_IN_MESSAGE]
        if report.error_count > len(shown):
            shown = [*shown, Message("ds.more_errors", {"count": report.error_count - len(shown)})]
        # The lines stay messages: the error renders them in the reader's language.
        return InvalidInputError("err.ds_invalid", path=report.path, count=report.error_count, valid=report.valid_rows,
                               total=report.total_rows, errors=Lines(tuple(shown)))

    # --- the table ------------------------------------------------------------------------------------

    def table(self) -> list[DatasetRow]:
        """Every dataset in dataset_info.json; broken entries and unreadable files appear with a problem."""
        try:
            info = dataset_info.read(self._info_path())
        except LLMOpsError:
            return []  # the whole file is unreadable: problems() says why
        rows = [self._row(name, entry) for name, entry in info.entries.items()]
        for name, problem in info.problems:
            rows.append(DatasetRow(name=name, kind="?", format="?",
                                   problem=Message("ds.problem_entry", {"reason": problem})))
        return rows

    def problems(self) -> list[Message]:
        """One line per thing the table could not show properly (render each in the reader's language)."""
        try:
            dataset_info.read(self._info_path())
        except LLMOpsError as exc:
            return [Message(exc.key, exc.params)]
        return [Message("ds.problem_named", {"name": row.name, "problem": row.problem})
                for row in self.table() if row.problem]

    def row(self, name: str) -> DatasetRow:
        """The table row of one registered dataset."""
        entry = self._entry(name)
        return self._row(name, entry)

    def _entry(self, name: str) -> dict:
        entry = dataset_info.read(self._info_path()).entries.get(name)
        if entry is None:
            raise NotFoundError("err.dataset_unknown", name=name)
        return entry

    def _row(self, name: str, entry: dict) -> DatasetRow:
        shape = formats.shape_of_entry(entry)
        source = entry.get("file_name") or next((str(v) for k, v in entry.items() if k.endswith("_url")), "")
        row = DatasetRow(name=name, kind=dataset_info.entry_kind(entry), format=shape.format, file=source)
        manifest = self._manifest(name)
        version = manifest.by_file(entry["file_name"]) if manifest and "file_name" in entry else None
        if version is not None:
            row.format, row.version, row.versions, row.managed = version.format, version.version, len(
                manifest.versions), True
            row.created, row.updated, row.samples = manifest.versions[0].created, version.created, version.samples
        path = dataset_info.resolve_file(self.settings.data_dir, entry)
        if path is None:
            return row
        row.path = str(path)
        if not path.exists():
            row.problem = Message("ds.problem_file_missing", {"path": str(path)})
            return row
        info = path.stat()
        row.size_bytes = info.st_size if path.is_file() else None
        if version is None:
            row.created = row.updated = datetime.fromtimestamp(info.st_mtime).astimezone().isoformat(
                timespec="seconds")
            if path.is_file():
                try:
                    row.samples = len(self.rows(path))
                except LLMOpsError as exc:
                    row.problem = Message("ds.problem_unreadable", {"reason": Message(exc.key, exc.params)})
        return row

    # --- reading rows ---------------------------------------------------------------------------------

    def rows(self, path: Path) -> list:
        return self._cache.rows(path)

    def file_of(self, name: str, version: str | None = None) -> Path:
        """The file a registered dataset (or one of its versions) reads from."""
        return self.resolve(name, version).path

    def resolve(self, name: str, version: str | None = None) -> Target:
        entry = self._entry(name)
        manifest = self._manifest(name)
        chosen = None
        if version:
            if manifest is None:
                raise InvalidInputError("err.ds_unknown_version", name=name, version=version)
            chosen = manifest.get(version)
            path = dataset_info.resolve_file(self.settings.data_dir, {"file_name": chosen.file})
        else:
            chosen = manifest.by_file(entry.get("file_name", "")) if manifest else None
            path = dataset_info.resolve_file(self.settings.data_dir, entry)
        if path is None:
            raise InvalidInputError("err.ds_not_local", name=name)
        if not path.is_file():
            raise InvalidInputError("err.dataset_file_missing", name=name, path=str(path))
        shape = chosen.to_shape() if chosen else formats.shape_of_entry(entry)
        return Target(name, entry, path, shape, manifest, chosen)

    def preview(self, name: str, page: int = 1, page_size: int = 20, version: str | None = None) -> Preview:
        """One page of rows (pages count from 1; out-of-range pages are clamped)."""
        target = self.resolve(name, version)
        rows = self.rows(target.path)
        page_size = min(max(1, int(page_size)), _MAX_PAGE_SIZE)
        pages = max(1, math.ceil(len(rows) / page_size))
        page = min(max(1, int(page)), pages)
        chunk = rows[(page - 1) * page_size: page * page_size]
        return Preview(name, target.version.version if target.version else version, page, page_size, pages,
                       len(rows), export.columns_of(chunk), list(chunk))

    def stats(self, name: str, version: str | None = None) -> dstats.DatasetStats:
        """Samples, approximate token lengths, exact duplicates and empty fields."""
        target = self.resolve(name, version)
        return dstats.compute(name, self.rows(target.path), target.shape)

    def export_csv(self, name: str, out_path: Path | str, version: str | None = None) -> Path:
        """Write the dataset as CSV; cells that a spreadsheet would run as formulas are quoted."""
        return export.write_csv(self.rows(self.resolve(name, version).path), out_path)

    # --- versions -------------------------------------------------------------------------------------

    def versions(self, name: str) -> list[DatasetVersion]:
        """Every version, oldest first; a dataset registered by hand has one, describing its file."""
        target = self.resolve(name)
        if target.manifest is not None and target.version is not None:
            return list(target.manifest.versions)
        return [self._adopted_version(target)]

    def _adopted_version(self, target: Target, version: str = "v1") -> DatasetVersion:
        return manifests.adopted(target.entry["file_name"], target.path, target.shape, len(self.rows(target.path)),
                                 Message("ds.note_adopted"), version)

    def add_versions(self, target: Target, items: list[tuple[list, Message, str]], current: int = -1) -> list[str]:
        """New versions of a resolved dataset from (rows, description, user note); items[current] is registered.

        A hand-registered file is adopted as a version first, untouched. The caller holds locked(name)."""
        name = target.name
        manifest = copy.deepcopy(target.manifest) if target.manifest else Manifest(name, [], "")
        parent = target.version.version if target.version else None
        if parent is None:
            manifest.versions.append(self._adopted_version(target, manifest.next_version()))
            parent = manifest.versions[-1].version
        folder, made = self.root / name, []
        for rows, message, note in items:
            new = manifest.next_version()
            manifest.versions.append(DatasetVersion(new, self._rel(folder / f"{new}.jsonl"), parent, note, len(rows),
                                                    manifests.now(), target.shape.format,
                                                    manifests.shape_dict(target.shape), message=message.to_dict()))
            made.append(new)
        manifest.current = made[current]
        written: list[Path] = []
        try:
            for version, (rows, _, _) in zip(made, items):
                if version != manifest.current:
                    written.append(store.write_rows(folder / f"{version}.jsonl", rows))
            point = {**target.entry, "file_name": manifest.get().file}
            store.write_version(self.settings, folder, target.manifest, manifest, items[current][0],
                                lambda: self.register_entry(name, point, replace=True))
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return made

    def dedup(self, name: str, near: bool = True, threshold: float = 0.8, note: str = "") -> DedupResult:
        """Remove exact (and near) duplicates into a NEW version that becomes the registered one."""
        if near and not 0.5 <= float(threshold) <= 1.0:
            raise InvalidInputError("err.ds_threshold", threshold=threshold)
        safe_name(name, "dataset name")
        with self.locked(name):
            target = self.resolve(name)
            rows = self.rows(target.path)
            kept, exact_n, near_n = dstats.dedup_rows(rows, target.shape, near, threshold)
            if exact_n + near_n == 0:
                return DedupResult(self.row(name), len(rows), len(rows), 0, 0, None)
            new = self.add_versions(target, [(kept, Message("ds.note_dedup", {"exact": exact_n, "near": near_n}),
                                              note)])[0]
        return DedupResult(self.row(name), len(rows), len(kept), exact_n, near_n, new)

    def delete(self, name: str, delete_files: bool = False) -> list[str]:
        """Unregister a dataset; with delete_files, also remove the files the studio wrote. Returns removed paths."""
        if self._manifest(name) is None and not _is_safe(name):
            self.unregister(name)  # a hand-written name: no folder of ours to lock
            return []
        removed: list[str] = []
        with self.locked(name):
            manifest = self._manifest(name)
            try:
                self.unregister(name)
            except NotFoundError:
                if not (delete_files and manifest is not None):
                    raise
            if delete_files:
                removed = store.delete_files(self.settings, self.root / name, manifest)
        return removed
