"""The benchmark kind: lm-evaluation-harness on a registered local version, in its own process, its figures in an
evaluation run folder (the run's benchmarks.json and summary.json)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...runner.evidence import RESULT_FILE
from ...schemas.eval_runs import RUN_ID_PATTERN
from ...schemas.jobs import Job
from .registry import JobKind, RemoteWork, WorkerContext, read_json, register


class BenchmarkParams(BaseModel):
    """A prepared run folder (its tasks frozen under tasks/) and the version to score."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    model: str = Field(min_length=1, max_length=300)
    batch_size: int = Field(4, ge=1, le=1024)
    chat_template: bool = False


def _run(ctx: WorkerContext, params: BenchmarkParams) -> dict:
    from ..evaluation.benchmarks import run_benchmark

    data = run_benchmark(ctx.settings, params.model, run_id=params.run_id, batch_size=params.batch_size,
                         chat_template=params.chat_template,
                         progress=lambda stage, done, total: ctx.progress(stage, done, total, force=True))
    return {"run_id": params.run_id, "model": params.model,
            "tasks": {name: {"metrics": task["metrics"], "samples": task["samples"]}
                      for name, task in data["tasks"].items()}}


def _complete(ctx, job: Job) -> dict:
    """The worker already wrote its run folder: its result is the record."""
    return read_json(Path(job.run_dir) / RESULT_FILE) or {"skipped": "no output"}


def _remote(settings, params: BenchmarkParams) -> RemoteWork:
    """lm-eval on a target: the prepared run folder (its frozen tasks) and the registry travel, the weights must be
    there already, and the folder comes back with its figures."""
    from ..evaluation.run_folder import RunFolder
    from .evaluation import run_folder_work

    folder = RunFolder(settings, params.run_id).require()
    return run_folder_work(settings, folder, [params.model], params.model_dump(),
                           ("pydantic", "yaml", "torch", "transformers", "lm_eval"))


register(JobKind("benchmark", "jobs.kind.benchmark", BenchmarkParams, _run, _complete, devices="cpu", remote=_remote))
