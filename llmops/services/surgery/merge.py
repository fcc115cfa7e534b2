"""mergekit merges: one builder makes the recipe that is previewed and the one that runs, every refusal before either.

Inputs are registered versions (base or merged; an adapter version goes in as mergekit's `base+lora` reference and
mergekit merges it into its base first, in a cache folder beside the output that is removed afterwards) or model
folders inside the workspace. The job runs `mergekit.merge.run_merge` on the CPU into the output's temporary folder;
a stop or a failure discards that folder, success commits it and the completion registers a `merged` version whose
lineage names every input and the recipe.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ...errors import ConflictError, InvalidInputError, JobError, LLMOpsError
from ...i18n import Message
from ...security.paths import allowed_roots, in_workspace, is_within
from ...settings import Settings
from ..models import ModelRegistry, is_model_dir
from .methods import MergeMethodInfo, get_method
from .outputs import OutputPlan, plan_output, require_space, weights_bytes

MIN_MODELS, MAX_MODELS = 2, 8
DTYPES = ("float32", "float16", "bfloat16")
_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
ARCH_KEYS = ("model_type", "architectures")
SHAPE_KEYS = ("hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads", "num_key_value_heads",
              "vocab_size")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "merges.txt", "tokenizer.model")
WEIGHT_SUM_TOLERANCE = 1e-3
STAGES = ("load", "merge", "save")
# mergekit holds a whole output shard in memory before writing it; its default (5B parameters) is the whole model.
OUT_SHARD_PARAMS = 500_000_000


@dataclass(frozen=True)
class MergeInput:
    """One model taking part: what the user named, the folder mergekit reads and, for an adapter, its LoRA."""

    label: str  # the version id, or the folder as given
    path: Path  # a full model folder (an adapter's base)
    lora: Path | None = None
    entry_id: str | None = None

    @property
    def ref(self) -> str | dict:
        """The mergekit ModelReference: 'path' or 'path+lora'; a mapping when a path holds '+' or '@'."""
        plain = [str(self.path)] + ([str(self.lora)] if self.lora else [])
        if not any("+" in part or "@" in part for part in plain):
            return "+".join(plain)
        return {"model": {"path": plain[0]}, "lora": {"path": plain[1]} if self.lora else None}

    def config(self) -> dict:
        try:
            return json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InvalidInputError("err.sgm_model_folder", path=str(self.path)) from None


@dataclass(frozen=True)
class MergePlan:
    """Everything about one merge before it runs: the recipe (dict and YAML), the command, the output, disk."""

    method: str
    recipe: dict
    yaml: str
    command: list[str]
    output: OutputPlan
    name: str
    disk_bytes: int
    inputs: tuple[MergeInput, ...]  # the base first when there is one
    base: MergeInput | None
    lora_cache: Path | None
    seed: int
    notes: tuple[Message, ...] = field(default_factory=tuple)

    def lineage(self) -> dict:
        """What the registered version says about where it came from."""
        per_model = {m["label"]: m.get("parameters") or {} for m in self._labelled()}
        lineage = {"operation": "mergekit", "method": self.method, "inputs": [i.label for i in self.inputs],
                   "base": self.base.label if self.base else None, "weights": per_model,
                   "parameters": self.recipe.get("parameters") or {}, "dtype": self.recipe.get("dtype"),
                   "tokenizer_source": self.recipe.get("tokenizer_source"), "seed": self.seed}
        parent = (self.base or self.inputs[0]).entry_id
        return {**lineage, "parent_id": parent} if parent else lineage

    def record(self) -> dict:
        """What recipe.yaml keeps beside the weights: the mergekit recipe, the inputs by name, the command."""
        return {"operation": "mergekit", "method": self.method, "inputs": [i.label for i in self.inputs],
                "base": self.base.label if self.base else None, "command": self.command, "seed": self.seed,
                "mergekit": self.recipe}

    def job_params(self) -> dict:
        """The merge job's parameters (see MergeJobParams)."""
        return {"recipe": self.recipe, "final": str(self.output.final), "partial": str(self.output.partial),
                "name": self.name, "lora_cache": str(self.lora_cache) if self.lora_cache else None, "seed": self.seed,
                "lineage": self.lineage(), "record": self.record()}

    def _labelled(self) -> list[dict]:
        by_ref = {json.dumps(i.ref, sort_keys=True): i.label for i in self.inputs}
        return [{"label": by_ref.get(json.dumps(m["model"], sort_keys=True), str(m["model"])), **m}
                for m in self.recipe["models"]]


