"""LoRA merge and GPTQ through LLaMA-Factory's own `llamafactory-cli export`: a checked plan, the YAML it renders
(saved under configs/llmops/, runnable by hand), and a runner job whose completion registers the merged version.

The job writes into the plan's partial folder; its completion (applied once) moves it into place and registers it.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InvalidInputError, StorageError
from ...lf import templates
from ...lf.render import home_relative, to_yaml
from ...runner.runner import JobRunner
from ...schemas.jobs import Job, JobSpec
from ...schemas.models import ModelEntry
from ...security.paths import contain, contain_if_local, in_workspace, resolve
from ...settings import Settings
from ...storage import atomic_write_json, create_unique, safe_name
from ..datasets import DatasetRegistry
from ..device import DeviceInfo, probe
from ..evaluation.checkpoints import SEPARATOR
from ..evaluation.checkpoints import resolve as resolve_ref
from ..models import ModelRegistry
from ..targets import CONFIG_FILE, FarJob, TargetsService
from .outputs import OutputPlan, plan_output, register_output, require_space, weights_bytes

EXPORT_KIND = "surgery_export"
PLAN_FILE = "export.json"  # in the job folder: where the export writes, and what its completion registers
DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
_DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4, "float64": 8}
_ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
GPTQ_PACKAGES = ("optimum", "gptqmodel")


@dataclass(frozen=True)
class ExportPlan:
    """One checked `llamafactory-cli export`: what it reads, the YAML arguments and where its model goes."""

    operation: str  # merge_lora | gptq
    name: str
    source: ModelEntry
    ref: str
    output: OutputPlan
    args: dict
    lineage: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SavedExport:
    """The YAML written under configs/llmops/ and the command that runs it by hand from the workspace."""

    plan: ExportPlan
    path: Path
    rel_path: str
    command: str


# --- checks shared by every operation ---------------------------------------------------------------------------


def source_dtype(folder: Path | str) -> str:
    """The dtype a model folder's weights are stored in, from its config.json (float32 when it says nothing)."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "float32"
    value = config.get("dtype") or config.get("torch_dtype") or "float32"
    return str(value).removeprefix("torch.")


def output_bytes(folder: Path | str, dtype: str | None) -> int:
    """What the weights of `folder` take once written in `dtype` (as stored when None)."""
    stored = weights_bytes(folder)
    if not dtype:
        return stored
    return int(stored * _DTYPE_BYTES.get(dtype, 4) / _DTYPE_BYTES.get(source_dtype(folder), 4))


def local_model(settings: Settings, location: str | None) -> Path:
    """A model folder on this machine (inside the allowed roots); a hub id or a folder without config.json refused."""
    path = Path(contain_if_local(settings, location or "")).expanduser() if location else Path()
    if not location or not (path / "config.json").is_file():
        raise InvalidInputError("err.sgx_base_missing", path=str(location or "-"))
    return path


def check_adapter(folder: Path) -> None:
    """Refuse an adapter folder that lacks its config or weights, or whose safetensors file is cut short."""
    if not (folder / "adapter_config.json").is_file():
        raise InvalidInputError("err.sgx_adapter_incomplete", path=str(folder), reason="no adapter_config.json")
    weights = next((folder / name for name in _ADAPTER_WEIGHTS if (folder / name).is_file()), None)
    if weights is None:
        raise InvalidInputError("err.sgx_adapter_incomplete", path=str(folder), reason="no adapter weights")
    if weights.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:  # the header must parse and cover the whole file: a copy still being written fails here
            with safe_open(str(weights), framework="pt") as handle:
                handle.keys()
        except (SafetensorError, OSError) as exc:
            raise InvalidInputError("err.sgx_adapter_incomplete", path=str(folder),
                                    reason=f"{weights.name}: {str(exc)[:120]}") from None


def plan_folder(settings: Settings, name: str, out: str | None) -> OutputPlan:
    """The output folder of a new model called `name`: `out` (inside the workspace), else models/<name>-<version>
    (the version it will get, so a later one never collides); refused when it exists."""
    version = ModelRegistry(settings).next_version(name)  # refuses, before anything runs, a name it would not take
    if not out:
        return plan_output(settings, f"{safe_name(name, 'model name')}-{version}")
    given = Path(out).expanduser()
    target = resolve(given if given.is_absolute() else settings.home / given)
    home = resolve(settings.home)
    if home not in target.parents:
        raise InvalidInputError("err.sgx_out_outside", path=str(out), home=str(home))
    return plan_output(settings, name, str(target))


def default_name(entry: ModelEntry, suffix: str) -> str:
    """`<source name>-<suffix>`: the registry name of the new model when the user gives none."""
    return f"{entry.name}-{suffix}"[:100]


# --- merge-lora -------------------------------------------------------------------------------------------------


