"""Evaluation runs as jobs: checked and frozen before anything runs, then generated and scored by an `eval` job.

One run folder (run_folder.py) may be worked on by several jobs in turn: a stopped run is resumed by a new job on
the same folder, which answers only what has no prediction line yet.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pydantic

from ...errors import ConflictError, InvalidInputError, LLMOpsError, NotFoundError, pydantic_details
from ...i18n import Lines
from ...runner.runner import JobRunner
from ...schemas.eval_runs import EvalRunConfig, RunSummary
from ...schemas.evaluation import EvalSample
from ...schemas.jobs import Job
from ...settings import Settings
from ..jobkinds import JobProgress, read_progress, submit
from ..models import ModelRegistry
from . import metrics as registry
from .checkpoints import checkpoints_of, resolve
from .run_folder import RunFolder, list_runs, new_run_id
from .sets import SUFFIX, EvalSets
from .summarise import summarise

KIND = "eval"
_NEEDS_TEXT = {registry.REFERENCE: "reference", registry.LABEL: "label"}


@dataclass
class RunView:
    """One run as a list, a page or the CLI shows it: what it was asked, how far it got, its latest job."""

    config: EvalRunConfig
    summary: RunSummary | None
    progress: JobProgress
    job: Job | None
    path: Path

    @property
    def status(self) -> str:
        """pending / running while a job works on it, else the summary's partial / complete ('new' before any)."""
        if self.job is not None and not self.job.status.finished:
            return self.job.status.value
        return self.summary.status if self.summary else "new"

    def to_dict(self) -> dict:
        return {"run_id": self.config.run_id, "name": self.config.name, "status": self.status,
                "config": self.config.model_dump(mode="json"),
                "summary": self.summary.model_dump(mode="json") if self.summary else None,
                "progress": {"stage": self.progress.stage, "done": self.progress.done, "total": self.progress.total,
                             "counts": self.progress.counts},
                "job_id": self.job.id if self.job else None, "path": str(self.path)}


