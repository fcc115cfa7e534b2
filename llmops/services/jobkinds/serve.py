"""The serve kind: an OpenAI-compatible server queued by the serving service; when it ends, the endpoint versions
it registered are removed so nothing offers a dead server."""

from __future__ import annotations

from ...schemas.jobs import Job, JobStatus
from .registry import JobKind, register


def _complete_serve(ctx, job: Job) -> dict:
    from ..serving.service import retire

    return {"removed_model_ids": retire(ctx.models, job)}


register(JobKind("serve", "jobs.kind.serve", None, None, _complete_serve,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED)))
