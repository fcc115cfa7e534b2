"""The online loop: decisive votes -> DPO dataset -> DPO job on the current version -> the next version."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConflictError, InvalidInputError
from ..runner.runner import JobRunner
from ..schemas.jobs import Job, JobStatus
from ..schemas.models import ModelEntry
from ..schemas.training import TrainConfig
from ..settings import Settings
from ..storage import atomic_write_text, write_json_if_changed
from .datasets import DatasetRegistry
from .lineage.record import record_votes_batch
from .models import ModelRegistry
from .prefs import PrefsStore, dpo_pairs, kto_examples, pairs_digest
from .training import SavedConfig, TrainingService

DPO_ENTRY = {"ranking": True, "formatting": "alpaca",
             "columns": {"prompt": "prompt", "system": "system", "chosen": "chosen", "rejected": "rejected"}}
KTO_ENTRY = {"formatting": "alpaca",
             "columns": {"prompt": "prompt", "system": "system", "response": "response", "kto_tag": "kto_tag"}}
# What votes can be exported as: (lines from votes, file prefix, dataset_info entry).
EXPORT_SHAPES = {"dpo": (dpo_pairs, "dpo_prefs", DPO_ENTRY), "kto": (kto_examples, "kto_prefs", KTO_ENTRY)}


@dataclass(frozen=True)
class DpoRound:
    """A prepared round, shown for review before it is launched."""

    base: ModelEntry
    dataset: str
    export_path: Path
    pairs: int
    config: TrainConfig


class LoopService:
    """Glue between the preference log, the training service and the model registry."""

    def __init__(self, settings: Settings, models: ModelRegistry, training: TrainingService, runner: JobRunner,
                 prefs: PrefsStore):
        self.settings, self.models, self.training, self.runner, self.prefs = (settings, models, training, runner,
                                                                             prefs)

    @property
    def _state_path(self) -> Path:
        return self.settings.work_dir / "loop.json"

    def export(self, only_model: str | None = None, source: str | None = None,
               shape: str = "dpo") -> tuple[str, Path, int]:
        """Write decisive votes to data/llmops/<shape>_prefs_<hash>.jsonl and register it as a dataset: DPO pairs,
        or KTO examples (each vote's chosen answer desirable, its rejected one undesirable). Returns the lines."""
        self.settings.ensure_dirs()
        to_lines, prefix, dataset_entry = EXPORT_SHAPES[shape]
        # Named by content: reviewing a round again over the same votes reuses the file and its registration.
        votes = self.prefs.read().votes
        lines = to_lines(votes, only_models=only_model, source=source)
        path = self.settings.work_dir / f"{prefix}_{pairs_digest(lines)}.jsonl"
        content = "".join(lines)
        if not _holds(path, content):
            atomic_write_text(path, content)
        entry = {"file_name": str(path.relative_to(self.settings.data_dir)), **dataset_entry}
        DatasetRegistry(self.settings).register_entry(path.stem, entry, replace=True)  # unchanged: not rewritten
        record_votes_batch(self.settings, path.stem, path, lines, votes)
        return path.stem, path, len(lines)

    def prepare(self, base_id: str, only_current: bool = False, source: str | None = None,
                **overrides) -> DpoRound:
        """Export votes and pre-fill a DPO config that continues `base_id` and uses it as the reference."""
        base = self.models.get(base_id)
        if base.kind == "endpoint" or not base.path:
            raise InvalidInputError("err.loop_endpoint_base", model=base_id)
        name, path, pairs = self.export(base_id if only_current else None, source)
        extra = {"template": base.template} if base.template else {}
        if base.adapter:
            extra.update(adapter_name_or_path=base.adapter, ref_model=base.path, ref_model_adapters=base.adapter)
        run_name = f"dpo-{base.name}-{self.models.next_version(base.name)}-{time.strftime('%Y%m%d-%H%M%S')}"
        config = self.training.build("dpo", base.path, [name], run_name=run_name.replace("@", "-"),
                                     **{**extra, **overrides})
        return DpoRound(base, name, path, pairs, config)

    def launch(self, round_: DpoRound) -> tuple[SavedConfig, Job]:
        """Queue the reviewed round; the job remembers which version it continues."""
        return self.training.launch_config(round_.config, meta={"parent_model_id": round_.base.id, "loop": True})

    def complete(self, job_id: str) -> ModelEntry:
        """Register a finished round as the next version and make it the A/B pair against its parent (once)."""
        job = self.runner.get(job_id)
        if job.status is not JobStatus.COMPLETED:
            raise ConflictError("err.loop_job_not_done", job_id=job_id, status=job.status.value)
        registered = self.models.sync_jobs([job])
        entry = next((e for e in self.models.list() if e.lineage.get("job_id") == job_id), None)
        entry = entry or (registered[0] if registered else None)
        if entry is None:
            raise ConflictError("err.loop_job_not_done", job_id=job_id, status="not registrable")
        state = self._state()
        if job_id not in state["applied"]:
            write_json_if_changed(self._state_path, {"current": entry.id, "previous": job.meta.get("parent_model_id"),
                                                     "job_id": job_id, "applied": [*state["applied"], job_id]})
        return entry

    def make_current(self, model_id: str | None = None, *, force: bool = False) -> ModelEntry | None:
        """Make a round's result (default: the last round's) the chat backend, through the regression gate, which
        compares it with the version it was trained from; `force` overrides a failed gate (recorded in lineage)."""
        current, previous = self.pair()
        model_id = model_id or current
        if not model_id:
            raise ConflictError("err.loop_no_round")
        parent = previous if model_id == current else self.models.get(model_id).parent_id
        return self.models.set_default(model_id, force=force, previous=parent)

    def pending(self, jobs: list[Job]) -> list[Job]:
        """Completed loop rounds whose completion has not been applied yet, oldest first."""
        applied = set(self._state()["applied"])
        done = [job for job in jobs if job.meta.get("loop") and job.status is JobStatus.COMPLETED
                and job.id not in applied]
        return sorted(done, key=lambda job: (job.finished_at or job.created_at, job.id))

    def pair(self) -> tuple[str | None, str | None]:
        """The A/B pair the last round set up: (new version, the version it came from)."""
        state = self._state()
        return state.get("current"), state.get("previous")

    def _state(self) -> dict:
        if not self._state_path.exists():
            return {"applied": []}
        state = json.loads(self._state_path.read_text(encoding="utf-8"))
        applied = state.get("applied")
        # Files from before completions were tracked name only their last round.
        state["applied"] = applied if isinstance(applied, list) else [j for j in [state.get("job_id")] if j]
        return state


def _holds(path: Path, content: str) -> bool:
    """True when `path` already holds exactly `content`."""
    try:
        return path.stat().st_size == len(content.encode("utf-8")) and path.read_text(encoding="utf-8") == content
    except (OSError, UnicodeDecodeError):
        return False