def plan_merge_lora(settings: Settings, ref: str, *, name: str | None = None, out: str | None = None,
               dtype: str | None = None, shard_gb: int = 2, device: str = "cpu") -> ExportPlan:
    """A base + adapter version (or `name@version#checkpoint-N`) merged into a full model; checked before it runs."""
    registry = ModelRegistry(settings)
    entry = resolve_ref(registry, ref)
    if entry.kind != "adapter":
        raise InvalidInputError("err.sgx_not_adapter", model_id=ref, kind=entry.kind)
    adapter = contain(settings, entry.adapter or "")
    check_adapter(adapter)
    base = local_model(settings, entry.path)
    infer = DTYPES[dtype] if dtype else None
    name = name or default_name(entry, "merged")
    output = plan_folder(settings, name, out)
    require_space(output.final.parent, output_bytes(base, infer))
    args = {"model_name_or_path": home_relative(settings, base),
            "adapter_name_or_path": home_relative(settings, adapter), "template": entry.template or templates.guess(str(base)), "finetuning_type": "lora",
            "export_dir": home_relative(settings, output.partial), "export_size": shard_gb,
            "export_device": device, **({"infer_dtype": infer} if infer else {})}
    version_id = ref.partition(SEPARATOR)[0]
    lineage = {"operation": "merge_lora", "inputs": [ref, entry.lineage.get("parent_id") or str(base)],
               "parent_id": version_id, "adapter": str(adapter), "base": str(base), "dtype": infer or "as stored",
               "source_bytes": weights_bytes(base)}
    return ExportPlan("merge_lora", name, entry, ref, output, args, lineage)


# --- GPTQ -------------------------------------------------------------------------------------------------------


def plan_gptq(settings: Settings, ref: str, bits: int, *, dataset: str | None = None, name: str | None = None,
              out: str | None = None, shard_gb: int = 2) -> ExportPlan:
    """A base or merged version quantized with GPTQ by LLaMA-Factory's export (calibrated on `dataset`'s text)."""
    registry = ModelRegistry(settings)
    entry = resolve_ref(registry, ref)
    if entry.kind not in ("base", "merged"):
        raise InvalidInputError("err.sgx_not_local_model", model_id=ref, kind=entry.kind)
    source = local_model(settings, entry.path)
    name = name or default_name(entry, f"gptq{bits}")
    output = plan_folder(settings, name, out)
    require_space(output.final.parent, output_bytes(source, "float16"))
    calibration = calibration_file(settings, dataset)
    args = {"model_name_or_path": home_relative(settings, source), "template": entry.template or
            templates.guess(str(source)), "export_dir": home_relative(settings, output.partial),
            "export_size": shard_gb, "export_device": "auto", "export_quantization_bit": bits,
            "export_quantization_dataset": home_relative(settings, calibration)}
    lineage = {"operation": f"gptq_{bits}bit", "inputs": [ref], "parent_id": ref.partition(SEPARATOR)[0],
               "calibration": str(calibration), "source_bytes": weights_bytes(source)}
    return ExportPlan("gptq", name, entry, ref, output, args, lineage)


def calibration_file(settings: Settings, dataset: str | None) -> Path:
    """The text file GPTQ calibrates on: a registered dataset's file, a file path, or the shipped pt sample."""
    if not dataset:
        return settings.sample_datasets_dir / "pt.jsonl"
    entry = DatasetRegistry(settings).entries().get(dataset)
    from ...lf.dataset_info import resolve_file

    found = resolve_file(settings.data_dir, entry) if entry else Path(dataset).expanduser()
    if found is None or not found.is_file():
        raise InvalidInputError("err.sgx_gptq_dataset", dataset=dataset)
    return contain(settings, found)


