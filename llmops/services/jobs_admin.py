"""Restart a finished job (fresh, or a training resumed from its last checkpoint) and delete a job with its folder."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pydantic

from ..errors import ConflictError, InvalidInputError, PermissionDeniedError
from ..i18n import t
from ..schemas.jobs import Job
from ..schemas.training import TrainConfig
from ..security.paths import resolve
from ..settings import Settings
from . import jobkinds
from . import training_sources as sources
from .datasets.results import human_size
from .jobkinds.registry import PARAMS_FILE, read_json
from .jobs_compare import Comparison, compare
from .training import TrainingService

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
_RESTART_SUFFIX = re.compile(r"-r\d+$")


@dataclass(frozen=True)
class Restarted:
    """The job that was restarted, the new one, and how."""

    source: Job
    job: Job
    mode: str  # "fresh" (a new run folder) or "resume" (the same folder, from `checkpoint`)
    checkpoint: str = ""


@dataclass(frozen=True)
class DeletePlan:
    """What deleting a job removes: its folder(s), the size they take on disk, every job row that used them."""

    job: Job
    folders: list[Path]
    bytes: int
    job_ids: list[str]
    versions: list[str] = field(default_factory=list)  # registered versions whose files live in those folders


@dataclass(frozen=True)
class Deleted:
    """What a delete removed and the disk space it gave back."""

    job_ids: list[str]
    folders: list[Path]
    freed_bytes: int


def disk_bytes(folder: Path) -> int:
    """Space a folder takes on disk as the filesystem allocates it (blocks, each file once, links not followed)."""
    total, seen = 0, set()
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            try:
                stat = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_blocks * 512
    try:
        total += os.lstat(folder).st_blocks * 512
    except FileNotFoundError:
        return 0
    return total


def last_checkpoint(run_dir: Path) -> Path | None:
    """The highest checkpoint-N of a run that the trainer finished saving (it has trainer_state.json)."""
    if not run_dir.is_dir():
        return None
    found = [(int(m[1]), path) for path in run_dir.iterdir()
             if path.is_dir() and (m := _CHECKPOINT.match(path.name)) and (path / "trainer_state.json").is_file()]
    return max(found)[1] if found else None


class JobsAdmin:
    """Restart and delete over the runner's job table and the training service."""

    def __init__(self, settings: Settings, training: TrainingService):
        self.settings = settings
        self.training = training
        self.runner = training.runner

    def compare(self, job_ids: list[str]) -> Comparison:
        """Two or more runs' configs and curves side by side."""
        return compare(self.runner, job_ids)

    # --- restart ----------------------------------------------------------------------------------

    def restart(self, job_id: str, resume: bool = False) -> Restarted:
        """Run a finished job again: a training with the same config in a new folder (or resumed from its last
        checkpoint in its own folder), a worker kind with the same parameters in a new folder."""
        job = self.runner.get(job_id)
        if not job.status.finished:
            raise ConflictError("err.jobs_restart_running", job_id=job.id, status=job.status.value)
        if job.kind == "train":
            return self._restart_train(job, resume)
        if resume:
            raise InvalidInputError("err.jobs_resume_train_only", job_id=job.id, kind=job.kind)
        kind = jobkinds.get(job.kind)
        if kind is None or kind.params is None:
            raise InvalidInputError("err.jobs_restart_unsupported", job_id=job.id, kind=job.kind)
        recorded = read_json(Path(job.run_dir) / PARAMS_FILE) or {}
        params = recorded.get("params", job.meta.get("params"))
        if not isinstance(params, dict):
            raise InvalidInputError("err.jobs_restart_no_params", job_id=job.id, path=job.run_dir)
        if params.get("typed_key"):
            # A key typed for one job is never stored, so a copy of that job would run without it.
            raise InvalidInputError("err.jobs_restart_typed_key", job_id=job.id)
        new = jobkinds.submit(self.settings, self.runner, job.kind, params, job.name)
        return Restarted(job, new, "fresh")

    def train_config(self, job: Job) -> TrainConfig:
        """The typed config a training ran with (recorded with the job, else read back from its saved YAML)."""
        typed = job.meta.get("config") or {}
        if typed:
            try:
                return TrainConfig.model_validate(typed)
            except pydantic.ValidationError as exc:
                raise sources.config_error(exc) from exc
        path = job.meta.get("config_path")
        if not path:
            raise InvalidInputError("err.jobs_restart_no_params", job_id=job.id, path=job.run_dir)
        return self.training.load_config(path)

    def _restart_train(self, job: Job, resume: bool) -> Restarted:
        config = self.train_config(job)
        meta = {"restarted_from": job.id}
        if resume:
            checkpoint = last_checkpoint(Path(job.run_dir))
            if checkpoint is None:
                raise InvalidInputError("err.jobs_no_checkpoint", job_id=job.id, path=job.run_dir)
            # No run name: a resumed run's folder is its checkpoint's run, the one it ran in.
            config = config.model_copy(update={"resume_from_checkpoint": str(checkpoint), "run_name": None})
            _, new = self.training.launch_config(config, meta={**meta, "restart_mode": "resume"})
            return Restarted(job, new, "resume", str(checkpoint))
        config = config.model_copy(update={"resume_from_checkpoint": None,
                                           "run_name": self._fresh_name(Path(job.run_dir).name)})
        _, new = self.training.launch_config(config, meta={**meta, "restart_mode": "fresh"})
        return Restarted(job, new, "fresh")

    def _fresh_name(self, name: str) -> str:
        """<run>-r2, -r3…: the first name with no folder under checkpoints/ yet."""
        base, attempt = _RESTART_SUFFIX.sub("", name), 2
        while (self.settings.checkpoints_dir / f"{base}-r{attempt}").exists():
            attempt += 1
        return f"{base}-r{attempt}"

    # --- delete -----------------------------------------------------------------------------------

    def plan_delete(self, job_id: str) -> DeletePlan:
        """What deleting `job_id` would remove; refused for a queued or running job and for any folder that is not
        a job's own folder under checkpoints/."""
        job = self.runner.get(job_id)
        if not job.status.finished:
            raise ConflictError("err.jobs_delete_running", job_id=job.id, status=job.status.value)
        folders = list(dict.fromkeys(self._deletable(path) for path in _job_folders(job)))
        users = [other for other in self.runner.list(100_000)
                 if any(resolve(path) in folders for path in _job_folders(other))]
        busy = [other for other in users if not other.status.finished]
        if busy:
            raise ConflictError("err.jobs_delete_running", job_id=busy[0].id, status=busy[0].status.value)
        ids = [job.id, *[other.id for other in users if other.id != job.id]]
        versions = [entry.id for entry in self.training.models.list()
                    if any(_inside(place, folders) for place in (entry.path, entry.adapter) if place)]
        return DeletePlan(job, folders, sum(disk_bytes(folder) for folder in folders if folder.exists()), ids,
                          versions)

    def delete(self, job_id: str) -> Deleted:
        """Remove the job's rows and folder(s); the folder is first moved aside, so a refused row delete puts it
        back and nothing is half-removed under its own name."""
        plan = self.plan_delete(job_id)
        moved: list[tuple[Path, Path]] = []
        for folder in plan.folders:
            if folder.exists():
                aside = folder.with_name(f".deleting-{folder.name}-{uuid.uuid4().hex[:8]}")
                os.rename(folder, aside)
                moved.append((folder, aside))
        try:
            self.runner.store.delete(plan.job_ids)
        except BaseException:
            for folder, aside in moved:
                os.rename(aside, folder)
            raise
        freed = 0
        for _, aside in moved:
            size = disk_bytes(aside)
            shutil.rmtree(aside)
            freed += size
        return Deleted(plan.job_ids, plan.folders, freed)

    def _deletable(self, path: str | Path) -> Path:
        """`path` resolved, when it is a job's own folder: a child of checkpoints/ or checkpoints/jobs/, not a link."""
        checkpoints = resolve(self.settings.checkpoints_dir)
        folder = resolve(path)
        parents = (checkpoints, checkpoints / "jobs")
        reserved = folder in parents or folder == checkpoints / "jobs"
        if Path(path).is_symlink() or reserved or folder.parent not in parents:
            raise PermissionDeniedError("err.jobs_delete_outside", path=str(path), root=str(checkpoints))
        return folder


