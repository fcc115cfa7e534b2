"""The Data studio's job kinds: corpus build, instruction generation, dataset dedup and mock preferences.

Each worker writes its output file and result.json; the completion (applied once by the reconciler) registers
what exists, so a stopped generation keeps its pairs and a restart never registers anything twice.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...runner.evidence import RESULT_FILE
from ...schemas.jobs import Job, JobStatus
from ..corpus import CorpusOptions
from ..datagen.common import PT_COLUMNS, SFT_COLUMNS, dataset_name_for, file_name_for
from ..datagen.llm import LLMGenOptions
from ..datagen.rules import RulesOptions
from ..datasets import DatasetRegistry
from .registry import JobKind, WorkerContext, read_json, register

# The variable a key typed into the page reaches the worker through (only its environment, never a file).
TYPED_KEY_VAR = "LLMOPS_JOB_API_KEY"
PREVIEW_PAIRS = 20


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusParams(_Params):
    """Documents in, a registered pre-training corpus out."""

    sources: list[str] = Field(min_length=1)
    options: CorpusOptions = Field(default_factory=CorpusOptions)
    out: str | None = None


class DatagenParams(_Params):
    """Instruction pairs from a corpus, by rules or by a model behind an OpenAI-compatible endpoint."""

    corpus: str = Field(min_length=1)
    mode: Literal["rules", "llm"] = "rules"
    rules: RulesOptions = Field(default_factory=RulesOptions)
    llm: LLMGenOptions = Field(default_factory=LLMGenOptions)
    base_url: str = ""
    model: str = ""
    key_env: str | None = None  # a bound environment variable holding the key
    typed_key: bool = False  # the key was typed for this job and arrives in TYPED_KEY_VAR
    out: str | None = None


class DedupParams(_Params):
    """A registered dataset's duplicates removed into a new version."""

    name: str = Field(min_length=1)
    near: bool = True
    threshold: float = Field(0.8, ge=0, le=1)
    note: str = ""


class MockPrefsParams(_Params):
    """Synthetic preference votes from an SFT dataset."""

    sft: str = Field(min_length=1)
    limit: int | None = Field(None, ge=1)
    seed: int = 0


def _result(job: Job) -> dict | None:
    return read_json(Path(job.run_dir) / RESULT_FILE)


def _register_file(settings, path: Path, entry: dict) -> str:
    """Register a worker's output under its stem; the same entry twice is a no-op, so a retry changes nothing."""
    name = dataset_name_for(path)
    DatasetRegistry(settings).register_entry(name, {"file_name": file_name_for(settings, path), **entry})
    return name


def _run_corpus(ctx: WorkerContext, params: CorpusParams) -> dict:
    from ..datagen import build_corpus

    built = build_corpus(ctx.settings, params.sources, params.options, out=params.out, register_it=False,
                         progress=lambda step, done, total: ctx.progress(step, done, total))
    return {"path": str(built.path), "stats": built.stats.model_dump(mode="json")}


def _complete_corpus(ctx, job: Job) -> dict:
    result = _result(job)
    if result is None:
        return {"skipped": "no output"}
    name = _register_file(ctx.settings, Path(result["path"]), {"columns": dict(PT_COLUMNS)})
    return {**result, "dataset_name": name}


def _endpoint(ctx: WorkerContext, params: DatagenParams):
    from ..datagen import Endpoint, Secret

    if params.typed_key:
        return Endpoint(params.base_url, params.model, Secret(os.environ.get(TYPED_KEY_VAR, "")))
    return Endpoint.from_env(params.base_url, params.model, params.key_env, ctx.settings)


def _run_datagen(ctx: WorkerContext, params: DatagenParams) -> dict:
    from ..datagen import PRESET, generate_llm, generate_rules, preset_sources

    if params.corpus == PRESET:
        params = params.model_copy(update={"corpus": str(preset_sources(ctx.settings)[0])})
    if params.mode == "rules":
        ctx.progress("rules", 0, 1, force=True)
        made = generate_rules(ctx.settings, params.corpus, params.rules, out=params.out, register_it=False)
        ctx.progress("rules", 1, 1, force=True)
    else:
        def report(done: int, total: int, ok: int, malformed: int, failed: int) -> None:
            ctx.progress("llm", done, total, force=done == total, ok=ok, malformed=malformed, failed=failed)

        made = generate_llm(ctx.settings, params.corpus, _endpoint(ctx, params), params.llm, stop_event=ctx.stop,
                            progress=report, out=params.out, register_it=False)
    return {"path": str(made.path), "pairs": len(made.pairs), "stats": made.stats,
            "preview": made.pairs[:PREVIEW_PAIRS]}


def _complete_datagen(ctx, job: Job) -> dict:
    result = _result(job)
    if result is None:
        return {"skipped": "no output"}
    name = _register_file(ctx.settings, Path(result["path"]),
                          {"formatting": "alpaca", "columns": dict(SFT_COLUMNS)})
    return {**result, "dataset_name": name}


def _run_dedup(ctx: WorkerContext, params: DedupParams) -> dict:

    ctx.progress("dedup", 0, 1, force=True)
    # A new version is one locked, atomic step of the registry, so the worker commits it itself.
    done = DatasetRegistry(ctx.settings).dedup(params.name, near=params.near, threshold=params.threshold,
                                                note=params.note)
    ctx.progress("dedup", 1, 1, force=True)
    return {"name": params.name, "before": done.before, "after": done.after, "exact_removed": done.exact_removed,
            "near_removed": done.near_removed, "version": done.version}


def _run_mockprefs(ctx: WorkerContext, params: MockPrefsParams) -> dict:
    from ..datagen import mock_prefs

    ctx.progress("mockprefs", 0, 1, force=True)
    made = mock_prefs(ctx.settings, params.sft, limit=params.limit, seed=params.seed)
    ctx.progress("mockprefs", 1, 1, force=True)
    return {"count": made.count, "session": made.session, "by_kind": made.by_kind, "source": str(made.source),
            "prefs_path": str(made.prefs_path)}


def _publish(ctx, job: Job) -> dict:
    """The worker already committed its output (a dataset version, appended votes): its result is the record."""
    result = _result(job)
    if result is None:
        return {"skipped": "no output"}
    return {**result, "dataset_name": result.get("name")} if "name" in result else result


register(JobKind("corpus", "jobs.kind.corpus", CorpusParams, _run_corpus, _complete_corpus))
register(JobKind("datagen", "jobs.kind.datagen", DatagenParams, _run_datagen, _complete_datagen,
                 applies_on=(JobStatus.COMPLETED, JobStatus.STOPPED), graceful_stop=True))
register(JobKind("dedup", "jobs.kind.dedup", DedupParams, _run_dedup, _publish))
register(JobKind("mockprefs", "jobs.kind.mockprefs", MockPrefsParams, _run_mockprefs, _publish))