class MergeJobParams(BaseModel):
    """A planned merge, as the job reads it from params.json."""

    model_config = ConfigDict(extra="forbid")

    recipe: dict
    final: str = Field(min_length=1)
    partial: str = Field(min_length=1)
    name: str = Field(min_length=1)
    lora_cache: str | None = None
    seed: int = 0
    shard_params: int = Field(OUT_SHARD_PARAMS, ge=1_000_000)
    lineage: dict = Field(default_factory=dict)
    record: dict = Field(default_factory=dict)


# --- resolving inputs -------------------------------------------------------------------------------------------


def resolve_input(settings: Settings, ref: str) -> MergeInput:
    """A registered version id (base, merged or adapter) or a model folder inside the workspace."""
    text = (ref or "").strip()
    registry = ModelRegistry(settings)
    if "@" in text and not Path(text).expanduser().exists():
        entry = registry.get(text)  # an unknown id is refused by the registry, naming it
        if entry.kind not in ("base", "merged", "adapter"):
            raise InvalidInputError("err.sgm_model_kind", model=text, kind=entry.kind)
        folder = Path(entry.path or "")
        if not is_model_dir(folder):
            raise InvalidInputError("err.sgm_model_not_local", model=text)
        return MergeInput(label=entry.id, path=folder.resolve(), entry_id=entry.id,
                          lora=Path(entry.adapter).resolve() if entry.adapter else None)
    folder = in_workspace(settings, text)
    if not is_within(folder, allowed_roots(settings)):
        raise InvalidInputError("err.sgm_model_outside", path=text)
    if not is_model_dir(folder):
        raise InvalidInputError("err.sgm_model_folder", path=text)
    return MergeInput(label=text, path=folder.resolve())


def _dedupe(method: str, base: MergeInput | None, models: list[tuple[MergeInput, dict]]) -> list[tuple[MergeInput,
                                                                                                         dict]]:
    """Drop the base where it is also listed among the models; refuse a model named twice."""
    seen: set[tuple] = set()
    kept = []
    for item, values in models:
        key = (item.path, item.lora)
        if base is not None and key == (base.path, base.lora):
            if values:
                raise InvalidInputError("err.sgm_base_params", model=item.label, method=method)
            continue
        if key in seen:
            raise InvalidInputError("err.sgm_duplicate_model", model=item.label)
        seen.add(key)
        kept.append((item, values))
    return kept


# --- checks -----------------------------------------------------------------------------------------------------


def check_counts(info: MergeMethodInfo, count: int, non_base: int, has_base: bool) -> None:
    """2–8 models in all, the method's base rule and its own input counts."""
    if info.base == "required" and not has_base:
        raise InvalidInputError("err.sgm_base_required", method=info.name)
    if not info.takes_base and has_base:
        raise InvalidInputError("err.sgm_base_forbidden", method=info.name)
    if not MIN_MODELS <= count <= MAX_MODELS:
        raise InvalidInputError("err.sgm_model_count", count=count)
    low, high = info.min_inputs, info.max_inputs
    if count < low or (high is not None and count > high):
        key = ("err.sgm_rule_exactly" if low == high else "err.sgm_rule_at_least" if count < low
               else "err.sgm_rule_at_most")
        raise InvalidInputError("err.sgm_input_count", method=info.name, count=count,
                                rule=Message(key, {"n": low if count < low or low == high else high}))
    low, high = info.min_non_base, info.max_non_base
    if (low is not None and non_base < low) or (high is not None and non_base > high):
        key, n = ("err.sgm_rule_non_base", high) if low == high else ("err.sgm_rule_non_base_min", low or 0)
        raise InvalidInputError("err.sgm_input_count", method=info.name, count=non_base, rule=Message(key, {"n": n}))


def _value(info: MergeMethodInfo, name: str, value):
    spec = info.param(name)
    if spec is None:
        raise InvalidInputError("err.sgm_param_unknown", method=info.name, param=name,
                                known=", ".join(p.name for p in info.params) or "-")
    try:
        parsed = spec.validate(value)
    except ValueError:
        raise InvalidInputError("err.sgm_param_type", param=name, value=value, type=spec.type) from None
    if spec.range and parsed is not None and not spec.range[0] <= parsed <= spec.range[1]:
        raise InvalidInputError("err.sgm_param_range", param=name, value=value, low=spec.range[0], high=spec.range[1])
    return parsed