def _inside(path: str, folders: list[Path]) -> bool:
    """True when `path` is one of `folders` or lies below one."""
    real = resolve(path)
    return any(real == folder or folder in real.parents for folder in folders)


def _job_folders(job: Job) -> list[str]:
    """A job's run folder and, when it names another, its output folder."""
    output = job.meta.get("output_dir") if isinstance(job.meta, dict) else None
    return [job.run_dir, *([output] if output and resolve(output) != resolve(job.run_dir) else [])]


def size_text(count: int) -> str:
    """A size for people, with the exact byte count beside it."""
    return f"{human_size(count)} ({count:,} bytes)"


def restart_text(restarted: Restarted, lang: str) -> str:
    """One line saying which job now runs what."""
    mode = t(f"jobsx.mode.{restarted.mode}", lang, checkpoint=Path(restarted.checkpoint).name)
    return t("jobsx.restarted", lang, source=restarted.source.id, job_id=restarted.job.id, mode=mode,
             run_dir=restarted.job.run_dir)


def plan_text(plan: DeletePlan, lang: str) -> str:
    """What a delete would remove, to be confirmed."""
    text = t("jobsx.delete_plan", lang, job_ids=", ".join(plan.job_ids),
             folders=", ".join(f"`{folder}`" for folder in plan.folders) or "-", size=size_text(plan.bytes))
    if plan.versions:
        text += " " + t("jobsx.delete_versions", lang, versions=", ".join(plan.versions))
    return text


def deleted_text(deleted: Deleted, lang: str) -> str:
    """What a delete removed and freed."""
    return t("jobsx.deleted", lang, job_ids=", ".join(deleted.job_ids),
             folders=", ".join(f"`{folder}`" for folder in deleted.folders) or "-", size=size_text(deleted.freed_bytes))
