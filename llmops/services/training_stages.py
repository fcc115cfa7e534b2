"""What the RM, PPO and KTO stages add to a training: PPO's reward model from the registry, and PPO's engine."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from ..errors import InvalidInputError, NotFoundError
from ..schemas.models import ModelEntry
from .models import ModelRegistry

# LLaMA-Factory 0.9.5's PPO trainer is written against TRL's old PPOTrainer and checks for exactly these versions.
PPO_TRL = ">=0.8.6,<=0.9.6"
# What LLaMA-Factory's RM stage writes beside the weights, and what its PPO loads to score answers.
VALUE_HEADS = ("value_head.safetensors", "value_head.bin")


def has_value_head(folder: str | Path | None) -> bool:
    """True when the folder holds a reward model's value head."""
    return bool(folder) and any((Path(folder) / name).is_file() for name in VALUE_HEADS)


def _scorer_folder(entry: ModelEntry) -> str | None:
    return entry.adapter if entry.kind == "adapter" else entry.path


def reward_sources(models: ModelRegistry) -> list[tuple[str, str]]:
    """(label, version id) of registered versions that carry a value head: the ones PPO can load as a scorer."""
    found = [entry for entry in models.list() if entry.kind in ("adapter", "merged")
             and has_value_head(_scorer_folder(entry))]
    return [(f"{entry.id} ({entry.kind}, {entry.lineage.get('stage') or '?'})", entry.id) for entry in found]


def resolve_reward(models: ModelRegistry, values: dict, policy_model: str) -> dict:
    """A reward model named by its version id, turned into LLaMA-Factory's reward_model keys; a folder passes as is.

    A LoRA reward adapter on the policy's own base is loaded onto the policy (type lora, no second model); any other
    version is loaded as a full model, with its adapter on top when it has one."""
    choice = str(values.get("reward_model") or "").strip()
    if not choice:
        return values
    try:
        entry = models.get(choice) if "@" in choice else None
    except NotFoundError:
        entry = None  # a folder whose name holds '@'
    if entry is None:
        return _typed_folder(values, choice)
    if entry.kind not in ("adapter", "merged", "base") or not entry.path:
        raise InvalidInputError("err.stage.reward_not_model", model=choice, kind=entry.kind)
    lora_policy = values.get("finetuning_type", "lora") == "lora"
    same_base = _same(entry.path, policy_model)
    if entry.kind == "adapter" and lora_policy and same_base:
        resolved = {"reward_model": entry.adapter, "reward_model_type": "lora", "reward_model_adapters": None}
    else:
        resolved = {"reward_model": entry.path, "reward_model_type": "full",
                    "reward_model_adapters": entry.adapter if entry.kind == "adapter" else None}
    return {**values, **resolved}


def _typed_folder(values: dict, folder: str) -> dict:
    """A folder typed by hand: an adapter scores a LoRA policy in place, anything else loads as a full model."""
    if values.get("reward_model_type"):
        return values  # set explicitly (CLI, named API): kept as given
    adapter = (Path(folder).expanduser() / "adapter_config.json").is_file()
    lora = adapter and values.get("finetuning_type", "lora") == "lora"
    return {**values, "reward_model_type": "lora" if lora else "full"}


def _same(a: str, b: str) -> bool:
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except OSError:
        return a == b


def ppo_engine_problem() -> tuple[str, str] | None:
    """(wanted, found) when the installed TRL cannot run LLaMA-Factory's PPO; None when it can."""
    try:
        found = metadata.version("trl")
    except metadata.PackageNotFoundError:
        return PPO_TRL, "none"
    try:
        fits = Version(found) in SpecifierSet(PPO_TRL)
    except InvalidVersion:
        fits = False
    return None if fits else (PPO_TRL, found)
