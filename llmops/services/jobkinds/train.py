"""The training kind: LLaMA-Factory runs queued by the training service; a completed one becomes a model version
(and, for a DPO loop round, the arena's new pair)."""

from __future__ import annotations

from ...schemas.jobs import Job
from .registry import JobKind, register


def _complete_train(ctx, job: Job) -> dict:
    if job.meta.get("loop"):
        entry = ctx.loop.complete(job.id)  # registers the version and sets the A/B pair, once
        return {"model_ids": [entry.id], "loop_pair": entry.id}
    return {"model_ids": [entry.id for entry in ctx.models.sync_jobs([job])]}


register(JobKind("train", "jobs.kind.train", None, None, _complete_train, devices="cpu"))
