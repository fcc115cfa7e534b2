"""TrainConfig -> the exact LLaMA-Factory argument dict and YAML that will run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..schemas.stages import LF_SECTIONS, STAGES, lf_section_keys
from ..schemas.training import TrainConfig
from ..settings import Settings

DEEPSPEED_FILES = {
    "z2": "ds_z2.json",
    "z2_offload": "ds_z2_offload.json",
    "z3": "ds_z3.json",
    "z3_offload": "ds_z3_offload.json",
}

# GaLore / APOLLO / BAdam keys, written only when that optimizer is on (names as in LF's FinetuningArguments).
_OPTIMIZER_GROUPS = {
    "galore": ("use_galore", "galore_target", "galore_rank", "galore_update_interval", "galore_scale",
               "galore_proj_type", "galore_layerwise"),
    "apollo": ("use_apollo", "apollo_target", "apollo_rank", "apollo_update_interval", "apollo_scale",
               "apollo_layerwise"),
    "badam": ("use_badam", "badam_mode", "badam_switch_mode", "badam_switch_interval", "badam_update_ratio"),
}
# Keys LLaMA-Factory reads that are no TrainConfig field (fixed or derived here), by YAML section; every TrainConfig
# field names its own section in its metadata (llmops.schemas.stages). Reading a YAML back accepts these too.
_LF_ONLY = {
    "model": ("model_name_or_path", "trust_remote_code", "quantization_method"),
    "method": ("do_train", "freeze_trainable_modules"),
    "dataset": ("dataset", "dataset_dir", "overwrite_cache", "preprocessing_num_workers", "dataloader_num_workers"),
    "output": ("output_dir", "plot_loss", "save_only_model"),
    "train": ("bf16", "fp16"),
    "eval": ("per_device_eval_batch_size", "eval_strategy"),
}


def yaml_sections() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Section order mirrors LLaMA-Factory's example configs so users recognise the file."""
    fields = lf_section_keys()
    return tuple((section, (*_LF_ONLY[section], *fields[section])) for section in LF_SECTIONS)


@dataclass(frozen=True)
class Placement:
    """Where the run will execute: decides precision and launch form."""

    cuda: bool = False
    bf16_supported: bool = False
    gpu_count: int = 0


def resolve_precision(config: TrainConfig, placement: Placement) -> str:
    """'auto' becomes bf16 on GPUs that have it, fp16 on older GPUs, fp32 on the CPU."""
    if config.precision != "auto":
        return config.precision
    if not placement.cuda:
        return "fp32"
    return "bf16" if placement.bf16_supported else "fp16"


def home_relative(settings: Settings, path: Path) -> str:
    """A path relative to the home when inside it (portable to another box), else absolute."""
    path = Path(path).resolve()
    home = settings.home.resolve()
    return str(path.relative_to(home)) if home in path.parents or path == home else str(path)


def to_lf_args(config: TrainConfig, settings: Settings, output_dir: Path, placement: Placement,
               trust_remote_code: bool = False) -> dict:
    """The argument dict LLaMA-Factory's parser receives; paths relative to the home."""
    precision = resolve_precision(config, placement)
    args: dict = {
        "model_name_or_path": config.model,
        "stage": STAGES[config.stage].lf_stage,
        "do_train": True,
        "finetuning_type": config.finetuning_type,
        "dataset": ",".join(config.datasets),
        "dataset_dir": home_relative(settings, settings.data_dir),
        "template": config.template,
        "cutoff_len": config.cutoff_len,
        "overwrite_cache": True,
        # One worker each: more only adds process start-up on small data and breaks on some sandboxes.
        "preprocessing_num_workers": 1,
        "dataloader_num_workers": 0,
        "output_dir": home_relative(settings, output_dir),
        "logging_steps": config.logging_steps,
        "save_steps": config.save_steps,
        "plot_loss": True,
        "save_only_model": False,
        "report_to": config.report_to,
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "learning_rate": config.learning_rate,
        "num_train_epochs": config.num_train_epochs,
        "lr_scheduler_type": config.lr_scheduler_type,
        "max_grad_norm": config.max_grad_norm,
        "packing": config.packing or config.neat_packing,
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "seed": config.seed,
    }
    if trust_remote_code:
        # Off unless the model's registry entry opts in: a hub model's own Python code would run here.
        args["trust_remote_code"] = True
    optional = {"run_name": config.run_name, "max_steps": config.max_steps, "max_samples": config.max_samples,
                "warmup_ratio": config.warmup_ratio, "warmup_steps": config.warmup_steps,
                "neftune_noise_alpha": config.neftune_noise_alpha, "neat_packing": config.neat_packing,
                "enable_liger_kernel": config.enable_liger_kernel, "use_unsloth": config.use_unsloth,
                "rope_scaling": None if config.rope_scaling == "none" else config.rope_scaling,
                "flash_attn": None if config.flash_attn == "auto" else config.flash_attn}
    args.update({key: value for key, value in optional.items() if value})
    for key in ("adapter_name_or_path", "resume_from_checkpoint"):
        value = getattr(config, key)
        if value:
            local = Path(value).expanduser()
            args[key] = home_relative(settings, local) if local.exists() else value
    args.update(_method_args(config))
    if config.memory_optimizer:
        args.update({key: getattr(config, key) for key in _OPTIMIZER_GROUPS[config.memory_optimizer]})
    if config.deepspeed != "none":
        args["deepspeed"] = home_relative(settings, settings.deepspeed_dir / DEEPSPEED_FILES[config.deepspeed])
    args.update(_eval_args(config))
    if config.use_ray:
        args["ray_num_workers"] = config.ray_num_workers
    return args


