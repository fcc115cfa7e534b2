"""What each stage kind does: its real config built (a preview, or to start), started through the same service
calls the tabs use, and its outputs read once its job's completion took effect."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pydantic

from ...errors import ConflictError, InvalidInputError, pydantic_details
from ...runner.runner import JobRunner
from ...schemas.eval_runs import EvalRunConfig
from ...schemas.grpo import GRPO_STAGE
from ...schemas.jobs import Job
from ...schemas.models import ModelEntry
from ...settings import Settings
from ..evaluation import gate
from ..evaluation import metrics as metric_registry
from ..evaluation.run_folder import RunFolder, new_run_id
from ..evaluation.runs import EvalRuns
from ..lineage.record import record_gate
from ..loop import LoopService
from ..models import ModelRegistry
from ..grpo import GrpoService
from ..training import TrainingService
from .refs import has_placeholder

_VERSION = re.compile(r"^[^/\\@\s]+@[^/\\@\s#]+$")


@dataclass(frozen=True)
class StageContext:
    """The services a stage is started with (those of the app or the CLI that drives the run)."""

    settings: Settings
    runner: JobRunner
    training: TrainingService
    evals: EvalRuns
    models: ModelRegistry
    loop: LoopService
    grpo: GrpoService | None = None  # the second training engine: a train stage with `stage: grpo`


@dataclass(frozen=True)
class Started:
    """A stage started: the job it queued (None when it ran inline) and what it already knows of its outputs."""

    job: Job | None
    outputs: dict
    failure: dict | None = None  # an inline stage's verdict that fails it (the gate), shown as its reason


def version_of(models: ModelRegistry, text: str) -> ModelEntry | None:
    """The registered version `text` names (`name@version`), None when it is a path or a hub id."""
    text = (text or "").strip()
    return models.get(text) if _VERSION.match(text) else None


# --- train ---------------------------------------------------------------------------------------------------------

def train_config(ctx: StageContext, params: dict, run_name: str | None = None):
    """The TrainConfig the training tab would build; a version id continues that version (its adapter, and for DPO
    the version as the reference), as a loop round does."""
    payload = {key: value for key, value in params.items() if value is not None}
    config = dict(payload.get("config") or {})
    meta: dict = {}
    waits = has_placeholder(payload["model"])
    entry = None if waits else version_of(ctx.models, payload["model"])
    if waits and not payload.get("template"):
        payload["template"] = "<from the model>"  # a preview: the version's own template is used when it runs
    if entry is not None:
        if entry.kind == "endpoint" or not entry.path:
            raise InvalidInputError("err.loop_endpoint_base", model=entry.id)
        payload["model"] = entry.path
        if entry.template and not payload.get("template"):
            payload["template"] = entry.template
        if entry.adapter:
            config.setdefault("adapter_name_or_path", entry.adapter)
            if payload.get("stage") == "dpo":
                config.setdefault("ref_model", entry.path)
                config.setdefault("ref_model_adapters", entry.adapter)
        meta["parent_model_id"] = entry.id
    if run_name:
        config.setdefault("run_name", run_name)
    payload["config"] = config
    built, _target = ctx.training.build_request(payload)
    return built, meta


def grpo_config(ctx: StageContext, params: dict, run_name: str | None = None):
    """The GrpoConfig the GRPO form would build: one dataset of `prompt` + `solution` rows, a base or merged model."""
    datasets = params["datasets"] if isinstance(params["datasets"], list) else [params["datasets"]]
    if len(datasets) != 1:
        raise InvalidInputError("err.pl_grpo_one_dataset", count=len(datasets))
    config = dict(params.get("config") or {})
    if run_name:
        config.setdefault("run_name", run_name)
    entry = None if has_placeholder(params["model"]) else version_of(ctx.models, params["model"])
    meta = {"parent_model_id": entry.id} if entry is not None else {}
    return ctx.grpo.build(params["model"], datasets[0], **config), meta


def _start_train(ctx: StageContext, params: dict, tag: str) -> Started:
    if params.get("stage") == GRPO_STAGE:
        config, meta = grpo_config(ctx, params, tag)
        saved, job = ctx.grpo.launch_config(config, meta={**meta, "pipeline": tag})
    else:
        config, meta = train_config(ctx, params, tag)
        saved, job = ctx.training.launch_config(config, meta={**meta, "pipeline": tag})
    return Started(job, {"job": job.id, "output_dir": str(saved.output_dir), "config": saved.rel_path})


# --- evaluate ------------------------------------------------------------------------------------------------------

def eval_config(params: dict) -> EvalRunConfig:
    """The run config EvalRuns.prepare checks (its metric names looked up), with a fresh id."""
    try:
        config = EvalRunConfig.model_validate({**params, "run_id": new_run_id(), "created": ""})
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.ev_run_invalid", details=pydantic_details(exc)) from None
    for name in config.metrics:
        metric_registry.get(name)
    return config


def _start_eval(ctx: StageContext, params: dict, tag: str) -> Started:
    folder, job = ctx.evals.start({**params, "name": params.get("name") or tag})
    return Started(job, {"job": job.id, "run": folder.run_id})


# --- merge and average ---------------------------------------------------------------------------------------------

def merge_plan(ctx: StageContext, params: dict):
    from ..surgery.export import plan_merge_lora

    return plan_merge_lora(ctx.settings, params["model"], name=params.get("name"), dtype=params.get("dtype"),
                           shard_gb=params.get("shard_gb", 2))


def _start_merge(ctx: StageContext, params: dict, tag: str) -> Started:
    from ..surgery.export import launch_export, save_export

    saved = save_export(ctx.settings, merge_plan(ctx, params))
    job = ctx.runner.get(launch_export(ctx.settings, ctx.runner, saved).id)
    return Started(job, {"job": job.id})


def _start_mergekit(ctx: StageContext, params: dict, tag: str) -> Started:
    from .. import jobkinds
    from . import merging

    made = merging.plan(ctx.settings, params)
    job = jobkinds.submit(ctx.settings, ctx.runner, merging.JOB_KIND, merging.job_params(made, tag),
                          f"merge {made.method} -> {made.name}")
    return Started(job, {"job": job.id, "recipe": merging.recipe_path(made)})


def average_plan(ctx: StageContext, params: dict) -> dict:
    from ..surgery.averaging import describe

    return describe(ctx.settings, params["run"], params["checkpoints"], params.get("ema"), params.get("lora", "merge"),
                    params.get("name"))


def _start_average(ctx: StageContext, params: dict, tag: str) -> Started:
    from ..surgery.averaging import start_average

    job = start_average(ctx.settings, ctx.runner, params["run"], params["checkpoints"], params.get("ema"),
                        params.get("lora", "merge"), params.get("name"))
    return Started(job, {"job": job.id})


# --- any worker job kind ----------------------------------------------------------------------------------------

def job_params(params: dict):
    """The kind's own typed parameters (argv kinds such as train and export have stages of their own)."""
    from .. import jobkinds
    from ..jobkinds.registry import parse_params

    kind = jobkinds.get(params["job_kind"])
    if kind is None or kind.params is None:
        known = ", ".join(sorted(k.name for k in jobkinds.kinds() if k.params is not None))
        raise InvalidInputError("err.pl_job_kind", kind=params["job_kind"], known=known)
    return kind, parse_params(kind, params.get("params") or {})


