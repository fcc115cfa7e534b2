"""Surgery kinds for merge and compression: `llamafactory-cli export` (LoRA merge, GPTQ) and llama.cpp's GGUF
converter run as argv jobs built by their services; a dtype cast runs as a worker. Each completion (applied once)
moves the output into place and registers it."""

from __future__ import annotations

from pathlib import Path

from ...runner.evidence import RESULT_FILE
from ...schemas.jobs import Job, JobStatus
from ..surgery import convert as cast
from ..surgery import export
from .registry import JobKind, WorkerContext, read_json, register


def _complete_export(ctx, job: Job) -> dict:
    if job.status is not JobStatus.COMPLETED:
        return export.discard_export(job)
    return export.complete_export(ctx.settings, job)


def _run_convert(ctx: WorkerContext, params: cast.ConvertParams) -> dict:
    return cast.run_convert(ctx.settings, params, ctx.progress)


def _complete_convert(ctx, job: Job) -> dict:
    result = read_json(Path(job.run_dir) / RESULT_FILE)
    if result is None:
        return {"skipped": "no output"}
    return cast.complete_convert(ctx.settings, result, job)


def _complete_gguf(ctx, job: Job) -> dict:
    if job.status is not JobStatus.COMPLETED:
        return export.discard_export(job)
    return cast.complete_gguf(ctx.settings, job)


register(JobKind(export.EXPORT_KIND, "jobs.kind.surgery_export", None, None, _complete_export,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED), devices="cpu"))
register(JobKind(cast.CONVERT_KIND, "jobs.kind.surgery_convert", cast.ConvertParams, _run_convert, _complete_convert))
register(JobKind(cast.GGUF_KIND, "jobs.kind.surgery_gguf", None, None, _complete_gguf,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED), devices="cpu"))