def check_params(info: MergeMethodInfo, shared_in: dict, models: list[tuple[MergeInput, dict]]
                 ) -> tuple[dict, list[dict], list[Message]]:
    """Typed shared values and per-model values (a per-model key set once applies to every model), with notes."""
    notes: list[Message] = []
    shared, spread = {}, {}
    for name, value in shared_in.items():
        parsed = _value(info, name, value)
        (spread if info.param(name).per_model else shared)[name] = parsed
    per_model = [{**spread, **{k: _value(info, k, v) for k, v in values.items()}} for _, values in models]
    for spec in info.shared_params:
        if spec.required and spec.name not in shared:
            raise InvalidInputError("err.sgm_param_missing", method=info.name, param=spec.name,
                                    where=f"--set {spec.name}=…")
    for spec in info.model_params:
        given = [spec.name in values for values in per_model]
        if not spec.required or all(given):
            continue
        if spec.name == "weight" and not any(given):  # no weights at all: an equal share each
            share = round(1.0 / len(per_model), 6)
            for values in per_model:
                values["weight"] = share
            notes.append(Message("sgm.equal_weights", {"weight": share}))
            continue
        missing = models[given.index(False)][0].label
        if spec.name == "weight":
            raise InvalidInputError("err.sgm_weight_partial", model=missing)
        raise InvalidInputError("err.sgm_param_missing", method=info.name, param=spec.name, where=missing)
    _check_weights(info, shared, per_model, models)
    return shared, per_model, notes


def _check_weights(info: MergeMethodInfo, shared: dict, per_model: list[dict], models: list) -> None:
    """Weights of the models themselves (no required base) are non-negative; linear without normalize sums to 1."""
    weights = [values.get("weight") for values in per_model]
    if any(w is None for w in weights) or not weights:
        return
    if info.base != "required":
        for (item, _), weight in zip(models, weights, strict=True):
            if weight < 0:
                raise InvalidInputError("err.sgm_weight_negative", model=item.label, value=weight, method=info.name)
    spec = info.param("normalize")
    if spec is None or info.base == "required":
        return
    total = sum(weights)
    if shared.get("normalize", spec.default):
        if total <= 0:
            raise InvalidInputError("err.sgm_weight_zero", total=round(total, 6))
    elif not math.isclose(total, 1.0, abs_tol=WEIGHT_SUM_TOLERANCE):
        raise InvalidInputError("err.sgm_weight_sum", total=round(total, 6))


def _field(config: dict, key: str):
    """A config value, looked up in a multimodal model's text_config when the top level lacks it."""
    if key in config:
        return config[key]
    return (config.get("text_config") or {}).get(key)


def _tokenizer_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in TOKENIZER_FILES:
        if (folder / name).is_file():
            digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return digest.hexdigest()


def check_compatible(inputs: list[MergeInput], tokenizer_source: str | None) -> None:
    """One architecture and one set of shapes; one tokenizer unless a tokenizer_source rule is named."""
    first, configs = inputs[0], [item.config() for item in inputs]
    for item, config in zip(inputs[1:], configs[1:], strict=True):
        for key in ARCH_KEYS + SHAPE_KEYS:
            if key == "vocab_size" and tokenizer_source:
                continue  # mergekit aligns the vocabularies by the named rule
            a, b = _field(configs[0], key), _field(config, key)
            if a != b:
                code = "err.sgm_arch_differs" if key in ARCH_KEYS else "err.sgm_shape_differs"
                raise InvalidInputError(code, first=first.label, other=item.label, key=key, a=a, b=b)
    if tokenizer_source:
        return
    digests = [_tokenizer_digest(item.path) for item in inputs]
    for item, digest in zip(inputs[1:], digests[1:], strict=True):
        if digest != digests[0]:
            raise InvalidInputError("err.sgm_tokenizer_differs", first=first.label, other=item.label)


def _tokenizer_rule(value: str | None, inputs: list[MergeInput], base: MergeInput | None) -> str | dict | None:
    if not value:
        return None
    if value == "union" or (value == "base" and base is not None):
        return value
    match = next((item for item in inputs if value in (item.label, str(item.path))), None)
    if match is None:
        raise InvalidInputError("err.sgm_tokenizer_source", value=value)
    return match.ref


# --- the plan ---------------------------------------------------------------------------------------------------


