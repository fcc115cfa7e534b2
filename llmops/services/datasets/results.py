"""What the registry returns: table rows, preview pages and dedup outcomes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ...i18n import Message


@dataclass
class DatasetRow:
    """One line of the registry table; `problem` explains what could not be read, without hiding the row."""

    name: str
    kind: str  # pt | sft | preference ('?' for a broken entry)
    format: str  # pt | alpaca | sharegpt | messages | preference ('?' when unknown)
    file: str = ""  # file_name as in dataset_info.json (or a hub id)
    path: str = ""  # the resolved local path, '' for hub datasets
    samples: int | None = None
    size_bytes: int | None = None
    version: str | None = None  # current version of a managed dataset
    versions: int = 0
    created: str | None = None  # first version (or the file's modification time when not managed)
    updated: str | None = None  # current version
    managed: bool = False  # created by the registry (it has a manifest)
    problem: Message | None = None  # rendered by the reader in its language

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Preview:
    """One page of rows."""

    name: str
    version: str | None
    page: int
    page_size: int
    pages: int
    total: int
    columns: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DedupResult:
    """Rows before and after, what was removed, and the new version (None when nothing was removed)."""

    dataset: DatasetRow
    before: int
    after: int
    exact_removed: int
    near_removed: int
    version: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def human_size(n: int | None) -> str:
    """Bytes as B/KB/MB/GB for tables; '-' when unknown."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