def _method_args(config: TrainConfig) -> dict:
    """Quantization, the fine-tuning method's own keys, and the keys of the stage (reward model, losses)."""
    args: dict = {}
    if config.quantization_bit:
        args.update(quantization_bit=config.quantization_bit, quantization_method="bnb")
    if config.finetuning_type == "lora":
        args.update(lora_rank=config.lora_rank, lora_alpha=config.effective_lora_alpha,
                    lora_dropout=config.lora_dropout, lora_target=config.lora_target.replace(" ", ""))
    elif config.finetuning_type == "freeze":
        args.update(freeze_trainable_layers=config.freeze_trainable_layers, freeze_trainable_modules="all")
    args.update(_stage_args(config))
    if config.uses_ref_model:
        # ORPO and SimPO load no reference model in LLaMA-Factory: a ref_model there would only mislead the reader.
        args.update({key: value for key, value in (("ref_model", config.ref_model),
                                                  ("ref_model_adapters", config.ref_model_adapters)) if value})
    return args


# Each stage's own keys (LLaMA-Factory's RLHFArguments), written only on that stage.
_STAGE_KEYS = {
    "dpo": ("pref_beta", "pref_loss", "pref_ftx"),
    "kto": ("pref_beta", "pref_ftx", "kto_chosen_weight", "kto_rejected_weight"),
    "ppo": ("reward_model", "reward_model_type", "ppo_epochs", "ppo_buffer_size", "ppo_target", "ppo_score_norm",
            "ppo_whiten_rewards"),
}


def _stage_args(config: TrainConfig) -> dict:
    """The keys of the config's stage; a loss's own knob only with that loss (LF refuses smoothing elsewhere)."""
    args = {key: getattr(config, key) for key in _STAGE_KEYS.get(config.stage, ())}
    if config.stage == "dpo" and config.pref_loss == "simpo":
        args["simpo_gamma"] = config.simpo_gamma
    if config.stage == "dpo" and config.pref_loss == "sigmoid" and config.dpo_label_smoothing:
        args["dpo_label_smoothing"] = config.dpo_label_smoothing
    if config.stage == "ppo" and config.reward_model_adapters:
        args["reward_model_adapters"] = config.reward_model_adapters
    return args


def _eval_args(config: TrainConfig) -> dict:
    """Evaluation on registered eval datasets or a held-out fraction, or explicitly none ('no' stays a string)."""
    if config.eval_dataset:
        held_out = {"eval_dataset": config.eval_dataset}
    elif config.val_size > 0:
        held_out = {"val_size": config.val_size}
    else:
        return {"eval_strategy": "no"}
    return {**held_out, "per_device_eval_batch_size": config.per_device_train_batch_size,
            "eval_strategy": "steps", "eval_steps": config.eval_steps}


def from_lf_args(args: dict) -> tuple[dict, list[str]]:
    """A rendered argument dict back to TrainConfig values; also returns the keys the studio never writes."""
    known = set(TrainConfig.model_fields) | {key for keys in _LF_ONLY.values() for key in keys}
    unknown = sorted(key for key in args if key not in known)
    values = {key: value for key, value in args.items() if key in TrainConfig.model_fields}
    values["model"] = args.get("model_name_or_path")
    datasets = args.get("dataset")
    values["datasets"] = [part.strip() for part in datasets.split(",")] if isinstance(datasets, str) else datasets
    values["precision"] = "bf16" if args.get("bf16") else "fp16" if args.get("fp16") else "auto"
    if args.get("deepspeed"):
        by_file = {name: mode for mode, name in DEEPSPEED_FILES.items()}
        values["deepspeed"] = by_file.get(Path(str(args["deepspeed"])).name, str(args["deepspeed"]))
    if args.get("eval_strategy", "no") == "no":
        values.pop("val_size", None)
        values.pop("eval_dataset", None)
    if isinstance(values.get("warmup_steps"), float) and values["warmup_steps"] < 1:
        values["warmup_ratio"], values["warmup_steps"] = values["warmup_steps"], 0  # transformers' ratio form
    if values.get("packing") and values.get("neat_packing"):
        values["packing"] = False  # neat packing implies packing; the form keeps the two apart
    return values, unknown


def to_yaml(args: dict, header: str = "") -> str:
    """Render the dict in LLaMA-Factory's sectioned style; every key appears exactly once."""
    lines = [f"# {_printable(line)}" for line in header.splitlines()] if header else []
    placed: set[str] = set()
    for section, keys in yaml_sections():
        chunk = {key: args[key] for key in keys if key in args}
        if not chunk:
            continue
        placed.update(chunk)
        lines.append(f"### {section}")
        lines.append(_dump(chunk))
    rest = {key: value for key, value in args.items() if key not in placed}
    if rest:
        lines.append("### other")
        lines.append(_dump(rest))
    return "\n".join(lines) + "\n"


# Characters a YAML stream may not hold raw (a comment cannot escape them).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Breaks PyYAML writes raw inside single quotes, where reading folds them into a space.
_UNICODE_BREAKS = re.compile("[\x85\u2028\u2029]")


def _printable(line: str) -> str:
    return _NOT_PRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), line)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes (and so escapes) strings holding Unicode line breaks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if _UNICODE_BREAKS.search(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(chunk: dict) -> str:
    # default_style=None keeps `eval_strategy: 'no'` quoted, so YAML never reads it as False.
    return yaml.dump(chunk, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n")
