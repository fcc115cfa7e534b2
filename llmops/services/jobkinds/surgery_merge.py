"""The mergekit merge kind: the worker merges into a temporary folder and commits it; the completion registers it.

Stop interrupts the merge (a half-merged model is worth nothing) and the temporary folder is discarded; the
completion, applied once by the reconciler, registers the committed folder as a `merged` version.
"""

from __future__ import annotations

from pathlib import Path

from ...runner import evidence
from ...runner.evidence import RESULT_FILE
from ...schemas.jobs import Job, JobStatus
from ..surgery.merge import MergeJobParams
from .registry import JobKind, RemoteWork, WorkerContext, read_json, register

KIND = "mergekit"


def _run(ctx: WorkerContext, params: MergeJobParams) -> dict:
    from ..surgery.merge import run_merge_job

    return run_merge_job(params, ctx.progress)


def _complete(ctx, job: Job) -> dict:
    from ..surgery.outputs import register_output

    result = read_json(Path(job.run_dir) / RESULT_FILE)
    if result is None:
        return {"skipped": "no output"}
    params = MergeJobParams(**(job.meta or {}).get("params", {}))
    entry = register_output(ctx.settings, params.name, result["path"], {**params.lineage, "job_id": job.id})
    return {**result, "model_id": entry.id}


def _judge(run_dir: Path, stop_requested: bool) -> evidence.Verdict:
    """result.json is written only after the output folder was moved into place."""
    if not (run_dir / RESULT_FILE).is_file():
        return evidence.Verdict(JobStatus.LOST, f"{evidence.GONE}; no {RESULT_FILE} was written")
    return evidence.Verdict(JobStatus.COMPLETED, f"ended while nobody was watching it: the merged model was moved "
                                                 f"into place and {RESULT_FILE} written; exit code unknown")


evidence.register(evidence.KindEvidence(kind=KIND, proves_completion=f"{RESULT_FILE} in the run folder, written "
                                        "after the merged model was moved into place", judge=_judge))


def merge_needs(recipe: dict) -> tuple[tuple[str, str], ...]:
    """Every model folder a mergekit recipe reads (a base+lora input names both), as a target's needs."""
    refs = [recipe.get("base_model"), *(item.get("model") for item in recipe.get("models") or [])]
    return tuple(("targets.what.model", part) for ref in refs if ref for part in str(ref).split("+"))


def _remote(settings, params: MergeJobParams) -> RemoteWork:
    """The merge on a target: its inputs must be there already; it writes under its own run folder and the merged
    model comes back into the planned output folder."""
    needs = merge_needs(params.recipe)
    final = Path(params.final)
    there = params.model_copy(update={"final": f"output/{final.name}", "partial": f"output/{Path(params.partial).name}",
                                      "lora_cache": "output/lora-cache" if params.lora_cache else None})
    return RemoteWork(params=there.model_dump(mode="json"), needs=needs, folders=("output",),
                      fetch=((f"output/{final.name}", str(final), True),), result={"path": str(final)},
                      imports=("pydantic", "yaml", "torch", "mergekit"))


register(JobKind(KIND, "jobs.kind.mergekit", MergeJobParams, _run, _complete, remote=_remote))
