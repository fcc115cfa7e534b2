"""Surgery kinds for merge and compression: `llamafactory-cli export` (LoRA merge, GPTQ) and llama.cpp's GGUF
converter run as argv jobs built by their services; a dtype cast runs as a worker. Each completion (applied once)
moves the output into place and registers it."""

from __future__ import annotations

from pathlib import Path

from ...runner.evidence import RESULT_FILE
from ...schemas.jobs import Job, JobStatus
from ..surgery import convert as cast
from ..surgery import export
from .registry import REMOTE_HOME, JobKind, RemoteWork, WorkerContext, read_json, register

# The name the perplexity set has in the far side's home.
PPL_SET = "ppl"


def _complete_export(ctx, job: Job) -> dict:
    if job.status is not JobStatus.COMPLETED:
        return export.discard_export(job)
    return export.complete_export(ctx.settings, job)


def _run_convert(ctx: WorkerContext, params: cast.ConvertParams) -> dict:
    return cast.run_convert(ctx.settings, params, ctx.progress)


def _remote_convert(settings, params: cast.ConvertParams) -> RemoteWork:
    """The cast on a target: the source folder must be there already; the perplexity set travels as a set file of
    the far side's own home, and the cast model comes back into the planned output folder."""
    from ...schemas.evaluation import dump_samples
    from ..evaluation.sets import SUFFIX, EvalSets

    final, write = Path(params.final), ()
    update = {"final": f"output/{final.name}", "partial": f"output/{Path(params.partial).name}"}
    if params.ppl_set:
        sets = settings.eval_sets_dir.relative_to(settings.home).as_posix()
        write = ((f"{REMOTE_HOME}/{sets}/{PPL_SET}{SUFFIX}", dump_samples(EvalSets(settings).load(params.ppl_set))),)
        update["ppl_set"] = PPL_SET
    return RemoteWork(params=params.model_copy(update=update).model_dump(mode="json"),
                      needs=(("targets.what.model", params.source_path),), write=write, folders=("output",),
                      fetch=((f"output/{final.name}", str(final), True),),
                      result={"path": str(final), **({"ppl_set": params.ppl_set} if params.ppl_set else {})},
                      imports=("pydantic", "yaml", "torch", "transformers"))


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
register(JobKind(cast.CONVERT_KIND, "jobs.kind.surgery_convert", cast.ConvertParams, _run_convert, _complete_convert,
                 remote=_remote_convert))
register(JobKind(cast.GGUF_KIND, "jobs.kind.surgery_gguf", None, None, _complete_gguf,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED), devices="cpu"))
