"""Pipeline runs on disk: `<work>/pipelines/<run_id>/state.json`, written atomically under the run's lock, and only
by this module; the pipeline it runs is frozen beside it (pipeline.yaml)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...errors import NotFoundError, StorageError
from ...settings import Settings
from ...storage import atomic_write_text, file_lock

STATE_FILE = "state.json"
SPEC_FILE = "pipeline.yaml"
RUN_ID = r"^pl-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$"
StageStatus = Literal["pending", "running", "completed", "failed", "blocked", "stopped"]
RunStatus = Literal["running", "completed", "failed", "stopped"]
STAGE_FINISHED = ("completed", "failed", "blocked", "stopped")


class StageState(BaseModel):
    """One stage of a run: where it stands, the jobs it queued (newest last), its outputs, why it failed."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    needs: list[str] = Field(default_factory=list)
    status: StageStatus = "pending"
    job_id: str | None = None
    jobs: list[str] = Field(default_factory=list)
    started: float | None = None
    finished: float | None = None
    outputs: dict = Field(default_factory=dict)
    error: dict | None = None  # {"key", "params"} of an LLMOpsError, {"gate": verdict}, or {"text": job message}

    @property
    def duration_s(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started


class RunState(BaseModel):
    """state.json of one run."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(pattern=RUN_ID)
    name: str
    source: str  # the file it was started from
    current: str | None = None  # what `${current}` means in this run: the current version when it started
    status: RunStatus = "running"
    created: float
    updated: float
    order: list[str]
    stages: dict[str, StageState]

    def done_count(self) -> int:
        return sum(stage.status == "completed" for stage in self.stages.values())

    def position(self) -> int:
        """The 1-based number of the stage the run is at (the first not completed, in order)."""
        for index, stage_id in enumerate(self.order, 1):
            if self.stages[stage_id].status != "completed":
                return index
        return len(self.order)


def new_run_id() -> str:
    return f"pl-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class RunStore:
    """Creates, reads, edits and lists pipeline runs."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def root(self) -> Path:
        return self.settings.pipeline_runs_dir

    def folder(self, run_id: str) -> Path:
        if not _valid_id(run_id):
            raise NotFoundError("err.pl_run_unknown", run=run_id)
        return self.root / run_id

    def create(self, state: RunState, spec_text: str) -> RunState:
        folder = self.folder(state.run_id)
        folder.mkdir(parents=True, exist_ok=False)
        atomic_write_text(folder / SPEC_FILE, spec_text)
        atomic_write_text(folder / STATE_FILE, state.model_dump_json(indent=1))
        self._touch(state.run_id)
        return state

    def read(self, run_id: str) -> RunState:
        path = self.folder(run_id) / STATE_FILE
        try:
            return RunState.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError("err.pl_run_unknown", run=run_id) from None
        except (OSError, ValueError) as exc:
            raise StorageError("err.pl_state_corrupt", path=str(path), reason=str(exc)[:300]) from None

    def spec_text(self, run_id: str) -> str:
        return (self.folder(run_id) / SPEC_FILE).read_text(encoding="utf-8")

    @contextmanager
    def editing(self, run_id: str) -> Iterator[RunState]:
        """The run's state under its lock; written back (atomically) when the block changed it."""
        path = self.folder(run_id) / STATE_FILE
        with file_lock(path):
            state = self.read(run_id)
            before = state.model_dump_json()
            yield state
            if state.model_dump_json() != before:
                state.updated = time.time()
                atomic_write_text(path, state.model_dump_json(indent=1))
                self._touch(run_id)

    def _touch(self, run_id: str) -> None:
        """A file the page's live refresh follows: replaced whenever any run's state changes."""
        atomic_write_text(self.root / "revision", f"{run_id} {time.time_ns()}\n")

    def ids(self) -> list[str]:
        """Every run id, newest first."""
        if not self.root.is_dir():
            return []
        return sorted((p.name for p in self.root.iterdir() if _valid_id(p.name) and (p / STATE_FILE).exists()),
                      reverse=True)

    def list(self) -> list[RunState]:
        return [self.read(run_id) for run_id in self.ids()]


def _valid_id(run_id: str) -> bool:
    return bool(re.match(RUN_ID, run_id or ""))
