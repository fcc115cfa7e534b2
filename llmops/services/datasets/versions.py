"""The manifest of a managed dataset: its versions (never overwritten) and which one is registered."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from ...errors import InvalidInputError
from ...i18n import Message
from ...storage import atomic_write_json
from .formats import Shape

MANIFEST = "manifest.json"
_VERSION = re.compile(r"^v(\d+)$")


def now() -> str:
    """Local time with its offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass
class DatasetVersion:
    """One immutable file of a dataset and where it came from."""

    version: str
    file: str  # as in dataset_info.json: relative to the data folder when inside it
    parent: str | None
    note: str
    samples: int
    created: str
    format: str
    shape: dict = field(default_factory=dict)  # layout, columns, tags
    source: str = ""  # the uploaded file's name, for v1
    encoding: str = "utf-8"  # the encoding the source was read with
    message: dict = field(default_factory=dict)  # the studio's own description, as a Message dict (key, params)

    def note_text(self, lang: str = "en") -> str:
        """The description in `lang`, then the user's note (old manifests hold plain text in `note` only)."""
        described = Message.from_dict(self.message).render(lang) if self.message else ""
        return " ".join(part for part in (described, self.note) if part)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_shape(self) -> Shape:
        return Shape(self.format, self.shape.get("layout", "text"), dict(self.shape.get("columns") or {}),
                     dict(self.shape.get("tags") or {}))


def adopted(file_name: str, path: Path, shape: Shape, samples: int, message: Message,
            version: str = "v1") -> DatasetVersion:
    """A version record for a file registered by hand (the shipped samples, a user's own entry)."""
    created = datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    return DatasetVersion(version, file_name, None, "", samples, created, shape.format, shape_dict(shape), path.name,
                          message=message.to_dict())


def shape_dict(shape: Shape) -> dict:
    return {"layout": shape.layout, "columns": dict(shape.columns), "tags": dict(shape.tags)}


@dataclass
class Manifest:
    """All versions of one dataset; `current` is the one dataset_info.json points to."""

    name: str
    versions: list[DatasetVersion]
    current: str

    def get(self, version: str | None = None) -> DatasetVersion:
        wanted = version or self.current
        for item in self.versions:
            if item.version == wanted:
                return item
        raise InvalidInputError("err.ds_unknown_version", name=self.name, version=wanted)

    def next_version(self) -> str:
        numbers = [int(m.group(1)) for v in self.versions if (m := _VERSION.match(v.version))]
        return f"v{max(numbers, default=0) + 1}"

    def by_file(self, file_name: str) -> DatasetVersion | None:
        return next((v for v in self.versions if v.file == file_name), None)

    def to_dict(self) -> dict:
        return {"name": self.name, "current": self.current, "versions": [v.to_dict() for v in self.versions]}


def read(folder: Path) -> Manifest | None:
    """The manifest in `folder`, or None when there is none or it cannot be read."""
    path = folder / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = set(DatasetVersion.__dataclass_fields__)
        versions = [DatasetVersion(**{k: v for k, v in item.items() if k in known}) for item in raw["versions"]]
        return Manifest(raw["name"], versions, raw["current"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged manifest: the dataset is shown as registered by hand, never lost


def write(folder: Path, manifest: Manifest) -> Path:
    """Replace the manifest atomically (callers hold the dataset's lock)."""
    return atomic_write_json(folder / MANIFEST, manifest.to_dict())
