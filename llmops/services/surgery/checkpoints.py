"""A training run's `checkpoint-N` folders as a table to choose from: losses, size, completeness, eval score, flags.

A run is named by a job id, its folder, or a registered version whose adapter (or full model) folder is the run.
Losses come from the run's trainer_log.jsonl (the nearest logged step at or before N); the eval score from the
newest complete evaluation run over the version's checkpoints (`name@version#checkpoint-N`, see
evaluation/checkpoints.py). A half-written checkpoint is shown, flagged, and never selectable.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ConflictError, InvalidInputError, NotFoundError
from ...i18n import Message
from ...lf import trainer_log
from ...schemas.models import ModelEntry
from ...security.paths import contain
from ...settings import Settings
from ..evaluation.checkpoints import SEPARATOR
from ..models import ADAPTER_WEIGHTS, FULL_WEIGHTS, ModelRegistry

_CHECKPOINT = re.compile(r"^checkpoint-([0-9]+)$")
TRAINER_STATE = "trainer_state.json"
SCORE_FALLS = 2  # an eval score lower than the one before this many times in a row is flagged

# Flags a row may carry (their words are `sgc.flag.<flag>` in i18n/surgery_ckpt.py).
INCOMPLETE, EVAL_RISING, OVERFITTING, SCORE_FALLING, REGISTERED = (
    "incomplete", "eval_loss_rising", "overfitting", "score_falling", "registered")


@dataclass(frozen=True)
class RunRef:
    """A training run's folder and the registered version whose weights it is (when one is)."""

    path: Path
    version: ModelEntry | None = None


@dataclass
class CheckpointRow:
    """One `checkpoint-N` folder of a run."""

    name: str
    step: int
    path: Path
    kind: str | None  # "adapter", "full", or None when neither config is there
    bytes: int
    missing: list[str]  # what a complete checkpoint has and this one lacks
    train_loss: float | None = None
    eval_loss: float | None = None
    score: float | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict:
        return {"name": self.name, "step": self.step, "train_loss": self.train_loss, "eval_loss": self.eval_loss,
                "score": self.score, "flags": list(self.flags), "complete": self.complete, "bytes": self.bytes,
                "kind": self.kind, "missing": list(self.missing), "path": str(self.path)}


@dataclass
class CheckpointTable:
    """Every checkpoint of a run, the one recommended and why."""

    run: RunRef
    rows: list[CheckpointRow]
    recommended: str | None
    reason: Message
    metric: str | None = None  # the score column's metric key
    eval_run: str | None = None  # the evaluation run the scores come from

    def row(self, name: str) -> CheckpointRow:
        """The row of checkpoint `name` (`checkpoint-N` or just N)."""
        wanted = name if name.startswith("checkpoint-") else f"checkpoint-{name}"
        found = next((row for row in self.rows if row.name == wanted), None)
        if found is None:
            raise NotFoundError("err.sgc_checkpoint_unknown", name=name, run=str(self.run.path))
        return found

    def to_dict(self, lang: str = "en") -> dict:
        return {"run": str(self.run.path), "version": self.run.version.id if self.run.version else None,
                "checkpoints": [row.to_dict() for row in self.rows], "recommended": self.recommended,
                "reason": self.reason.render(lang), "metric": self.metric, "eval_run": self.eval_run}


# --- finding the run ----------------------------------------------------------------------------------------


def resolve_run(settings: Settings, run: str) -> RunRef:
    """The run a job id, a run folder or a registered version id names; refused when it has no checkpoints."""
    registry = ModelRegistry(settings)
    text = (run or "").strip()
    if "@" in text and not Path(text).exists():
        entry = registry.get(text)
        if entry.kind == "endpoint":
            raise InvalidInputError("err.sgc_not_a_run", run=text)
        folder = Path(entry.adapter if entry.kind == "adapter" else entry.path or "")
    elif text and Path(text).expanduser().is_dir():
        folder = contain(settings, text)
    else:
        from ...runner.runner import JobRunner

        job = JobRunner(settings).get(text)
        folder = Path(job.meta.get("output_dir") or job.run_dir)
    folder = folder.expanduser().resolve()
    if not any(_CHECKPOINT.match(p.name) and p.is_dir() for p in _children(folder)):
        raise NotFoundError("err.sgc_no_checkpoints", run=str(folder))
    return RunRef(folder, _version_of(registry, folder))


