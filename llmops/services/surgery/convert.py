"""Compression of a base or merged version: a dtype cast (a worker job: transformers loads the weights as stored,
`.to(dtype)` rounds each to nearest, `save_pretrained` writes them; tokenizer files are copied byte for byte), with
the perplexity before and after on an evaluation set when asked; and GGUF through llama.cpp's converter when one
is installed (a runner job).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...errors import InvalidInputError
from ...runner.runner import JobRunner
from ...schemas.jobs import Job, JobSpec
from ...schemas.models import ModelEntry
from ...settings import Settings
from ...storage import atomic_write_json
from ..evaluation.checkpoints import SEPARATOR
from ..evaluation.checkpoints import resolve as resolve_ref
from ..models import ModelRegistry
from .export import (
    DTYPES,
    PLAN_FILE,
    default_name,
    job_folder,
    local_model,
    output_bytes,
    plan_folder,
    read_plan,
    source_dtype,
)
from .outputs import OutputPlan, register_output, require_space, weights_bytes

CONVERT_KIND = "surgery_convert"
GGUF_KIND = "surgery_gguf"
LLAMA_CPP_ENV = "LLMOPS_LLAMA_CPP"
GGUF_SCRIPT = "convert_hf_to_gguf.py"
GGUF_TYPES = ("f32", "f16", "bf16", "q8_0")
# What a cast copies from the source besides the weights save_pretrained writes (never a pickle or a weight file).
_SKIP_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_SKIP_NAMES = ("config.json", "generation_config.json", "model.safetensors.index.json", "recipe.yaml")


class ConvertParams(BaseModel):
    """One checked cast: the source folder, the dtype, where it is written and the set perplexity is measured on."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)  # the version ref
    source_path: str = Field(min_length=1)
    dtype: str = Field(pattern="^(bfloat16|float16|float32)$")
    name: str = Field(min_length=1)
    final: str
    partial: str
    ppl_set: str | None = None
    shard_gb: int = Field(2, ge=1)


def _source(settings: Settings, ref: str) -> tuple[ModelEntry, Path]:
    entry = resolve_ref(ModelRegistry(settings), ref)
    if entry.kind not in ("base", "merged"):
        raise InvalidInputError("err.sgx_not_local_model", model_id=ref, kind=entry.kind)
    return entry, local_model(settings, entry.path)


def plan_convert(settings: Settings, ref: str, dtype: str, *, name: str | None = None, out: str | None = None,
                 ppl_set: str | None = None) -> ConvertParams:
    """A cast of a base or merged version to bf16/fp16 (or back to fp32), checked before anything runs."""
    entry, folder = _source(settings, ref)
    target = DTYPES[dtype]
    if source_dtype(folder) == target:
        raise InvalidInputError("err.sgx_same_dtype", model_id=ref, dtype=dtype)
    if ppl_set:
        from ..evaluation.sets import EvalSets

        EvalSets(settings).load(ppl_set)  # a missing or broken set is refused now, not after the cast
    name = name or default_name(entry, dtype)
    output = plan_folder(settings, name, out)
    require_space(output.final.parent, output_bytes(folder, target))
    return ConvertParams(source=ref, source_path=str(folder), dtype=target, name=name, final=str(output.final),
                         partial=str(output.partial), ppl_set=ppl_set)


def convert(settings: Settings, runner: JobRunner, ref: str, dtype: str, target: str | None = None,
            **options) -> tuple[ConvertParams, Job]:
    """Check and queue one cast on `target` (this machine by default); `options` as plan_convert takes them."""
    from ..jobkinds.registry import submit

    params = plan_convert(settings, ref, dtype, **options)
    return params, submit(settings, runner, CONVERT_KIND, params, params.name, target=target)


def perplexity(settings: Settings, model_path: Path | str, set_name: str) -> float:
    """The evaluation service's perplexity of the set's references under a local model folder."""
    from ...schemas.evaluation import Prediction
    from ..evaluation.scorer import score
    from ..evaluation.sets import EvalSets

    rows = [Prediction(**sample.model_dump(), output="") for sample in EvalSets(settings).load(set_name)]
    figure = score(rows, ["perplexity"], model=str(model_path)).summary["perplexity"]
    return float(figure) if figure is not None else math.nan


