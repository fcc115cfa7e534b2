"""Job kinds: each describes itself (name, typed parameters, how it runs, what proves it done, what its progress
looks like and what its completion does), so the runner, the reconciler, the CLI and the jobs panel need no
per-kind code of their own."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pydantic

from ...errors import InvalidInputError, LLMOpsError, NotFoundError, pydantic_details
from ...i18n import Message
from ...runner import evidence
from ...runner.runner import JobRunner
from ...schemas.jobs import Job, JobSpec, JobStatus
from ...settings import Settings
from ...storage import atomic_write_json

PARAMS_FILE = "params.json"
PROGRESS_FILE = "progress.json"
ERROR_FILE = "error.json"


@dataclass(frozen=True)
class JobProgress:
    """What a worker last reported: stage, done of total, and kind-specific counts."""

    stage: str = ""
    done: int = 0
    total: int = 0
    counts: dict = field(default_factory=dict)

    @property
    def percentage(self) -> float:
        return round(100.0 * self.done / self.total, 1) if self.total else 0.0


class ProgressWriter:
    """Writes progress.json in a run folder, atomically and at most every `every_s` seconds (the last one always)."""

    def __init__(self, run_dir: Path, every_s: float = 0.2):
        self.path, self.every_s, self._last = Path(run_dir) / PROGRESS_FILE, every_s, 0.0
        self._lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int, force: bool = False, **counts) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and done < total and now - self._last < self.every_s:
                return
            self._last = now
            atomic_write_json(self.path, {"stage": stage, "done": done, "total": total, "counts": counts})


def read_progress(run_dir: str | Path) -> JobProgress:
    """The last progress a worker wrote; empty when none yet (or a half-visible file)."""
    try:
        data = json.loads((Path(run_dir) / PROGRESS_FILE).read_text(encoding="utf-8"))
        return JobProgress(str(data.get("stage", "")), int(data.get("done", 0)), int(data.get("total", 0)),
                           dict(data.get("counts") or {}))
    except (OSError, ValueError, TypeError, AttributeError):
        return JobProgress()


def error_record(exc: LLMOpsError, stats: dict | None = None) -> dict:
    """What error.json holds: the error's key and parameters, not its text, so each reader renders it in its
    own language (a parameter that is itself a message stays a message)."""
    params = Message(exc.key, exc.params).to_dict()["params"]
    plain = {key: value if isinstance(value, (str, int, float, bool, dict, list, type(None))) else str(value)
             for key, value in params.items()}
    return {"key": exc.key, "params": plain, "stats": stats}


def recorded_message(recorded: dict) -> Message:
    """The message of an error.json record, its nested messages revived."""
    return Message.from_dict({"key": str(recorded.get("key")), "params": recorded.get("params") or {}})


def read_json(path: Path) -> dict | None:
    """A JSON object from a run folder, or None when absent or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass
class WorkerContext:
    """What a worker body gets: settings, its run folder, the stop request and the progress writer."""

    settings: Settings
    run_dir: Path
    stop: threading.Event
    progress: ProgressWriter


# The far side's own home, inside its remote run folder.
REMOTE_HOME = "home"


@dataclass(frozen=True)
class RemoteWork:
    """How one worker job runs on another machine: its parameters there (paths relative to the remote run folder),
    the files shipped with it, the paths that must already be there, and what comes back afterwards."""

    params: dict
    ship: tuple[tuple[Path, str], ...] = ()  # (file or folder here, where in the remote run folder)
    write: tuple[tuple[str, bytes], ...] = ()  # (where in the remote run folder, content made here for the job)
    needs: tuple[tuple[str, str], ...] = ()  # (i18n key of what it is, a path the target must already hold)
    # (path in the remote run folder, path here, replaces it whole[, skipped when the far side never made it])
    fetch: tuple[tuple, ...] = ()
    result: dict = field(default_factory=dict)  # result.json values as they read here (its paths), for keys it has
    folders: tuple[str, ...] = ()  # empty folders the job expects in its remote run folder
    imports: tuple[str, ...] = ("pydantic", "yaml")  # modules the far side's Python must have


@dataclass(frozen=True)
class JobKind:
    """One kind of job and everything about it the rest of the app needs to know."""

    name: str
    title_key: str  # i18n key of its display name
    params: type[pydantic.BaseModel] | None  # the typed spec its worker reads; None: argv built by its service
    run: Callable[[WorkerContext, pydantic.BaseModel], dict] | None  # the worker body; returns result.json
    complete: Callable[[object, Job], dict]  # (CompletionContext, job) -> what it registered
    applies_on: tuple[JobStatus, ...] = (JobStatus.COMPLETED,)
    graceful_stop: bool = False  # Stop ends the worker's loop and keeps partial output (else it is interrupted)
    devices: str = "none"
    # (settings, params) -> RemoteWork, for kinds that can run on a target; every refusal happens in it.
    remote: Callable[[Settings, pydantic.BaseModel], RemoteWork] | None = None

    @property
    def evidence(self) -> evidence.KindEvidence | None:
        """The runner's rule for judging this kind's unwatched runs."""
        return next((entry for entry in evidence.entries() if entry.kind == self.name), None)

    def argv(self, run_dir: Path) -> list[str]:
        """The job process: the same service code the UI would run, in `python -m llmops job-worker`."""
        return [sys.executable, "-m", "llmops", "job-worker", str(run_dir)]


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Add (or replace) a kind."""
    _KINDS[kind.name] = kind
    return kind


def kinds() -> list[JobKind]:
    """Every registered kind, by name."""
    _load()
    return [_KINDS[name] for name in sorted(_KINDS)]


def get(name: str) -> JobKind | None:
    """The kind called `name`, or None."""
    _load()
    return _KINDS.get(name)


def _load() -> None:
    # Importing registers the kinds.
    from . import benchmark, data, evaluation, surgery_average, surgery_export, surgery_merge, surgery_sweep, train  # noqa: F401,E501
    from . import serve  # noqa: F401

def parse_params(kind: JobKind, values: dict | pydantic.BaseModel) -> pydantic.BaseModel:
    """The kind's typed parameters; refused values become one user error."""
    if isinstance(values, kind.params):
        return values
    try:
        return kind.params(**values)
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.gen_options_invalid", details=pydantic_details(exc)) from None


def submit(settings: Settings, runner: JobRunner, kind_name: str, values: dict | pydantic.BaseModel, name: str, *,
           secret_values: dict[str, str] | None = None, secret_env: tuple[str, ...] = (),
           target: str | None = None) -> Job:
    """Queue one worker job of `kind_name` (on `target`, this machine by default); its parameters go to
    params.json in its own run folder."""
    kind = get(kind_name)
    if kind is None or kind.params is None:
        raise NotFoundError("err.job_kind_unknown", kind=kind_name)
    params = parse_params(kind, values)
    wrap = None
    if target:
        from ..targets_work import worker_wrap  # every check of the target runs here, before any folder exists

        wrap = worker_wrap(settings, kind, params, target)
    run_dir = settings.checkpoints_dir / "jobs" / f"{kind.name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    run_dir.mkdir(parents=True)
    dumped = params.model_dump(mode="json")
    atomic_write_json(run_dir / PARAMS_FILE, {"kind": kind.name, "params": dumped})
    spec = JobSpec(kind=kind.name, name=name, argv=kind.argv(run_dir), cwd=str(settings.install_root),
                   run_dir=str(run_dir), devices=kind.devices, meta={"params": dumped}, secret_env=secret_env,
                   secret_values=dict(secret_values or {}))
    return runner.submit(wrap(spec) if wrap else spec)
