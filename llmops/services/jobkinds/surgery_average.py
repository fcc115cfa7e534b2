"""The weight-averaging kind: SWA or EMA over one run's checkpoints, written aside, registered once on completion."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...runner import evidence
from ...runner.evidence import GONE, RESULT_FILE, KindEvidence, Verdict
from ...schemas.jobs import Job, JobStatus
from .registry import JobKind, RemoteWork, WorkerContext, read_json, register

KIND = "surgery_average"
# Where the checkpoints and the averaged model sit in the far side's run folder.
CHECKPOINTS, OUTPUT = "checkpoints", "output"


class AverageParams(BaseModel):
    """A run folder, the checkpoints to average (ordered by step when run), and how."""

    model_config = ConfigDict(extra="forbid")

    run: str = Field(min_length=1, max_length=2000)
    checkpoints: list[str] = Field(min_length=2, max_length=256)
    ema: float | None = Field(None, gt=0.0, lt=1.0)  # None: SWA (uniform)
    lora: Literal["merge", "cat"] = "merge"
    name: str = Field(min_length=1, max_length=100)
    out: str | None = None
    spec: dict | None = None  # on a target: the plan made here, its paths those of the far side


def _run(ctx: WorkerContext, params: AverageParams) -> dict:
    from ..surgery.averaging import run_average

    ctx.progress("average", 0, 1, force=True)
    return run_average(ctx.settings, params.run, params.checkpoints, params.ema, params.lora, params.name, params.out,
                       progress=lambda stage, done, total: ctx.progress(stage, done, total, force=True),
                       spec=params.spec)


def _remote(settings, params: AverageParams) -> RemoteWork:
    """The average on a target, planned here: the chosen checkpoints travel, a LoRA run's base must be there
    already, and the averaged model comes back into the planned output folder."""
    from ..surgery.averaging import describe

    spec = describe(settings, params.run, params.checkpoints, params.ema, params.lora, params.name, params.out)
    folders, final = [Path(folder) for folder in spec["folders"]], Path(spec["final"])
    there = {**spec, "folders": [f"{CHECKPOINTS}/{folder.name}" for folder in folders],
             "final": f"{OUTPUT}/{final.name}"}
    needs = (("targets.what.model", spec["base"]),) if spec["base"] else ()
    return RemoteWork(params=params.model_copy(update={"spec": there}).model_dump(mode="json"), needs=needs,
                      ship=tuple((folder, f"{CHECKPOINTS}/{folder.name}") for folder in folders), folders=(OUTPUT,),
                      fetch=((f"{OUTPUT}/{final.name}", str(final), True),),
                      result={"path": str(final)},
                      imports=("pydantic", "yaml", "torch", "safetensors", *(("peft",) if spec["base"] else ())))


def _complete(ctx, job: Job) -> dict:
    """Register the output (a merged model, or an adapter for the cat method) once."""
    from ..surgery.averaging import register_average

    result = read_json(Path(job.run_dir) / RESULT_FILE)
    if result is None:
        return {"skipped": "no output"}
    entry = register_average(ctx.settings, result)
    return {"path": result["path"], "model_id": entry.id, "output": result["output"]}


def _judge(run_dir: Path, stop_requested: bool) -> Verdict:
    """Only result.json, written after the model was moved into place, proves the output."""
    if not (run_dir / RESULT_FILE).is_file():
        return Verdict(JobStatus.LOST, f"{GONE}; no {RESULT_FILE} was written")
    return Verdict(JobStatus.COMPLETED, f"ended while nobody was watching it: {RESULT_FILE} written; exit code unknown")


evidence.register(KindEvidence(kind=KIND, proves_completion=f"{RESULT_FILE} in the run folder, written last by the "
                               "worker after the averaged model was moved into place", judge=_judge))
register(JobKind(KIND, "jobs.kind.surgery_average", AverageParams, _run, _complete, remote=_remote))