def run_convert(settings: Settings, params: ConvertParams, progress) -> dict:
    """The worker body: cast, write aside, measure, move into place; an interrupted cast leaves nothing behind."""
    import torch
    from transformers import AutoModelForCausalLM

    output, source = OutputPlan(Path(params.final), Path(params.partial)), Path(params.source_path)
    steps = 3 if params.ppl_set else 2
    try:
        progress("sgx_cast", 0, steps, force=True)
        model = AutoModelForCausalLM.from_pretrained(source, dtype="auto")
        model = model.to(getattr(torch, params.dtype))
        model.config.dtype = params.dtype
        model.save_pretrained(output.partial, max_shard_size=f"{params.shard_gb}GB")
        for item in source.iterdir():
            if item.is_file() and item.suffix not in _SKIP_SUFFIXES and item.name not in _SKIP_NAMES:
                shutil.copy2(item, output.partial / item.name)
        del model
        progress("sgx_cast", 1, steps, force=True)
        before, after = weights_bytes(source), weights_bytes(output.partial)
        ppl = {}
        if params.ppl_set:
            ppl = {"ppl_set": params.ppl_set, "ppl_before": perplexity(settings, source, params.ppl_set),
                   "ppl_after": perplexity(settings, output.partial, params.ppl_set)}
            progress("sgx_perplexity", 2, steps, force=True)
        recipe = {"operation": f"cast_{params.dtype}", "source": params.source, "source_path": str(source),
                  "from_dtype": source_dtype(source), "to_dtype": params.dtype,
                  "method": "transformers from_pretrained (as stored) -> .to(dtype) -> save_pretrained",
                  "source_bytes": before, "bytes": after, **ppl}
        output.commit(recipe)
    except BaseException:
        output.discard()  # a stop (or a failure) keeps no half-written model
        raise
    progress("sgx_done", steps, steps, force=True)
    return {"path": str(output.final), "name": params.name, "source": params.source, "dtype": params.dtype,
            "source_bytes": before, "bytes": after, **ppl}


def complete_convert(settings: Settings, result: dict, job: Job) -> dict:
    """Register a finished cast as a `merged` version; sizes and perplexity go into its lineage."""
    ref = str(result["source"])
    lineage = {"operation": f"cast_{result['dtype']}", "inputs": [ref], "parent_id": ref.partition(SEPARATOR)[0],
               "job_id": job.id, **{key: result[key] for key in ("dtype", "source_bytes", "bytes", "ppl_set",
                                                                  "ppl_before", "ppl_after") if key in result}}
    entry = register_output(settings, str(result["name"]), result["path"], lineage)
    return {**result, "model_ids": [entry.id], "model_id": entry.id}


# --- GGUF -------------------------------------------------------------------------------------------------------


def gguf_converter(environ: dict | None = None) -> Path | None:
    """llama.cpp's convert_hf_to_gguf.py: in the checkout LLMOPS_LLAMA_CPP names, else on PATH; None when absent."""
    environ = os.environ if environ is None else environ
    checkout = environ.get(LLAMA_CPP_ENV, "").strip()
    if checkout and (Path(checkout).expanduser() / GGUF_SCRIPT).is_file():
        return (Path(checkout).expanduser() / GGUF_SCRIPT).resolve()
    found = shutil.which(GGUF_SCRIPT, path=environ.get("PATH"))
    return Path(found).resolve() if found else None


def gguf(settings: Settings, runner: JobRunner, ref: str, outtype: str = "f16", *, name: str | None = None,
         out: str | None = None) -> Job:
    """Queue llama.cpp's converter on a base or merged version; refused with how to get it when it is absent."""
    script = gguf_converter()
    if script is None:
        raise InvalidInputError("err.sgx_gguf_missing")
    if outtype not in GGUF_TYPES:
        raise InvalidInputError("err.gen_options_invalid", details=f"outtype: one of {', '.join(GGUF_TYPES)}")
    entry, folder = _source(settings, ref)
    name = name or default_name(entry, f"gguf-{outtype}")
    output = plan_folder(settings, name, out)
    require_space(output.final.parent, output_bytes(folder, "float32" if outtype == "f32" else "float16"))
    output.partial.mkdir(parents=True)
    # The model's config and tokenizer travel beside the .gguf: they say what it was made from.
    for item in folder.iterdir():
        if item.is_file() and item.suffix not in _SKIP_SUFFIXES and item.name != "recipe.yaml":
            shutil.copy2(item, output.partial / item.name)
    outfile = output.partial / f"{output.final.name}-{outtype}.gguf"
    run_dir = job_folder(settings, GGUF_KIND)
    argv = [sys.executable, str(script), str(folder), "--outfile", str(outfile), "--outtype", outtype]
    atomic_write_json(run_dir / PLAN_FILE, {"operation": f"gguf_{outtype}", "name": name, "final": str(output.final),
                                            "partial": str(output.partial), "outfile": outfile.name, "command": argv,
                                            "lineage": {"inputs": [ref]}})
    spec = JobSpec(kind=GGUF_KIND, name=name, argv=argv, cwd=str(settings.home), run_dir=str(run_dir),
                   env={"PYTHONUNBUFFERED": "1"}, meta={"source": ref, "path": str(output.final)})
    return runner.submit(spec)


def complete_gguf(settings: Settings, job: Job) -> dict:
    """Move a finished GGUF file into place (it is no transformers model, so no version is registered)."""
    plan = read_plan(job.run_dir)
    output = OutputPlan(Path(plan["final"]), Path(plan["partial"]))
    final_file = output.final / plan["outfile"]
    if not final_file.is_file():
        made = output.partial / plan["outfile"]
        if not made.is_file() or _magic(made) != b"GGUF":
            output.discard()
            raise InvalidInputError("err.sgx_gguf_incomplete", path=str(output.partial))
        output.commit({"operation": plan["operation"], "command": plan["command"], "lineage": plan["lineage"]})
    return {"path": str(output.final), "file": str(final_file), "bytes": final_file.stat().st_size}


def _magic(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(4)
