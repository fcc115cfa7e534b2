"""Weight averaging over one run's checkpoints: SWA (uniform) and EMA (exponential, in step order), as a job.

EMA over the checkpoints c_1..c_k ordered by step: state <- c_1, then for each next checkpoint
state <- d*state + (1-d)*c_next. Averaging is linear, so that is one weighted mean with weights
d^(k-1) for c_1 and (1-d)*d^(k-i) for c_i (i >= 2); they sum to 1, and the newest checkpoint weighs most.

Full-weight checkpoints: each parameter is the weighted mean computed in fp32, read tensor by tensor from the
safetensors files and written shard by shard, so memory holds one output shard, never k models.
LoRA checkpoints: the UPDATES are averaged, never the factors. A checkpoint's update is s*B_i@A_i; the mean of
products is not the product of means (mean(B)@mean(A) != mean(B@A)), so averaging lora_A and lora_B separately
gives a different model. Exact ways, both offered: `merge` (default) merges each checkpoint into the base and
averages the full weights (a merged model); `cat` stacks the weighted factors into one adapter of rank k*r
(peft's add_weighted_adapter with combination_type="cat"), whose update is exactly sum_i w_i*s_i*B_i@A_i.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from ...errors import InvalidInputError
from ...runner.runner import JobRunner
from ...schemas.jobs import Job
from ...settings import Settings
from ...storage import atomic_write_text
from ..evaluation.checkpoints import SEPARATOR
from ..models import ModelRegistry
from .checkpoints import CheckpointTable, base_of, checkpoint_table
from .outputs import PARTIAL_PREFIX, RECIPE_FILE, OutputPlan, plan_output, require_space, weights_bytes

KIND = "surgery_average"
LORA_METHODS = ("merge", "cat")
# Written by the trainer for resuming, never part of a model.
_TRAINER_FILES = {"optimizer.pt", "scheduler.pt", "trainer_state.json", "training_args.bin", "README.md",
                  "adapter_config.json"}  # an output's adapter config is written by peft, never copied
Progress = Callable[[str, int, int], None]


def average_weights(count: int, ema: float | None = None) -> list[float]:
    """The weight of each of `count` checkpoints (oldest first): 1/count each, or the EMA weights for decay `ema`."""
    if count < 2:
        raise InvalidInputError("err.sga_too_few", count=count)
    if ema is None:
        return [1.0 / count] * count
    if not 0.0 < ema < 1.0:
        raise InvalidInputError("err.sga_decay", decay=ema)
    return [ema ** (count - 1)] + [(1.0 - ema) * ema ** (count - i) for i in range(2, count + 1)]


def _is_weight_file(name: str) -> bool:
    return name.endswith((".safetensors", ".bin", ".index.json")) or (name.startswith("rng_state")
                                                                       and name.endswith(".pth"))


def copy_side_files(source: Path, out: Path) -> None:
    """Config, tokenizer and chat template of a checkpoint, without its weights or the trainer's resume state."""
    for path in source.iterdir():
        if path.is_file() and path.name not in _TRAINER_FILES and not _is_weight_file(path.name):
            shutil.copy2(path, out / path.name)


