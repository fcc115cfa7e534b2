"""The evaluation kind: one job generates a run's missing answers, then scores them into summary.json.

Stop ends generation at the next answer and still scores what was written, so a stopped run has a partial summary
and a later job on the same folder (resume) answers only the rest.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...runner.evidence import RESULT_FILE
from ...schemas.eval_runs import RUN_ID_PATTERN
from ...schemas.jobs import Job, JobStatus
from .registry import REMOTE_HOME, JobKind, RemoteWork, WorkerContext, read_json, register

JUDGE_STAGE = "judge"
CONTAMINATION_STAGE = "contamination"


class EvalParams(BaseModel):
    """The run folder the job works on; everything else is in its config.json."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(pattern=RUN_ID_PATTERN)


def _run_eval(ctx: WorkerContext, params: EvalParams) -> dict:
    from ..evaluation.contamination import contamination_reports
    from ..evaluation.generate import generate
    from ..evaluation.run_folder import RunFolder
    from ..evaluation.summarise import STAGE, summarise

    folder = RunFolder(ctx.settings, params.run_id).require()
    if folder.contamination() is None:
        ctx.progress(CONTAMINATION_STAGE, 0, 1, force=True)
        folder.write_contamination(contamination_reports(ctx.settings, folder))
    made = generate(ctx.settings, folder, ctx.stop, ctx.progress)
    ctx.progress(STAGE, made["done"], made["total"], force=True, **made["counts"])
    spec = folder.config().judge
    if spec is not None and not ctx.stop.is_set():
        _judge(ctx, folder, spec)
    summary = summarise(ctx.settings, folder)
    ctx.progress(STAGE, summary.done, summary.total, force=True, **made["counts"], status=summary.status)
    # `path` marks a stopped job's output as kept (the jobs panel and the CLI read a stop without it as a loss).
    return {"run_id": params.run_id, "path": str(folder.path), "written": made["written"], "done": summary.done,
            "total": summary.total, "status": summary.status}


def _judge(ctx: WorkerContext, folder, spec) -> None:
    """Judge what was answered; a stop keeps the judgements made so far and a resume asks only the rest."""
    from ..evaluation.judging import judge_run

    judge_run(ctx.settings, folder, spec, stop=ctx.stop,
              progress=lambda done, total: ctx.progress(JUDGE_STAGE, done, total))


def _complete_eval(ctx, job: Job) -> dict:
    """The run folder already holds everything; the job's record is its result."""
    result = read_json(Path(job.run_dir) / RESULT_FILE)
    return result if result is not None else {"skipped": "no output"}


def _remote_eval(settings, params: EvalParams) -> RemoteWork:
    """Generation and scoring on a target: contamination is checked here first (the datasets it reads stay here),
    then the run folder travels and comes back whole."""
    from ...errors import InvalidInputError
    from ..evaluation.contamination import contamination_reports
    from ..evaluation.run_folder import RunFolder

    folder = RunFolder(settings, params.run_id).require()
    config = folder.config()
    if config.judge is not None:
        raise InvalidInputError("err.target.eval_judge", run=params.run_id)
    if folder.contamination() is None:
        folder.write_contamination(contamination_reports(settings, folder))
    return run_folder_work(settings, folder, config.models, params.model_dump(),
                           ("pydantic", "yaml", "torch", "transformers"))


def run_folder_work(settings, folder, model_ids, params: dict, imports: tuple[str, ...]) -> RemoteWork:
    """An evaluation run folder's job on a target: the folder and the model registry travel to the far side's
    home, each local model's weights must be there already, and the folder comes back whole."""
    from ...errors import InvalidInputError
    from ..evaluation.checkpoints import resolve
    from ..models import ModelRegistry

    registry, needs = ModelRegistry(settings), []
    for model_id in model_ids:
        entry = resolve(registry, model_id)
        if entry.endpoint is not None:
            if entry.endpoint.api_key_env:  # a key never leaves this machine
                raise InvalidInputError("err.target.endpoint_key", model=model_id, var=entry.endpoint.api_key_env)
            continue
        needs += [("targets.what.model", entry.path or "")] + ([("targets.what.adapter", entry.adapter)] if entry.adapter else [])
    rel = folder.path.relative_to(settings.home).as_posix()
    models = registry.path.relative_to(settings.home).as_posix()
    return RemoteWork(params=params, needs=tuple(needs),
                      ship=((folder.path, f"{REMOTE_HOME}/{rel}"), (registry.path, f"{REMOTE_HOME}/{models}")),
                      fetch=((f"{REMOTE_HOME}/{rel}", str(folder.path), False),), result={"path": str(folder.path)},
                      imports=imports)


register(JobKind("eval", "jobs.kind.eval", EvalParams, _run_eval, _complete_eval,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED), graceful_stop=True, remote=_remote_eval))
