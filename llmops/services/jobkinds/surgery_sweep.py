"""The merge-ratio sweep kind: one job merges and scores every grid point; the completion registers the best.

Stop is graceful: the point in progress is finished, the points done stay in points.jsonl and the best of them is
still kept and registered (its lineage says the sweep was stopped).
"""

from __future__ import annotations

from pathlib import Path

from ...runner import evidence
from ...runner.evidence import RESULT_FILE
from ...schemas.jobs import Job, JobStatus
from ..surgery.sweep import KIND, SweepParams
from .registry import JobKind, RemoteWork, WorkerContext, read_json, register
from .surgery_merge import merge_needs

# Where the sweep's folder and its kept model sit in the far side's run folder.
THERE, OUTPUT = "sweep", "output"


def _run(ctx: WorkerContext, params: SweepParams) -> dict:
    from ..surgery.sweep import run_sweep_job

    return run_sweep_job(ctx.settings, params, ctx.stop, ctx.progress)


def _complete(ctx, job: Job) -> dict:
    from ..surgery.outputs import register_output
    from ..surgery.sweep import lineage

    result = read_json(Path(job.run_dir) / RESULT_FILE)
    if result is None or not result.get("path"):
        return {"skipped": "no output"}
    params = SweepParams(**(job.meta or {}).get("params", {}))
    entry = register_output(ctx.settings, params.name, result["path"], {**lineage(params, result), "job_id": job.id})
    return {**result, "model_id": entry.id}


def _judge(run_dir: Path, stop_requested: bool) -> evidence.Verdict:
    """result.json is written only after the best point's model was moved into place."""
    if not (run_dir / RESULT_FILE).is_file():
        return evidence.Verdict(JobStatus.LOST, f"{evidence.GONE}; no {RESULT_FILE} was written")
    status = JobStatus.STOPPED if stop_requested else JobStatus.COMPLETED
    return evidence.Verdict(status, f"ended while nobody was watching it: the best point was moved into place and "
                                    f"{RESULT_FILE} written; exit code unknown")


evidence.register(evidence.KindEvidence(kind=KIND, proves_completion=f"{RESULT_FILE} in the run folder, written "
                                        "after the best point's model was moved into place", judge=_judge))


def _remote(settings, params: SweepParams) -> RemoteWork:
    """The sweep on a target: its folder (config and frozen set) travels, the inputs must be there already; each
    point merges under the far side's sweep folder, and the folder (points, result, kept merges) and the best
    model come back."""
    folder, final = Path(params.folder), Path(params.final)

    def there(path: str) -> str:
        return f"{THERE}/{Path(path).relative_to(folder).as_posix()}"

    points = [point.model_copy(update={"merge": point.merge.model_copy(update={
        "final": there(point.merge.final), "partial": there(point.merge.partial),
        "lora_cache": there(point.merge.lora_cache) if point.merge.lora_cache else None})})
              for point in params.points]
    moved = params.model_copy(update={"folder": THERE, "final": f"{OUTPUT}/{final.name}", "points": points})
    return RemoteWork(params=moved.model_dump(mode="json"), needs=merge_needs(params.points[0].merge.recipe),
                      ship=((folder, THERE),), folders=(OUTPUT,),
                      # No point scored means no kept model: that fetch is skipped, the points still come back.
                      fetch=((THERE, str(folder), False), (f"{OUTPUT}/{final.name}", str(final), True, True)),
                      result={"path": str(final), "folder": str(folder)},
                      imports=("pydantic", "yaml", "torch", "transformers", "mergekit"))


register(JobKind(KIND, "jobs.kind.surgery_sweep", SweepParams, _run, _complete,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED), graceful_stop=True, remote=_remote))