def plan_merge(settings: Settings, method: str, models: list[tuple[str, dict]], base: str | None = None,
               params: dict | None = None, dtype: str | None = None, out: str | None = None, name: str | None = None,
               tokenizer_source: str | None = None, seed: int = 0) -> MergePlan:
    """The recipe, command, output and disk room of one merge; every refusal happens here, before anything runs."""
    info = get_method(method)
    if dtype is not None and dtype not in DTYPES:
        raise InvalidInputError("err.sgm_dtype", value=dtype, known=", ".join(DTYPES))
    base_in = resolve_input(settings, base) if base else None
    listed = _dedupe(info.name, base_in, [(resolve_input(settings, ref), dict(values or {})) for ref, values in models])
    check_counts(info, len(listed) + bool(base_in), len(listed), base_in is not None)
    shared, per_model, notes = check_params(info, dict(params or {}), listed)
    inputs = ([base_in] if base_in else []) + [item for item, _ in listed]
    check_compatible(inputs, tokenizer_source)
    recipe: dict = {"merge_method": info.name}
    if base_in:
        recipe["base_model"] = base_in.ref
    recipe["models"] = [{"model": item.ref, **({"parameters": values} if values else {})}
                        for (item, _), values in zip(listed, per_model, strict=True)]
    if shared:
        recipe["parameters"] = shared
    if dtype:
        recipe["dtype"] = dtype
    if (rule := _tokenizer_rule(tokenizer_source, inputs, base_in)) is not None:
        recipe["tokenizer_source"] = rule
    _mergekit_accepts(recipe)
    output = plan_output(settings, name or f"merge-{info.name}", out)
    adapters = [item for item in inputs if item.lora]
    lora_cache = output.partial.with_name(output.partial.name + ".lora-cache") if adapters else None
    for item in adapters:
        notes.append(Message("sgm.adapter_note", {"model": item.label, "cache": str(lora_cache)}))
    disk = _disk_needed(inputs, dtype)
    require_space(output.final.parent, disk)
    command = ["mergekit-yaml", "config.yaml", str(output.final), "--lazy-unpickle", "--random-seed", str(seed)]
    if lora_cache:
        command += ["--lora-merge-cache", str(lora_cache)]
    text = yaml.safe_dump(recipe, allow_unicode=True, sort_keys=False)
    return MergePlan(method=info.name, recipe=recipe, yaml=text, command=command, output=output,
                     name=name or output.final.name, disk_bytes=disk, inputs=tuple(inputs), base=base_in,
                     lora_cache=lora_cache, seed=seed, notes=tuple(notes))


def _mergekit_accepts(recipe: dict) -> None:
    """mergekit's own cross-field validation of the recipe (its message kept as the reason)."""
    from mergekit.config import MergeConfiguration

    try:
        MergeConfiguration.model_validate(recipe)
    except (ValueError, RuntimeError) as exc:
        raise InvalidInputError("err.sgm_merge_failed", reason=str(exc)[:500]) from None


def _disk_needed(inputs: list[MergeInput], dtype: str | None) -> int:
    """The output (the largest input, recast to `dtype`) plus each adapter's merged copy of its base."""
    sizes = [weights_bytes(item.path) for item in inputs]
    out = max(sizes)
    source = _field(inputs[0].config(), "dtype") or _field(inputs[0].config(), "torch_dtype")
    if dtype and source in _DTYPE_BYTES:
        out = out * _DTYPE_BYTES[dtype] // _DTYPE_BYTES[source]
    return out + sum(size for item, size in zip(inputs, sizes, strict=True) if item.lora)


# --- the job ----------------------------------------------------------------------------------------------------


def run_merge_job(params: MergeJobParams, progress: Callable[..., None]) -> dict:
    """The merge job's body: mergekit into the temporary folder, then the committed output; discarded otherwise."""
    output = OutputPlan(Path(params.final), Path(params.partial))
    if output.final.exists():
        raise ConflictError("err.sg_output_exists", path=str(output.final))
    total = len(STAGES)
    progress(STAGES[0], 0, total, force=True)
    try:
        from mergekit.config import MergeConfiguration
        from mergekit.merge import run_merge
        from mergekit.options import MergeOptions

        config = MergeConfiguration.model_validate(params.recipe)
        options = MergeOptions(lazy_unpickle=True, copy_tokenizer=True, device="cpu", quiet=True,
                               random_seed=params.seed, lora_merge_cache=params.lora_cache,
                               out_shard_size=params.shard_params)
        progress(STAGES[1], 1, total, force=True)
        try:
            run_merge(config, str(output.partial), options)
        except LLMOpsError:
            raise
        except (RuntimeError, ValueError, TypeError, KeyError, AssertionError, OSError) as exc:
            raise JobError("err.sgm_merge_failed", reason=f"{type(exc).__name__}: {str(exc)[:500]}") from None
        progress(STAGES[2], 2, total, force=True)
        final = output.commit(params.record)
    except BaseException:  # a stop (Interrupted), a failure: nothing half-written stays behind
        output.discard()
        raise
    finally:
        if params.lora_cache:
            shutil.rmtree(params.lora_cache, ignore_errors=True)
    progress("done", total, total, force=True)
    return {"path": str(final), "name": params.name, "method": params.recipe.get("merge_method"),
            "weights_bytes": weights_bytes(final)}
