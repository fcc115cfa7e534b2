"""The serve kind: an OpenAI-compatible server queued by the serving service; when it ends, the endpoint versions
it registered are removed so nothing offers a dead server."""

from __future__ import annotations

from pathlib import Path

from ...runner import evidence
from ...schemas.jobs import Job, JobStatus
from .registry import JobKind, register


def _complete_serve(ctx, job: Job) -> dict:
    from ..serving.service import retire

    return {"removed_model_ids": retire(ctx.models, job)}


def _judge(run_dir: Path, stop_requested: bool) -> evidence.Verdict:
    """A server never finishes on its own: gone unwatched it was stopped when a stop was asked, else it is lost."""
    if stop_requested:
        return evidence.Verdict(JobStatus.STOPPED, f"{evidence.GONE}; a stop had been asked")
    return evidence.Verdict(JobStatus.LOST, f"{evidence.GONE}; a server ends only when stopped")


evidence.register(evidence.KindEvidence(kind="serve", proves_completion="nothing: a server ends only when stopped "
                                        "(STOPPED when a stop was asked, else LOST)", judge=_judge))
register(JobKind("serve", "jobs.kind.serve", None, None, _complete_serve,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED)))