def average_full(folders: list[Path], weights: list[float], out: Path, progress: Progress | None = None) -> None:
    """The weighted mean of full checkpoints, in fp32, tensor by tensor and shard by shard (same shard layout)."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    shards = sorted(p.name for p in folders[0].glob("*.safetensors"))
    if not shards or any(sorted(p.name for p in f.glob("*.safetensors")) != shards for f in folders):
        raise InvalidInputError("err.sga_layout", path=str(folders[0]))
    out.mkdir(parents=True, exist_ok=True)
    for done, shard in enumerate(shards):
        with ExitStack() as stack:
            handles = [stack.enter_context(safe_open(str(f / shard), framework="pt")) for f in folders]
            keys = list(handles[0].keys())
            if any(set(h.keys()) != set(keys) for h in handles):
                raise InvalidInputError("err.sga_layout", path=str(folders[0] / shard))
            result = {}
            for key in keys:
                first = handles[0].get_tensor(key)
                if not first.is_floating_point():
                    result[key] = first  # integer buffers (positions, counters) are not averaged
                    continue
                acc = first.to(torch.float32) * weights[0]
                for weight, handle in zip(weights[1:], handles[1:]):
                    tensor = handle.get_tensor(key)
                    if tensor.shape != first.shape:
                        raise InvalidInputError("err.sga_layout", path=f"{shard}:{key}")
                    acc.add_(tensor.to(torch.float32), alpha=weight)
                result[key] = acc.to(first.dtype)
            save_file(result, str(out / shard), metadata={"format": "pt"})
        if progress:
            progress("average", done + 1, len(shards))
    for index in folders[0].glob("*.safetensors.index.json"):
        shutil.copy2(index, out / index.name)
    copy_side_files(folders[-1], out)


def _load_base(base: str):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)


def average_lora_merged(base: str, folders: list[Path], weights: list[float], out: Path,
                        progress: Progress | None = None) -> None:
    """Merge each adapter checkpoint into the base and average the merged full weights (in fp32): exact."""
    import torch
    from peft import PeftModel

    acc: dict = {}
    for done, (folder, weight) in enumerate(zip(folders, weights)):
        merged = PeftModel.from_pretrained(_load_base(base), str(folder)).merge_and_unload()
        for key, value in merged.state_dict().items():
            value = value.detach().to(torch.float32)
            acc[key] = value * weight if key not in acc else acc[key].add_(value, alpha=weight)
        del merged
        if progress:
            progress("merge", done + 1, len(folders))
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")  # the base's own dtype for the output
    own = model.state_dict()
    model.load_state_dict({key: value.to(own[key].dtype) for key, value in acc.items()}, strict=False)
    model.save_pretrained(str(out))
    copy_side_files(folders[-1], out)


def average_lora_cat(base: str, folders: list[Path], weights: list[float], out: Path,
                     progress: Progress | None = None) -> None:
    """One adapter of rank k*r holding every checkpoint's weighted factors side by side: its update is exactly
    the weighted mean of the checkpoints' updates."""
    from peft import PeftModel

    names = [f"c{i}" for i in range(len(folders))]
    model = PeftModel.from_pretrained(_load_base(base), str(folders[0]), adapter_name=names[0])
    for name, folder in zip(names[1:], folders[1:]):
        model.load_adapter(str(folder), adapter_name=name)
    model.add_weighted_adapter(names, weights, "average", combination_type="cat")
    model.set_adapter("average")
    for name in names:
        model.delete_adapter(name)
    staging = out.parent / f"{out.name}.adapter"
    model.save_pretrained(str(staging), selected_adapters=["average"])
    saved = staging / "average" if (staging / "average").is_dir() else staging  # peft nests a named adapter
    out.mkdir(parents=True, exist_ok=True)
    for path in saved.iterdir():
        if path.is_file():
            os.replace(path, out / path.name)
    shutil.rmtree(staging, ignore_errors=True)
    copy_side_files(folders[-1], out)
    config = json.loads((out / "adapter_config.json").read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base
    atomic_write_text(out / "adapter_config.json", json.dumps(config, indent=2))
    if progress:
        progress("cat", 1, 1)


def commit_adapter(plan: OutputPlan, recipe: dict) -> Path:
    """Like OutputPlan.commit, for an adapter folder (adapter_config.json instead of config.json)."""
    import yaml

    from ...errors import ConflictError, StorageError

    if not (plan.partial / "adapter_config.json").is_file():
        raise StorageError("err.sg_output_incomplete", path=str(plan.partial))
    atomic_write_text(plan.partial / RECIPE_FILE, yaml.safe_dump(recipe, allow_unicode=True, sort_keys=False))
    if plan.final.exists():
        raise ConflictError("err.sg_output_exists", path=str(plan.final))
    os.replace(plan.partial, plan.final)
    return plan.final


# --- planning and running -------------------------------------------------------------------------------------


def _chosen(table: CheckpointTable, checkpoints: list[str]):
    """The named checkpoints' rows in step order; half-written ones and a mix of adapters and full models refused."""
    rows = sorted({table.row(str(name)).name: table.row(str(name)) for name in checkpoints}.values(),
                  key=lambda row: row.step)
    for row in rows:
        if not row.complete:
            raise InvalidInputError("err.sgc_incomplete", name=row.name, missing=", ".join(row.missing))
    if len({row.kind for row in rows}) != 1:
        raise InvalidInputError("err.sga_mixed", run=str(table.run.path))
    return rows


def describe(settings: Settings, run: str, checkpoints: list[str], ema: float | None = None,
             lora: str = "merge", name: str | None = None, out: str | None = None) -> dict:
    """Everything the job will do, checked now: inputs, weights, what it outputs, its lineage and room on disk."""
    if lora not in LORA_METHODS:
        raise InvalidInputError("err.sga_lora_method", method=lora, known=", ".join(LORA_METHODS))
    table = checkpoint_table(settings, run)
    rows = _chosen(table, checkpoints)
    weights = average_weights(len(rows), ema)
    version = table.run.version
    output = "adapter" if rows[0].kind == "adapter" and lora == "cat" else "merged"
    base, base_id, parent = None, None, version.id if version else None
    if rows[0].kind == "adapter":
        entry = base_of(ModelRegistry(settings), version, rows[0].path)
        base, base_id, parent = (version.path if version else entry.path), entry.id, parent or entry.id
    name = name or f"{version.name if version else table.run.path.name}-{'ema' if ema is not None else 'swa'}"
    plan = plan_output(settings, name, out)
    if output == "adapter":
        needed = sum(weights_bytes(row.path) for row in rows)
    else:
        needed = weights_bytes(base) if base and Path(base).is_dir() else weights_bytes(rows[-1].path)
    require_space(plan.final.parent, needed)
    inputs = [f"{version.id}{SEPARATOR}{row.name}" if version else str(row.path) for row in rows]
    lineage = {"operation": "average", "method": "ema" if ema is not None else "swa", "decay": ema,
               "inputs": inputs, "checkpoints": [row.name for row in rows], "steps": [row.step for row in rows],
               "weights": weights, "run": str(table.run.path),
               "averaged": "full weights" if rows[0].kind == "full" else
               ("merged full weights" if lora == "merge" else "updates, as a rank k*r adapter (cat)"),
               **({"parent_id": parent} if parent else {})}
    return {"run": str(table.run.path), "checkpoints": [row.name for row in rows], "folders": [str(r.path) for r in rows],
            "kind": rows[0].kind, "lora": lora, "output": output, "base": base, "base_id": base_id, "name": name,
            "out": out, "final": str(plan.final), "weights": weights, "lineage": lineage}


def run_average(settings: Settings, run: str, checkpoints: list[str], ema: float | None = None, lora: str = "merge",
                name: str | None = None, out: str | None = None, progress: Progress | None = None,
                spec: dict | None = None) -> dict:
    """Average now (the job's body): written aside, moved into place whole; returns what to register. A `spec`
    described elsewhere (a target's job, planned here) is taken as it is, its paths those of this machine."""
    if spec is None:
        spec = describe(settings, run, checkpoints, ema, lora, name, out)
        plan = plan_output(settings, spec["name"], out)
    else:
        final = Path(spec["final"])
        plan = OutputPlan(final, final.with_name(f"{PARTIAL_PREFIX}{final.name}"))
    folders, weights = [Path(f) for f in spec["folders"]], spec["weights"]
    recipe = {"operation": "average", **{k: spec[k] for k in ("run", "checkpoints", "weights", "kind", "lora")},
              "method": spec["lineage"]["method"], "decay": ema}
    try:
        if spec["kind"] == "full":
            average_full(folders, weights, plan.partial, progress)
            final = plan.commit(recipe)
        elif spec["lora"] == "merge":
            average_lora_merged(spec["base"], folders, weights, plan.partial, progress)
            final = plan.commit(recipe)
        else:
            average_lora_cat(spec["base"], folders, weights, plan.partial, progress)
            final = commit_adapter(plan, recipe)
    except BaseException:
        plan.discard()  # a failed or interrupted job leaves no half-written model behind
        raise
    return {**spec, "path": str(final)}


def start_average(settings: Settings, runner: JobRunner, run: str, checkpoints: list[str], ema: float | None = None,
                  lora: str = "merge", name: str | None = None, out: str | None = None,
                  target: str | None = None) -> Job:
    """Check everything, then queue the averaging job (on `target`, this machine by default)."""
    from ..jobkinds import submit

    out = str(Path(out).expanduser().resolve()) if out else None  # the job runs in another working folder
    spec = describe(settings, run, checkpoints, ema, lora, name, out)
    params = {"run": spec["run"], "checkpoints": spec["checkpoints"], "ema": ema, "lora": lora, "name": spec["name"],
              "out": out}
    return submit(settings, runner, KIND, params, f"average {spec['name']}", target=target)


def register_average(settings: Settings, result: dict):
    """The finished output as a version, once: a merged model, or an adapter on the run's base (cat)."""
    from .outputs import register_output

    if result["output"] == "merged":
        return register_output(settings, result["name"], result["path"], result["lineage"])
    registry = ModelRegistry(settings)
    wanted = Path(result["path"]).resolve()
    existing = next((e for e in registry.list() if e.kind == "adapter" and e.adapter and Path(e.adapter) == wanted),
                    None)
    if existing is not None:
        return existing
    lineage = {**result["lineage"], "recipe": str(Path(result["path"]) / RECIPE_FILE)}
    lineage.pop("parent_id", None)  # add_adapter records the base as the parent
    return registry.add_adapter(result["name"], result["base_id"], result["path"], lineage=lineage)
