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

from ...errors import InvalidInputError, LLMOpsError, NotFoundError
from ...i18n import t
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
class _Target:
    """A registered dataset resolved to one readable file."""

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
        return dataset_info.ensure(self.settings)

    def _rel(self, path: Path) -> str:
        return store.rel(self.settings, path)

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """One writer per dataset name, across threads and processes."""
        with file_lock(self.root / ".locks" / name):
            yield

    def _manifest(self, name: str) -> Manifest | None:
        # A hand-written entry's name may be no valid folder name: then it has no manifest.
        return manifests.read(self.root / name) if _is_safe(name) else None

    # --- validation and registration ------------------------------------------------------------------

    def _inspect(self, path: Path | str, fmt: str, label: str | None) -> Inspection:
        contain(self.settings, path)  # upload, validate and register read only inside the allowed roots
        return inspect(Path(path), fmt, lang=self.settings.lang, label=label or str(path), max_bytes=self.max_bytes,
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
        with self._locked(name):
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
                dataset_info.register(info_path, name, formats.entry_for(found.shape, file_name))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        return self.row(name)

    def _invalid(self, report: ValidationReport) -> InvalidInputError:
        shown = report.errors[:_ERRORS_IN_MESSAGE]
        if report.error_count > len(shown):
            shown = [*shown, t("ds.more_errors", self.settings.lang, count=report.error_count - len(shown))]
        return InvalidInputError("err.ds_invalid", path=report.path, count=report.error_count, valid=report.valid_rows,
                               total=report.total_rows, errors="\n".join(shown))

    # --- the table ------------------------------------------------------------------------------------

    def table(self) -> list[DatasetRow]:
        """Every dataset in dataset_info.json; broken entries and unreadable files appear with a problem."""
        try:
            info = dataset_info.read(self._info_path())
        except LLMOpsError:
            return []  # the whole file is unreadable: problems() says why
        rows = [self._row(name, entry) for name, entry in info.entries.items()]
        for problem in info.problems:
            name = problem.split(":", 1)[0]
            rows.append(DatasetRow(name=name, kind="?", format="?",
                                   problem=t("ds.problem_entry", self.settings.lang, reason=problem)))
        return rows

    def problems(self) -> list[str]:
        """One readable line per thing the table could not show properly."""
        try:
            dataset_info.read(self._info_path())
        except LLMOpsError as exc:
            return [exc.message(self.settings.lang)]
        return [f"{row.name}: {row.problem}" for row in self.table() if row.problem]

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
        lang = self.settings.lang
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
            row.problem = t("ds.problem_file_missing", lang, path=str(path))
            return row
        info = path.stat()
        row.size_bytes = info.st_size if path.is_file() else None
        if version is None:
            row.created = row.updated = datetime.fromtimestamp(info.st_mtime).astimezone().isoformat(
                timespec="seconds")
            if path.is_file():
                try:
                    row.samples = len(self._rows(path))
                except LLMOpsError as exc:
                    row.problem = t("ds.problem_unreadable", lang, reason=exc.message(lang))
        return row

    # --- reading rows ---------------------------------------------------------------------------------

    def _rows(self, path: Path) -> list:
        return self._cache.rows(path)

    def file_of(self, name: str, version: str | None = None) -> Path:
        """The file a registered dataset (or one of its versions) reads from."""
        return self._target(name, version).path

    def _target(self, name: str, version: str | None = None) -> _Target:
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
        return _Target(entry, path, shape, manifest, chosen)

    def preview(self, name: str, page: int = 1, page_size: int = 20, version: str | None = None) -> Preview:
        """One page of rows (pages count from 1; out-of-range pages are clamped)."""
        target = self._target(name, version)
        rows = self._rows(target.path)
        page_size = min(max(1, int(page_size)), _MAX_PAGE_SIZE)
        pages = max(1, math.ceil(len(rows) / page_size))
        page = min(max(1, int(page)), pages)
        chunk = rows[(page - 1) * page_size: page * page_size]
        return Preview(name, target.version.version if target.version else version, page, page_size, pages,
                       len(rows), export.columns_of(chunk), list(chunk))

    def stats(self, name: str, version: str | None = None) -> dstats.DatasetStats:
        """Samples, approximate token lengths, exact duplicates and empty fields."""
        target = self._target(name, version)
        return dstats.compute(name, self._rows(target.path), target.shape)

    def export_csv(self, name: str, out_path: Path | str, version: str | None = None) -> Path:
        """Write the dataset as CSV; cells that a spreadsheet would run as formulas are quoted."""
        return export.write_csv(self._rows(self._target(name, version).path), out_path)

    # --- versions -------------------------------------------------------------------------------------

    def versions(self, name: str) -> list[DatasetVersion]:
        """Every version, oldest first; a dataset registered by hand has one, describing its file."""
        target = self._target(name)
        if target.manifest is not None and target.version is not None:
            return list(target.manifest.versions)
        return [self._adopted_version(target)]

    def _adopted_version(self, target: _Target, version: str = "v1") -> DatasetVersion:
        return manifests.adopted(target.entry["file_name"], target.path, target.shape, len(self._rows(target.path)),
                                 t("ds.note_adopted", self.settings.lang), version)

    def dedup(self, name: str, near: bool = True, threshold: float = 0.8, note: str = "") -> DedupResult:
        """Remove exact (and near) duplicates into a NEW version that becomes the registered one."""
        if near and not 0.5 <= float(threshold) <= 1.0:
            raise InvalidInputError("err.ds_threshold", threshold=threshold)
        safe_name(name, "dataset name")
        with self._locked(name):
            target = self._target(name)
            rows = self._rows(target.path)
            kept, exact_n, near_n = dstats.dedup_rows(rows, target.shape, near, threshold)
            if exact_n + near_n == 0:
                return DedupResult(self.row(name), len(rows), len(rows), 0, 0, None)
            manifest = copy.deepcopy(target.manifest) if target.manifest else Manifest(name, [], "")
            parent = target.version.version if target.version else None
            if parent is None:  # adopt a hand-registered file as a version, untouched
                manifest.versions.append(self._adopted_version(target, manifest.next_version()))
                parent = manifest.versions[-1].version
            new = manifest.next_version()
            note = note or t("ds.note_dedup", self.settings.lang, exact=exact_n, near=near_n)
            manifest.versions.append(DatasetVersion(new, self._rel(self.root / name / f"{new}.jsonl"), parent, note,
                                                    len(kept), manifests.now(), target.shape.format,
                                                    manifests.shape_dict(target.shape)))
            manifest.current = new
            store.write_version(self.settings, self.root / name, target.manifest, manifest, kept, target.entry)
        return DedupResult(self.row(name), len(rows), len(kept), exact_n, near_n, new)

    def delete(self, name: str, delete_files: bool = False) -> list[str]:
        """Unregister a dataset; with delete_files, also remove the files the studio wrote. Returns removed paths."""
        if self._manifest(name) is None and not _is_safe(name):
            dataset_info.unregister(self._info_path(), name)  # a hand-written name: no folder of ours to lock
            return []
        removed: list[str] = []
        with self._locked(name):
            manifest = self._manifest(name)
            try:
                dataset_info.unregister(self._info_path(), name)
            except NotFoundError:
                if not (delete_files and manifest is not None):
                    raise
            if delete_files:
                removed = store.delete_files(self.settings, self.root / name, manifest)
        return removed