def _start_job(ctx: StageContext, params: dict, tag: str) -> Started:
    from .. import jobkinds

    kind, values = job_params(params)
    job = jobkinds.submit(ctx.settings, ctx.runner, kind.name, values, params.get("name") or tag)
    return Started(job, {"job": job.id})


# --- inline stages -------------------------------------------------------------------------------------------------

def gate_check(ctx: StageContext, params: dict) -> gate.GateResult:
    return gate.check(ctx.settings, params["candidate"], params["previous"], set_name=params["set"],
                      metric=params["metric"], threshold=params.get("threshold", 0.0))


def _run_gate(ctx: StageContext, params: dict, tag: str) -> Started:
    result = gate_check(ctx, params)
    record_gate(ctx.settings, result)  # the run it was checked against becomes an ancestor of the candidate
    outputs = {"passed": result.passed, "run": result.run_id, "verdict": result.to_dict()}
    return Started(None, outputs, None if result.passed else {"gate": result.to_dict()})


def _run_promote(ctx: StageContext, params: dict, tag: str) -> Started:
    entry = ctx.models.set_default(params["model"], previous=params.get("previous"))
    return Started(None, {"model": entry.id if entry else None})


def _run_export(ctx: StageContext, params: dict, tag: str) -> Started:
    name, path, pairs = ctx.loop.export(params.get("only_model"), params.get("source"))
    if pairs < params.get("min_pairs", 1):
        raise ConflictError("err.pl_few_pairs", pairs=pairs, wanted=params.get("min_pairs", 1))
    return Started(None, {"dataset": name, "path": str(path), "pairs": pairs})


