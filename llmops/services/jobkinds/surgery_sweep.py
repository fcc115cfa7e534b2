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
from .registry import JobKind, WorkerContext, read_json, register


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
register(JobKind(KIND, "jobs.kind.surgery_sweep", SweepParams, _run, _complete,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED), graceful_stop=True))