def _children(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _version_of(registry: ModelRegistry, folder: Path) -> ModelEntry | None:
    """The earliest registered version whose weights are the run's final output."""
    for entry in registry.list():
        where = entry.adapter if entry.kind == "adapter" else entry.path if entry.kind == "merged" else None
        if where and Path(where).resolve() == folder:
            return entry
    return None


# --- the table ----------------------------------------------------------------------------------------------


def checkpoint_table(settings: Settings, run: str | RunRef, metric: str | None = None) -> CheckpointTable:
    """The run's checkpoints by step, their losses, scores and flags, and the one to pick."""
    ref = run if isinstance(run, RunRef) else resolve_run(settings, run)
    rows = [_row(p, int(m.group(1))) for p in _children(ref.path) if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    rows.sort(key=lambda row: row.step)
    _add_losses(ref.path, rows)
    metric_key, eval_run = _add_scores(settings, ref, rows, metric)
    registered = _registered_paths(settings)
    for row in rows:
        if row.path.resolve() in registered:
            row.flags.append(REGISTERED)
    flag_trends(rows, higher_is_better=_higher_is_better(metric_key))
    recommended, reason = recommend(rows, metric_key)
    return CheckpointTable(ref, rows, recommended, reason, metric_key, eval_run)


def _row(path: Path, step: int) -> CheckpointRow:
    names = {p.name for p in path.iterdir() if p.is_file()}
    kind = "adapter" if "adapter_config.json" in names else "full" if "config.json" in names else None
    weights = ADAPTER_WEIGHTS if kind == "adapter" else FULL_WEIGHTS
    missing = [] if kind else ["config"]
    if not any(name in names for name in weights):
        missing.append("weights")
    if TRAINER_STATE not in names:
        missing.append(TRAINER_STATE)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return CheckpointRow(path.name, step, path, kind, size, missing, flags=[INCOMPLETE] if missing else [])


def _at_or_before(steps: list[int], values: list, step: int):
    """The value logged at the nearest step ≤ `step` (None when nothing was logged by then)."""
    found = None
    for logged, value in zip(steps, values):
        if logged <= step and value is not None:
            found = value
    return found


def _add_losses(folder: Path, rows: list[CheckpointRow]) -> None:
    progress = trainer_log.read_progress(folder)  # the same reader as the live training chart
    for row in rows:
        row.train_loss = _at_or_before(progress.steps, progress.loss, row.step)
        row.eval_loss = _at_or_before(progress.eval_steps, progress.eval_loss, row.step)


def _add_scores(settings: Settings, ref: RunRef, rows: list[CheckpointRow], metric: str | None):
    """Fill the score column from the newest complete evaluation run over this version's checkpoints."""
    if ref.version is None:
        return None, None
    from ..evaluation import metrics as metric_registry
    from ..evaluation.run_folder import list_runs

    refs = {f"{ref.version.id}{SEPARATOR}{row.name}": row for row in rows}
    for folder in list_runs(settings):
        summary = folder.summary()
        if summary is None or summary.status != "complete" or not refs.keys() & summary.models.keys():
            continue
        key = metric_registry.get(metric).key if metric else (summary.metrics[0] if summary.metrics else None)
        if key is None:
            return None, folder.run_id
        for model_id, figures in summary.models.items():
            if model_id in refs:
                refs[model_id].score = figures.metrics.get(key)
        return key, folder.run_id
    return (metric_registry.get(metric).key if metric else None), None


def _registered_paths(settings: Settings) -> set[Path]:
    return {Path(where).resolve() for entry in ModelRegistry(settings).list()
            for where in (entry.adapter, entry.path) if where and Path(where).is_dir()}


def _higher_is_better(metric_key: str | None) -> bool:
    from ..evaluation import metrics as metric_registry

    try:
        return metric_registry.get(metric_key).higher_is_better if metric_key else True
    except InvalidInputError:
        return True


def flag_trends(rows: list[CheckpointRow], falls: int = SCORE_FALLS, higher_is_better: bool = True) -> None:
    """Mark eval loss rising (and overfitting: while train loss fell) against the checkpoint before, and an eval
    score that got worse `falls` times in a row; half-written checkpoints are skipped, not compared."""
    usable = [row for row in rows if row.complete]
    run_of_falls = 0
    for before, row in itertools.pairwise(usable):
        if before.eval_loss is not None and row.eval_loss is not None and row.eval_loss > before.eval_loss:
            row.flags.append(EVAL_RISING)
            if before.train_loss is not None and row.train_loss is not None and row.train_loss < before.train_loss:
                row.flags.append(OVERFITTING)
        if before.score is not None and row.score is not None:
            worse = row.score < before.score if higher_is_better else row.score > before.score
            run_of_falls = run_of_falls + 1 if worse else 0
            if run_of_falls >= falls:
                row.flags.append(SCORE_FALLING)


def recommend(rows: list[CheckpointRow], metric_key: str | None = None) -> tuple[str | None, Message]:
    """The checkpoint to keep and why: the best eval score when an evaluation scored them; else the lowest eval
    loss (earliest on a tie, and said so when the loss rose after it); else the last complete one."""
    usable = [row for row in rows if row.complete]
    if not usable:
        return None, Message("sgc.reason.none")
    scored = [row for row in usable if row.score is not None]
    if scored:
        sign = 1 if _higher_is_better(metric_key) else -1
        best = max(scored, key=lambda row: (sign * row.score, -row.step))
        return best.name, Message("sgc.reason.score", {"metric": metric_key or "-", "score": f"{best.score:.4g}",
                                                       "step": best.step})
    with_loss = [row for row in usable if row.eval_loss is not None]
    if with_loss:
        best = min(with_loss, key=lambda row: (row.eval_loss, row.step))
        rose = next((row for row in with_loss if row.step > best.step and EVAL_RISING in row.flags), None)
        if rose is not None:
            return best.name, Message("sgc.reason.eval_loss_before_rise", {
                "step": best.step, "loss": f"{best.eval_loss:.4f}", "rise": rose.step})
        return best.name, Message("sgc.reason.eval_loss", {"step": best.step, "loss": f"{best.eval_loss:.4f}"})
    return usable[-1].name, Message("sgc.reason.last", {"step": usable[-1].step})


# --- actions ------------------------------------------------------------------------------------------------


def register_checkpoint(settings: Settings, run: str | RunRef, name: str, as_name: str | None = None) -> ModelEntry:
    """Register one complete checkpoint as a version: an adapter on the run's base, or a full (merged) model."""
    table = checkpoint_table(settings, run)
    row = table.row(name)
    if not row.complete:
        raise InvalidInputError("err.sgc_incomplete", name=row.name, missing=", ".join(row.missing))
    registry = ModelRegistry(settings)
    version = table.run.version
    lineage = {"operation": "checkpoint", "checkpoint": row.name, "step": row.step, "run": str(table.run.path),
               **({"run_version": version.id} if version else {})}
    for entry in registry.list():  # registering the same checkpoint twice returns the first registration
        if (entry.adapter or entry.path) and Path(entry.adapter or entry.path).resolve() == row.path.resolve():
            return entry
    if row.kind == "adapter":
        base = base_of(registry, version, row.path)
        return registry.add_adapter(as_name or (version.name if version else base.name), base.id, str(row.path),
                                    lineage=lineage)
    parent = version.id if version else None
    return registry.add_merged(as_name or (version.name if version else table.run.path.name), str(row.path),
                               lineage={**lineage, **({"parent_id": parent} if parent else {})})


def base_of(registry: ModelRegistry, version: ModelEntry | None, adapter: Path) -> ModelEntry:
    """The registered base (or merged) model an adapter checkpoint was trained on."""
    import json

    parent = registry.get(version.parent_id) if version and version.parent_id else None
    if parent is not None and parent.kind in ("base", "merged"):
        return parent
    trained_on = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8")).get(
        "base_model_name_or_path") or ""
    wanted = Path(trained_on).expanduser().resolve() if Path(trained_on).expanduser().exists() else None
    for entry in registry.list():
        if entry.kind in ("base", "merged") and entry.path and (
                (wanted and Path(entry.path).resolve() == wanted) or entry.path == trained_on):
            return entry
    raise NotFoundError("err.sgc_base_unknown", base=trained_on or "-")


@dataclass(frozen=True)
class PrunePlan:
    """What `prune` would delete (and keep), the bytes it frees, and the token that confirms exactly this plan."""

    run: Path
    delete: list[tuple[str, int]]
    keep: list[str]
    token: str

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.delete)

    def to_dict(self) -> dict:
        return {"run": str(self.run), "delete": [{"name": n, "bytes": b} for n, b in self.delete],
                "keep": list(self.keep), "bytes": self.bytes, "token": self.token}