def quantize_gptq(settings: Settings, runner: JobRunner, plan: ExportPlan,
                  device: DeviceInfo | None = None) -> tuple[SavedExport, Job]:
    """Save the GPTQ YAML, then launch it where CUDA and its packages are present; else refuse naming the file."""
    device = device or probe()
    if not device.cuda:
        # Nobody here will commit it: the hand-run YAML writes straight into the final folder.
        direct = ExportPlan(plan.operation, plan.name, plan.source, plan.ref, plan.output,
                            {**plan.args, "export_dir": home_relative(settings, plan.output.final)}, plan.lineage)
        saved = save_export(settings, direct)
        raise InvalidInputError("err.sgx_gptq_needs_cuda", bits=plan.args["export_quantization_bit"],
                                path=saved.rel_path, command=saved.command)
    saved = save_export(settings, plan)
    missing = [name for name in GPTQ_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise InvalidInputError("err.sgx_gptq_packages", packages=" ".join(missing), path=saved.rel_path)
    return saved, launch_export(settings, runner, saved, devices="all")


# --- saving, launching and completing ---------------------------------------------------------------------------


def render_export(settings: Settings, plan: ExportPlan) -> str:
    """The YAML text LLaMA-Factory will read, with a header saying what it is."""
    header = (f"LLaMA-Factory export ({plan.operation}) of {plan.ref} written by llmops; run from {settings.home}\n"
              f"the model is written to {plan.args['export_dir']}")
    # Keys that are no training section's land under 'other' in the shared renderer: here they are the export's.
    return to_yaml(plan.args, header).replace("### other\n", "### export\n", 1)


def export_command(rel_path: str) -> str:
    """The hand-run command for a saved export YAML, from the workspace."""
    return f"llamafactory-cli export {shlex.quote(rel_path)}"


def save_export(settings: Settings, plan: ExportPlan) -> SavedExport:
    """Write configs/llmops/export_config_<ts>.yaml atomically (never overwriting one)."""
    settings.ensure_dirs()
    name = f"export_config_{time.strftime('%Y%m%d_%H%M%S')}.yaml"
    path = create_unique(settings.generated_configs_dir / name, render_export(settings, plan))
    rel = home_relative(settings, path)
    return SavedExport(plan, path, rel, export_command(rel))


def far_export(settings: Settings, plan: ExportPlan) -> FarJob:
    """The export as a target runs it: base and adapter read at their paths (the box must hold them), the model
    written to the remote run folder's output/, which comes back into the plan's partial folder for the completion."""
    model = str(in_workspace(settings, plan.args["model_name_or_path"]))
    adapter = str(in_workspace(settings, plan.args["adapter_name_or_path"]))
    config = {**plan.args, "model_name_or_path": model, "adapter_name_or_path": adapter, "export_dir": "output"}
    return FarJob("targets.what.lora_export", config, f"{{lf_cli}} export {CONFIG_FILE}",
                  needs=(("targets.what.model", model), ("targets.what.adapter", adapter)),
                  output_into=str(plan.output.partial))


def launch_export(settings: Settings, runner: JobRunner, saved: SavedExport, devices: str = "cpu",
                  wrap: Callable[[JobSpec], JobSpec] | None = None) -> Job:
    """Queue `llamafactory-cli export YAML` (an argv, never a shell line); its job folder holds the plan and log.
    `wrap` (a target's) turns the local spec into the one that runs it there."""
    from ..training import _lf_cli

    plan = saved.plan
    run_dir = job_folder(settings, EXPORT_KIND)
    record = {"operation": plan.operation, "name": plan.name, "final": str(plan.output.final),
              "partial": str(plan.output.partial), "config_path": str(saved.path), "command": saved.command,
              "args": plan.args, "lineage": {**plan.lineage, "config": saved.rel_path}}
    atomic_write_json(run_dir / PLAN_FILE, record)
    spec = JobSpec(kind=EXPORT_KIND, name=plan.name, argv=[_lf_cli(), "export", str(saved.path)],
                   cwd=str(settings.home), run_dir=str(run_dir), devices=devices,
                   env={"PYTHONUNBUFFERED": "1"}, meta={"operation": plan.operation, "source": plan.ref,
                                                       "config_path": str(saved.path), "path": str(plan.output.final)})
    return runner.submit(wrap(spec) if wrap else spec)


def job_folder(settings: Settings, kind: str) -> Path:
    """A new folder for one argv job's plan and log, beside the worker jobs' folders."""
    run_dir = settings.checkpoints_dir / "jobs" / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    run_dir.mkdir(parents=True)
    return run_dir


def merge_lora(settings: Settings, runner: JobRunner, ref: str, target: str | None = None,
               **options) -> tuple[SavedExport, Job]:
    """Check, save and launch one LoRA merge on `target` (this machine by default); `options` as plan_merge_lora
    takes them. The target's checks run before anything is written."""
    plan = plan_merge_lora(settings, ref, **options)
    wrap = TargetsService(settings).far_wrap(target, far_export(settings, plan))
    saved = save_export(settings, plan)
    return saved, launch_export(settings, runner, saved, wrap=wrap)


def read_plan(run_dir: Path | str) -> dict:
    """The plan an export job folder holds."""
    path = Path(run_dir) / PLAN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise StorageError("err.sgx_export_plan", path=str(path)) from None
    if not isinstance(data, dict) or not {"final", "partial", "name", "lineage"} <= data.keys():
        raise StorageError("err.sgx_export_plan", path=str(path))
    return data


def complete_export(settings: Settings, job: Job) -> dict:
    """Move a finished export into place and register it as a `merged` version (once; a retry changes nothing)."""
    plan = read_plan(job.run_dir)
    output = OutputPlan(final=Path(plan["final"]), partial=Path(plan["partial"]))
    if not (output.final / "config.json").is_file():
        recipe = {"operation": plan.get("operation"), "command": plan.get("command"),
                  "llamafactory_export": plan.get("args"), "lineage": plan["lineage"]}
        output.commit(recipe)
    lineage = {**plan["lineage"], "job_id": job.id, "bytes": weights_bytes(output.final)}
    entry = register_output(settings, plan["name"], output.final, lineage)
    return {"model_ids": [entry.id], "model_id": entry.id, "path": str(output.final),
            "source_bytes": lineage.get("source_bytes"), "bytes": lineage["bytes"]}


def discard_export(job: Job) -> dict:
    """What a stopped export left in its partial folder is removed; nothing is registered."""
    plan = read_plan(job.run_dir)
    OutputPlan(final=Path(plan["final"]), partial=Path(plan["partial"])).discard()
    return {"skipped": f"{job.status.value}: partial output removed"}
