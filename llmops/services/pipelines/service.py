"""Pipeline runs: validated and previewed before anything runs, then advanced by the reconciler's pass — a stage
starts when what it needs completed and its jobs' completions took effect; a failure blocks what depends on it."""

from __future__ import annotations

import json
import logging
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import ConflictError, InvalidInputError, LLMOpsError
from ...i18n import Lines, Message
from ...storage import atomic_write_text
from ...schemas.jobs import JobStatus
from ..datasets import DatasetRegistry
from ..evaluation.gate import GateResult
from ..evaluation.run_folder import RunFolder
from ..jobkinds.registry import ERROR_FILE, read_json, recorded_message
from . import spec as specs
from .refs import resolve
from .stages import START, StageContext, collect, preview
from .store import STAGE_FINISHED, RunState, RunStore, StageState, new_run_id

log = logging.getLogger(__name__)
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_APPLIED = (JobStatus.COMPLETED, JobStatus.STOPPED)


@dataclass(frozen=True)
class StagePreview:
    """One stage as it would run: its kind, what it needs and its generated config."""

    id: str
    kind: str
    needs: list[str]
    config: dict

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "needs": self.needs, "config": self.config}


class PipelineService:
    """Validate, preview, start, advance, stop, resume and show pipeline runs."""

    def __init__(self, ctx: StageContext):
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = RunStore(ctx.settings)

    # --- files and validation -------------------------------------------------------------------------------------

    def files(self) -> list[Path]:
        return specs.list_files(self.settings)

    def read_file(self, name: str) -> tuple[Path, str]:
        path = specs.find_file(self.settings, name)
        return path, path.read_text(encoding="utf-8")

    def save_file(self, name: str, text: str) -> Path:
        """Write a checked pipeline to configs/pipelines/<name>.yaml (it then shadows a shipped one of that name)."""
        name = (name or "").strip()
        if not _FILE_NAME.fullmatch(name):
            raise InvalidInputError("err.pl_bad_name", name=name)
        self.validate(text, name)
        return atomic_write_text(self.settings.pipelines_dir / f"{name}.yaml", text)

    def validate(self, text: str, source: str = "pipeline") -> tuple[specs.Graph, list[StagePreview]]:
        """The checked graph and every stage's generated config; the first refusal names its stage."""
        graph = specs.check_graph(specs.parse_text(text, source))
        current = self._current()
        shown: list[StagePreview] = []
        for stage_id in graph.order:
            stage = graph.stage(stage_id)
            params = resolve(stage.params.model_dump(mode="json"), {}, current, preview=True,
                             install=str(self.settings.install_root))
            try:
                config = preview(self.ctx, stage.kind, params)
            except LLMOpsError as exc:
                raise InvalidInputError("err.pl_stage_config", stage=stage_id, kind=stage.kind,
                                        reason=Message(exc.key, exc.params)) from None
            plain = json.loads(json.dumps(config, default=str))  # paths and the like shown as text
            shown.append(StagePreview(stage_id, stage.kind, graph.needs[stage_id], plain))
        return graph, shown

    # --- running --------------------------------------------------------------------------------------------------

    def start(self, text: str, source: str = "pipeline") -> RunState:
        """Validate, record the run and start what can start now."""
        graph, _ = self.validate(text, source)
        now = time.time()
        stages = {sid: StageState(id=sid, kind=graph.stage(sid).kind, needs=graph.needs[sid]) for sid in graph.order}
        state = RunState(run_id=new_run_id(), name=graph.pipeline.name, source=source, current=self._current(),
                         created=now, updated=now, order=graph.order, stages=stages)
        self.store.create(state, text)
        return self.advance(state.run_id)

    def start_file(self, name: str) -> RunState:
        path, text = self.read_file(name)
        return self.start(text, str(path))

    def ensure_run(self, name: str) -> RunState:
        """The run of pipeline file `name` that is running or completed; started now when there is none."""
        path, text = self.read_file(name)
        wanted = specs.parse_text(text, str(path)).name
        found = next((r for r in self.list() if r.name == wanted and r.status in ("running", "completed")), None)
        return found or self.start(text, str(path))

    def advance_all(self) -> list[str]:
        """One pass over every running run (the reconciler calls this after applying completions)."""
        moved = []
        for run_id in self.store.ids():
            try:
                if self.store.read(run_id).status == "running":
                    self.advance(run_id)
                    moved.append(run_id)
            except LLMOpsError as exc:
                log.warning("pipeline run %s not advanced: %s", run_id, exc.message("en"))
            except (OSError, ValueError) as exc:
                # One broken run must not stop the pass (or the reconciler's thread) for the others.
                log.warning("pipeline run %s not advanced: %s", run_id, exc)
        return moved

    def advance(self, run_id: str) -> RunState:
        """Finish stages whose jobs took effect, start those whose needs completed, block those that never can."""
        graph = specs.check_graph(specs.parse_text(self.store.spec_text(run_id), run_id))
        with self.store.editing(run_id) as state:
            if state.status != "running":
                return state
            for stage_id in state.order:
                self._step(state, state.stages[stage_id], graph)
            state.status = _run_status(state)
            return state

    def _step(self, state: RunState, stage: StageState, graph: specs.Graph) -> None:
        if stage.status == "running":
            self._finish(stage)
            return
        if stage.status != "pending":
            return
        needs = [state.stages[need] for need in stage.needs]
        broken = next((need for need in needs if need.status in ("failed", "blocked", "stopped")), None)
        if broken is not None:
            stage.status, stage.finished = "blocked", time.time()
            stage.error = Message("pl.blocked", {"need": broken.id, "status": broken.status}).to_dict()
            return
        if any(need.status != "completed" for need in needs):
            return
        outputs = {sid: s.outputs for sid, s in state.stages.items() if s.status == "completed"}
        stage.started, stage.error = time.time(), None
        try:
            params = resolve(graph.stage(stage.id).params.model_dump(mode="json"), outputs, state.current,
                             install=str(self.settings.install_root))
            started = START[stage.kind](self.ctx, params, f"{state.run_id}-{stage.id}-{len(stage.jobs) + 1}")
        except LLMOpsError as exc:
            stage.status, stage.finished, stage.error = "failed", time.time(), _error(exc)
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            stage.status, stage.finished = "failed", time.time()
            stage.error = Message("pl.error_text", {"text": f"{type(exc).__name__}: {exc}"[:500]}).to_dict()
            return
        stage.outputs = started.outputs
        if started.job is not None:
            stage.status, stage.job_id = "running", started.job.id
            stage.jobs.append(started.job.id)
            return
        stage.finished = time.time()
        stage.status = "failed" if started.failure else "completed"
        stage.error = started.failure

    def _finish(self, stage: StageState) -> None:
        """A running stage whose job ended: completed once its completion took effect, else failed with why."""
        job = self.ctx.runner.get(stage.job_id)
        if not job.status.finished or (job.status in _APPLIED and job.applied_at is None):
            return
        stage.finished = time.time()
        if job.status is not JobStatus.COMPLETED or job.apply_error:
            # A worker's own refusal (error.json) says more than its exit code, and in the reader's language.
            recorded = read_json(Path(job.run_dir) / ERROR_FILE) if job.status is JobStatus.FAILED else None
            why = recorded_message(recorded) if recorded else job.apply_error or job.message or "-"
            stage.status = "failed"
            stage.error = Message("pl.job_failed", {"job_id": job.id, "status": job.status.value,
                                                    "message": why}).to_dict()
            return
        try:
            stage.outputs = collect(self.ctx, stage.kind, job, stage.outputs)
            stage.status = "completed"
        except LLMOpsError as exc:
            stage.status, stage.error = "failed", _error(exc)

    # --- stop and resume ------------------------------------------------------------------------------------------

    def stop(self, run_id: str, wait_s: float = 0.0) -> RunState:
        """Stop the run's running jobs and mark it stopped; what finished stays."""
        with self.store.editing(run_id) as state:
            for stage in state.stages.values():
                if stage.status == "running" and stage.job_id:
                    self.ctx.runner.stop(stage.job_id, wait_s=wait_s)
                    stage.status, stage.finished = "stopped", time.time()
            if state.status == "running":
                state.status = "stopped"
            return state

    def resume(self, run_id: str) -> RunState:
        """Failed, stopped and blocked stages back to pending; finished ones kept, their outputs checked first."""
        state = self.store.read(run_id)
        if state.status not in ("failed", "stopped"):
            raise ConflictError("err.pl_not_resumable", run=run_id, status=state.status)
        gone = [f"{stage.id}.{name}: {value}" for stage in state.stages.values() if stage.status == "completed"
                for name, value in stage.outputs.items() if not self._exists(name, value)]
        if gone:
            raise ConflictError("err.pl_outputs_gone", run=run_id, outputs=Lines(tuple(gone)))
        with self.store.editing(run_id) as state:
            for stage in state.stages.values():
                if stage.status in ("failed", "stopped", "blocked"):
                    stage.status, stage.error, stage.finished, stage.job_id = "pending", None, None, None
            state.status = "running"
        return self.advance(run_id)

    def _exists(self, name: str, value) -> bool:
        """Whether an output a later stage may read is still there."""
        if not isinstance(value, str) or not value:
            return True
        if name == "model":
            entry = next((e for e in self.ctx.models.list() if e.id == value), None)
            return entry is not None and all(Path(p).exists() for p in (entry.path, entry.adapter)
                                             if p and entry.kind != "endpoint" and Path(p).is_absolute())
        if name == "dataset":
            return value in DatasetRegistry(self.settings).entries()
        if name == "run":
            return RunFolder(self.settings, value).path.is_dir()
        if name in ("path", "output_dir", "recipe"):
            return Path(value).exists()
        return True

    # --- reading --------------------------------------------------------------------------------------------------

    def list(self) -> list[RunState]:
        return self.store.list()

    def show(self, run_id: str) -> RunState:
        return self.store.read(run_id)

    @staticmethod
    def reason(stage: StageState, lang: str = "en") -> str:
        """Why a stage failed or was blocked, in `lang`; '' when it did not."""
        if not stage.error:
            return ""
        if "gate" in stage.error:
            return GateResult(**stage.error["gate"]).message(lang)
        return Message.from_dict(stage.error).render(lang)

    @staticmethod
    def command(source: str, wait: bool = True) -> str:
        """The copy-paste command that runs the same pipeline from a terminal."""
        return f"python -m llmops pipeline run {shlex.quote(source)}" + (" --wait" if wait else "")

    def _current(self) -> str | None:
        entry = self.ctx.models.default()
        return entry.id if entry else None


def _error(exc: LLMOpsError) -> dict:
    """A refusal as state.json keeps it: its key and parameters, anything not plain JSON as text."""
    plain = (str, int, float, bool, type(None), Message, Lines)
    return Message(exc.key, {k: v if isinstance(v, plain) else str(v) for k, v in exc.params.items()}).to_dict()


def _run_status(state: RunState) -> str:
    statuses = [stage.status for stage in state.stages.values()]
    if all(status == "completed" for status in statuses):
        return "completed"
    if any(status in ("running", "pending") for status in statuses):
        return "running"
    return "failed" if any(status in STAGE_FINISHED[1:] for status in statuses) else "running"