def prune_plan(settings: Settings, run: str | RunRef) -> PrunePlan:
    """Every checkpoint but the recommended one and the registered ones, as a plan; nothing is deleted."""
    table = checkpoint_table(settings, run)
    keep = [row.name for row in table.rows if row.name == table.recommended or REGISTERED in row.flags]
    delete = [(row.name, row.bytes) for row in table.rows if row.name not in keep]
    digest = hashlib.sha256(repr((str(table.run.path), delete, keep)).encode()).hexdigest()[:12]
    return PrunePlan(table.run.path, delete, keep, digest)


def prune(settings: Settings, run: str | RunRef, token: str) -> PrunePlan:
    """Delete what the plan names, only when `token` is that very plan's (a changed run needs a new plan)."""
    plan = prune_plan(settings, run)
    if not token or token != plan.token:
        raise ConflictError("err.sgc_prune_token", token=token or "-", run=str(plan.run))
    root = plan.run.resolve()
    for name, _ in plan.delete:
        target = root / name
        # Only a real folder directly inside the run, named like a checkpoint, is ever removed.
        if not _CHECKPOINT.match(name) or target.is_symlink() or target.resolve().parent != root:
            raise InvalidInputError("err.sgc_prune_outside", path=str(target), run=str(root))
        shutil.rmtree(target)
    return plan