START = {"train": _start_train, "evaluate": _start_eval, "merge": _start_merge, "mergekit": _start_mergekit,
         "average": _start_average,
         "gate": _run_gate, "promote": _run_promote, "export_votes": _run_export, "job": _start_job}


# --- previews ------------------------------------------------------------------------------------------------------

def preview(ctx: StageContext, kind: str, params: dict) -> dict:
    """The stage's generated config as it would run now (what earlier stages make shows as a placeholder); any
    refusal its own config would get is raised here."""
    waits = has_placeholder(params)
    if kind == "train" and params.get("stage") == GRPO_STAGE:
        if waits:  # its model comes from an earlier stage: checked when that stage has made it
            return params
        config, meta = grpo_config(ctx, params)
        ctx.grpo.validate(config)  # its dataset's shape, its reward files: refused before the run starts
        return {**meta, **config.model_dump(mode="json", exclude_defaults=True)}
    if kind == "train":
        config, meta = train_config(ctx, params)
        return {**meta, **config.model_dump(mode="json", exclude_defaults=True)}
    if kind == "evaluate":
        return eval_config(params).model_dump(mode="json", exclude={"run_id", "created"})
    if kind == "merge" and not waits:
        return merge_plan(ctx, params).args
    if kind == "mergekit":
        from . import merging

        return merging.preview(ctx.settings, params)
    if kind == "average" and not waits:
        return average_plan(ctx, params)
    if kind == "job":
        return {"job_kind": params["job_kind"], "params": job_params(params)[1].model_dump(mode="json")}
    if kind == "gate":
        found = metric_registry.get(params["metric"])
        return {**params, "metric": found.name, "key": found.key, "higher_is_better": found.higher_is_better}
    if kind == "promote" and not waits:
        ctx.models.get(params["model"])
    return params


# --- outputs -------------------------------------------------------------------------------------------------------

def collect(ctx: StageContext, kind: str, job: Job, outputs: dict) -> dict:
    """A finished stage's outputs, read from what its job's completion registered."""
    if kind == "train":
        entry = next((e for e in ctx.models.list() if e.lineage.get("job_id") == job.id), None)
        if entry is None:
            raise ConflictError("err.pl_no_version", job_id=job.id)
        return {**outputs, "model": entry.id}
    if kind == "evaluate":
        summary = RunFolder(ctx.settings, outputs["run"]).require().summary()
        if summary is None or summary.status != "complete":
            raise ConflictError("err.pl_eval_incomplete", run=outputs["run"],
                                status=summary.status if summary else "-")
        return outputs
    result = job.apply_result or {}
    if kind == "job":
        plain = (str, int, float, bool, type(None))
        return {**outputs, **{key: value for key, value in result.items() if isinstance(value, plain)}}
    if not result.get("model_id"):
        raise ConflictError("err.pl_no_version", job_id=job.id)
    return {**outputs, "model": result["model_id"], "path": result.get("path")}