class EvalRuns:
    """Start, resume, stop, list and show evaluation runs."""

    def __init__(self, settings: Settings, runner: JobRunner, models: ModelRegistry | None = None,
                 sets: EvalSets | None = None):
        self.settings, self.runner = settings, runner
        self.models = models or ModelRegistry(settings)
        self.sets = sets or EvalSets(settings)

    # --- starting -------------------------------------------------------------------------------------

    def prepare(self, values: dict | pydantic.BaseModel) -> tuple[EvalRunConfig, list[EvalSample]]:
        """The checked config (metrics resolved, a fresh run id) and the samples it freezes; nothing is written."""
        data = dict(values.model_dump(mode="json") if isinstance(values, pydantic.BaseModel) else values)
        data.update(run_id=new_run_id(), created=_now())
        data["models"] = list(dict.fromkeys(data.get("models") or []))
        try:
            config = EvalRunConfig.model_validate(data)
        except pydantic.ValidationError as exc:
            raise InvalidInputError("err.ev_run_invalid", details=pydantic_details(exc)) from None
        entries = {model_id: resolve(self.models, model_id) for model_id in config.models}  # unknown: NotFoundError
        samples = self._load_set(config.set)[: config.limit or None]
        if not samples:
            raise InvalidInputError("err.ev_run_empty_set", set=config.set)
        metric_names = self._metrics(config, samples)
        ppl = config.perplexity_model
        if "perplexity" in metric_names:
            # Each local version scores under its own weights; `perplexity_model` narrows it to one of them.
            local = [m for m, e in entries.items() if e.kind != "endpoint"]
            if (ppl and ppl not in local) or not local:
                raise InvalidInputError("err.ev_run_perplexity_model", model=ppl or "-")
        return config.model_copy(update={"metrics": metric_names, "perplexity_model": ppl}), samples

    def start(self, values: dict | pydantic.BaseModel, target: str | None = None) -> tuple[RunFolder, Job]:
        """Check everything, freeze the set into a new run folder and queue its `eval` job (on `target`)."""
        config, samples = self.prepare(values)
        folder = RunFolder(self.settings, config.run_id)
        folder.create(config, samples)
        try:
            return folder, self._submit(folder, config, target)
        except LLMOpsError:
            shutil.rmtree(folder.path, ignore_errors=True)  # a refused target leaves no run without a job behind
            raise

    def score_checkpoints(self, version_id: str, values: dict, target: str | None = None) -> tuple[RunFolder, Job]:
        """One run over every `checkpoint-N` of a version's training run and the version itself (its final step),
        on `target` (this machine by default)."""
        refs = checkpoints_of(self.models, version_id)
        if not refs:
            raise NotFoundError("err.ev_no_checkpoints", model=version_id)
        name = values.get("name") or f"checkpoints {version_id}"
        return self.start({**values, "models": [*refs, version_id], "name": name}, target=target)

    def resume(self, run_id: str) -> Job:
        """A new job on the same folder: it answers only the (model, sample) pairs with no line yet."""
        folder = RunFolder(self.settings, run_id).require()
        busy = self.job_of(run_id)
        if busy is not None and not busy.status.finished:
            raise ConflictError("err.ev_run_busy", run=run_id, job_id=busy.id)
        return self._submit(folder, folder.config())

    def stop(self, run_id: str, wait_s: float = 0.0) -> Job | None:
        """Ask the run's job to stop (what it wrote stays); None when no job is working on it."""
        RunFolder(self.settings, run_id).require()
        job = self.job_of(run_id)
        if job is None or job.status.finished:
            return None
        return self.runner.stop(job.id, wait_s=wait_s)

    # --- reading --------------------------------------------------------------------------------------

    def list(self) -> list[RunView]:
        """Every run, newest first."""
        jobs = self._jobs()
        return [self._view(folder, jobs.get(folder.run_id)) for folder in list_runs(self.settings)]

    def show(self, run_id: str) -> RunView:
        """One run's config, summary and progress."""
        folder = RunFolder(self.settings, run_id).require()
        return self._view(folder, self.job_of(run_id))

    def folder(self, run_id: str) -> RunFolder:
        """The run's folder (reports, sheets and the gate read its files through it)."""
        return RunFolder(self.settings, run_id).require()

    def job_of(self, run_id: str) -> Job | None:
        """The newest job that worked on the run."""
        return self._jobs().get(run_id)

    def summarise(self, run_id: str) -> RunSummary:
        """Score the run's predictions now (a stopped run too) and write summary.json."""
        job = self.job_of(run_id)
        return summarise(self.settings, self.folder(run_id), models=self.models,
                         running=job is not None and not job.status.finished)

    def wait(self, run_id: str, timeout_s: float | None = None) -> RunView:
        """Block until the run's job ends (or `timeout_s` passes); the run as it stands then."""
        job = self.job_of(run_id)
        if job is not None:
            self.runner.wait(job.id, timeout_s)
        return self.show(run_id)

    # --- internals ------------------------------------------------------------------------------------

    def _load_set(self, name: str) -> list[EvalSample]:
        """A set by name, or a .jsonl set file read directly (validated line by line, nothing registered)."""
        path = Path(name).expanduser()
        if name.endswith(SUFFIX) and ("/" in name or path.is_file()):
            report = self.sets.validate_file(path)
            if not report.ok:
                raise InvalidInputError("err.ev_run_set_file", path=report.path, count=report.error_count,
                                        errors=Lines(tuple(report.messages[:10])))
            return self.sets._read(path, report.path)[0]
        return self.sets.load(name)

    def _metrics(self, config: EvalRunConfig, samples: list[EvalSample]) -> list[str]:
        """The run's metric names: those asked for, each refused when no sample has what it needs; by default
        the standard text metrics when the set has references, accuracy when it has labels."""
        has = {registry.REFERENCE: any(s.reference is not None for s in samples),
               registry.LABEL: any((s.label or "").strip() for s in samples)}
        if not config.metrics:
            chosen = list(registry.DEFAULT_METRICS) if has[registry.REFERENCE] else []
            return chosen + (["accuracy"] if has[registry.LABEL] else [])
        names = list(dict.fromkeys(registry.get(name).name for name in config.metrics))
        for name in names:
            for need in registry.METRICS[name].needs:
                if need in has and not has[need]:
                    raise InvalidInputError("err.ev_run_metric_needs", metric=name, needs=_NEEDS_TEXT[need],
                                            set=config.set)
        return names

    def _submit(self, folder: RunFolder, config: EvalRunConfig, target: str | None = None) -> Job:
        # An endpoint's key reaches the worker by the variable's name, never through a file.
        keys = tuple(dict.fromkeys(e.endpoint.api_key_env for e in (resolve(self.models, m) for m in config.models)
                                   if e.endpoint is not None and e.endpoint.api_key_env))
        if config.judge is not None and config.judge.api_key_env:
            keys = tuple(dict.fromkeys((*keys, config.judge.api_key_env)))
        return submit(self.settings, self.runner, KIND, {"run_id": folder.run_id},
                      f"eval {config.name or folder.run_id}", secret_env=keys, target=target)

    def _jobs(self) -> dict[str, Job]:
        """The newest eval job of each run id."""
        newest: dict[str, Job] = {}
        for job in self.runner.list(1000):
            run_id = (job.meta.get("params") or {}).get("run_id") if job.kind == KIND else None
            if run_id and run_id not in newest:
                newest[run_id] = job
        return newest

    def _view(self, folder: RunFolder, job: Job | None) -> RunView:
        progress = read_progress(job.run_dir) if job else JobProgress()
        return RunView(folder.config(), folder.summary(), progress, job, folder.path)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")

