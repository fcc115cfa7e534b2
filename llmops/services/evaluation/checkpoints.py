"""A training run's `checkpoint-N` folders as models an evaluation can answer with.

A checkpoint is named after the registered version it belongs to: `name@version#checkpoint-N` is the adapter (or
full model) saved at step N of that version's run. Nothing is registered for it, so scoring every checkpoint of a
run leaves the model registry as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...errors import InvalidInputError, NotFoundError
from ...schemas.models import ModelEntry
from ..models import ModelRegistry

SEPARATOR = "#"
_CHECKPOINT = re.compile(r"^checkpoint-([0-9]+)$")


def _run_folder(entry: ModelEntry) -> Path:
    """Where the version's run saved its checkpoints: the adapter's folder, or a full model's own."""
    return Path(entry.adapter if entry.kind == "adapter" else entry.path or "")


def checkpoints_of(registry: ModelRegistry, version_id: str) -> list[str]:
    """The checkpoint refs of a registered version's run, by step."""
    entry = registry.get(version_id)
    if entry.kind == "endpoint":
        return []
    folder = _run_folder(entry)
    steps = sorted(int(m.group(1)) for p in folder.glob("checkpoint-*") if p.is_dir() and (m := _CHECKPOINT.match(p.name)))
    return [f"{entry.id}{SEPARATOR}checkpoint-{step}" for step in steps]


def resolve(registry: ModelRegistry, ref: str) -> ModelEntry:
    """The entry a model ref names: a registered version, or one of its checkpoints (loaded like the version)."""
    version_id, sep, checkpoint = ref.partition(SEPARATOR)
    entry = registry.get(version_id)
    if not sep:
        return entry
    if not _CHECKPOINT.match(checkpoint) or entry.kind == "endpoint":
        raise InvalidInputError("err.ev_checkpoint_ref", ref=ref)
    folder = _run_folder(entry) / checkpoint
    if not folder.is_dir():
        raise NotFoundError("err.ev_checkpoint_missing", ref=ref, path=str(folder))
    if entry.kind == "adapter":
        return entry.model_copy(update={"adapter": str(folder)})
    return entry.model_copy(update={"path": str(folder)})
