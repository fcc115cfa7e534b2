"""Where a surgery job writes its model, and how it becomes a version: never half-written, never registered twice.

    <Settings.models_dir>/<name>/             the finished model (config.json, weights, tokenizer, recipe.yaml)
    <Settings.models_dir>/.partial-<name>-*/  while the job writes it; moved into place in one rename

A job's completion (applied once by the reconciler) calls `register_output`; an output already registered is
returned as it is, so a retried completion changes nothing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from ...errors import ConflictError, InvalidInputError, StorageError
from ...schemas.models import ModelEntry
from ...security.paths import contain
from ...settings import Settings
from ...storage import atomic_write_text, safe_name
from ..models import ModelRegistry

RECIPE_FILE = "recipe.yaml"
PARTIAL_PREFIX = ".partial-"
_SPARE_FRACTION = 1.1  # room asked for beyond the estimate: shards, tokenizer, filesystem slack


@dataclass(frozen=True)
class OutputPlan:
    """The final folder of one operation's model and the temporary folder it is written to first."""

    final: Path
    partial: Path

    def commit(self, recipe: dict) -> Path:
        """Write the recipe beside the weights and move the finished model into place in one rename."""
        if not (self.partial / "config.json").is_file():
            raise StorageError("err.sg_output_incomplete", path=str(self.partial))
        atomic_write_text(self.partial / RECIPE_FILE, yaml.safe_dump(recipe, allow_unicode=True, sort_keys=False))
        if self.final.exists():
            raise ConflictError("err.sg_output_exists", path=str(self.final))
        os.replace(self.partial, self.final)
        return self.final

    def discard(self) -> None:
        """Remove what a stopped or failed job left in the temporary folder."""
        shutil.rmtree(self.partial, ignore_errors=True)


def plan_output(settings: Settings, name: str, out: str | None = None) -> OutputPlan:
    """The output folder for a new model called `name` (or `out`, inside the workspace); refused when it exists."""
    final = contain(settings, out) if out else settings.models_dir / safe_name(name, "model name")
    if final.exists():
        raise ConflictError("err.sg_output_exists", path=str(final))
    partial = final.parent / f"{PARTIAL_PREFIX}{final.name}-{uuid.uuid4().hex[:6]}"
    return OutputPlan(final=final, partial=partial)


def require_space(where: Path, needed_bytes: int) -> None:
    """Refuse before anything runs when the filesystem holding `where` lacks room for `needed_bytes`."""
    probe = where
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    wanted = int(needed_bytes * _SPARE_FRACTION)
    if free < wanted:
        raise InvalidInputError("err.sg_no_space", path=str(probe), needed=_gb(wanted), free=_gb(free))


def weights_bytes(folder: Path | str) -> int:
    """Bytes of a model folder's weight files (safetensors / bin)."""
    root = Path(folder)
    return sum(p.stat().st_size for p in root.iterdir()
               if p.is_file() and (p.suffix == ".safetensors" or p.name.endswith(".bin")))


def register_output(settings: Settings, name: str, path: Path | str, lineage: dict) -> ModelEntry:
    """The finished model as a `merged` version (once: a folder already registered is returned as it is)."""
    registry = ModelRegistry(settings)
    wanted = Path(path).resolve()
    existing = next((e for e in registry.list() if e.kind == "merged" and e.path and Path(e.path) == wanted), None)
    if existing is not None:
        return existing
    recipe = Path(path) / RECIPE_FILE
    return registry.add_merged(name, str(path), lineage={**lineage, "recipe": str(recipe)})


def _gb(count: int) -> str:
    return f"{count / 1024**3:.2f} GB"
