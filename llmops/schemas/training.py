"""Typed training configurations for the LLaMA-Factory stages the studio offers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..i18n import t

Stage = Literal["pt", "sft", "rm", "ppo", "dpo", "kto"]
FinetuningType = Literal["lora", "full", "freeze"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
DeepSpeedMode = Literal["none", "z2", "z2_offload", "z3", "z3_offload"]
PrefLoss = Literal["sigmoid", "ipo", "hinge", "orpo", "simpo"]
# Losses LLaMA-Factory trains without a reference model (its FinetuningArguments.use_ref_model).
REF_FREE_LOSSES = ("orpo", "simpo")
RewardModelType = Literal["lora", "full"]
ReportTo = Literal["none", "tensorboard", "wandb", "mlflow", "swanlab"]
Scheduler = Literal["cosine", "linear", "constant", "constant_with_warmup", "polynomial", "cosine_with_restarts",
                    "inverse_sqrt"]
RopeScaling = Literal["none", "linear", "dynamic", "yarn", "llama3"]
FlashAttn = Literal["auto", "disabled", "sdpa", "fa2"]
GaloreProjType = Literal["std", "reverse_std", "right", "left", "full"]
BadamMode = Literal["layer", "ratio"]
BadamSwitchMode = Literal["ascending", "descending", "random", "fixed"]
_TARGETS = r"^[A-Za-z0-9_.,\s*]+$"
_NAMES = r"^[^/\\\x00-\x1f]*$"  # comma-separated dataset names
ZERO3 = ("z3", "z3_offload")
FORM_KEY = "x-form"


def _f(default=..., *, section: str, lf: str | None, kind: str | None = None, stages: tuple[str, ...] | None = None,
       shown: tuple[str, ...] | None = None, source: str | None = None, row: bool = False, **constraints):
    """A field with its form and YAML metadata (read by llmops.schemas.stages; it also shows in the JSON schema)."""
    meta = {"section": section, "lf": lf, "kind": kind, "stages": list(stages) if stages else None,
            "shown": list(shown) if shown else None, "source": source, "row": row or None}
    return Field(default, json_schema_extra={FORM_KEY: {k: v for k, v in meta.items() if v is not None}},
                 **constraints)


def _rule(key: str) -> PydanticCustomError:
    """A cross-field refusal that names its i18n key, so the service can answer in the user's language."""
    return PydanticCustomError("llmops_rule", t(key, "en"), {"rule": key})


class TrainConfig(BaseModel):
    """One training run as the user describes it; rendered to LLaMA-Factory YAML by llmops.lf.render.

    Each field carries its form metadata (section, YAML section, stages); within a section the declaration order
    is the form's order, which is also the order of the positional API, so new fields go at a section's end.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # Drawn above the stage forms (model, template, datasets) or fixed by the tab (stage).
    stage: Stage = _f(section="top", lf="method")
    model: str = _f(section="top", lf=None, min_length=1, max_length=1000)
    template: str = _f(section="top", lf="dataset", min_length=1, max_length=64)
    datasets: list[str] = _f(section="top", lf=None, min_length=1, max_length=32)
    # --- basic: the first row of every form
    finetuning_type: FinetuningType = _f("lora", section="basic", lf="method", kind="radio")
    quantization_bit: Literal[8, 4] | None = _f(None, section="basic", lf="model")
    learning_rate: float = _f(1e-4, section="basic", lf="train", gt=0.0, le=1.0)
    num_train_epochs: float = _f(3.0, section="basic", lf="train", gt=0.0, le=1000.0)
    max_steps: int | None = _f(None, section="basic", lf="train", ge=1, le=10_000_000)
    per_device_train_batch_size: int = _f(1, section="basic", lf="train", ge=1, le=4096)
    gradient_accumulation_steps: int = _f(8, section="basic", lf="train", ge=1, le=4096)
    cutoff_len: int = _f(1024, section="basic", lf="dataset", ge=8, le=1_048_576)
    # PPO's reward model: a registered version (resolved by the training service) or a local folder.
    reward_model: str | None = _f(None, section="basic", lf="method", kind="source", source="reward",
                                  stages=("ppo",), max_length=1000)
    # --- advanced
    lora_rank: int = _f(8, section="advanced", lf="method", ge=1, le=1024)
    lora_alpha: int | None = _f(None, section="advanced", lf="method", ge=1, le=4096)
    lora_dropout: float = _f(0.0, section="advanced", lf="method", ge=0.0, le=0.9)
    lora_target: str = _f("all", section="advanced", lf="method", min_length=1, max_length=500, pattern=_TARGETS)
    freeze_trainable_layers: int = _f(2, section="advanced", lf="method", ge=-512, le=512)
    val_size: float = _f(0.0, section="advanced", lf="eval", ge=0.0, lt=1.0)
    eval_steps: int = _f(100, section="advanced", lf="eval", ge=1, le=10_000_000)
    save_steps: int = _f(500, section="advanced", lf="output", ge=1, le=10_000_000)
    logging_steps: int = _f(10, section="advanced", lf="output", ge=1, le=10_000_000)
    precision: Precision = _f("auto", section="advanced", lf="train")
    deepspeed: DeepSpeedMode = _f("none", section="advanced", lf="method")
    report_to: ReportTo = _f("none", section="advanced", lf="output")
    run_name: str | None = _f(None, section="advanced", lf="output", max_length=100)
    pref_beta: float = _f(0.1, section="advanced", lf="method", stages=("dpo", "kto"), gt=0.0, le=100.0)
    pref_loss: PrefLoss = _f("sigmoid", section="advanced", lf="method", stages=("dpo",))
    # --- continue: an existing LoRA adapter (a previous version) to train further, or an interrupted run's
    # checkpoint of the same output folder (optimizer, scheduler and step restored).
    adapter_name_or_path: str | None = _f(None, section="continue", lf="model", kind="source", source="continue",
                                          max_length=1000)
    resume_from_checkpoint: str | None = _f(None, section="continue", lf="train", kind="source", source="resume",
                                            max_length=1000)
    # --- optim
    lr_scheduler_type: Scheduler = _f("cosine", section="optim", lf="train")
    warmup_ratio: float = _f(0.1, section="optim", lf="train", ge=0.0, lt=1.0)
    warmup_steps: int = _f(0, section="optim", lf="train", ge=0, le=10_000_000)
    max_grad_norm: float = _f(1.0, section="optim", lf="train", gt=0.0, le=10_000.0)
    max_samples: int | None = _f(None, section="optim", lf="dataset", ge=1, le=1_000_000_000)
    packing: bool = _f(False, section="optim", lf="dataset")
    # In every form (the positional API keeps its place) but shown only where LLaMA-Factory supports it.
    neat_packing: bool = _f(False, section="optim", lf="dataset", shown=("sft",))
    neftune_noise_alpha: float = _f(0.0, section="optim", lf="train", ge=0.0, le=100.0)
    # --- speed
    rope_scaling: RopeScaling = _f("none", section="speed", lf="model")
    flash_attn: FlashAttn = _f("auto", section="speed", lf="model")
    enable_liger_kernel: bool = _f(False, section="speed", lf="model")
    use_unsloth: bool = _f(False, section="speed", lf="model")
    # --- memory_optim: LLaMA-Factory FinetuningArguments; full or freeze tuning only. Each starts its own row.
    use_galore: bool = _f(False, section="memory_optim", lf="method", row=True)
    galore_target: str = _f("all", section="memory_optim", lf="method", min_length=1, max_length=500,
                            pattern=_TARGETS)
    galore_rank: int = _f(16, section="memory_optim", lf="method", ge=1, le=4096)
    galore_update_interval: int = _f(200, section="memory_optim", lf="method", ge=1, le=1_000_000)
    galore_scale: float = _f(2.0, section="memory_optim", lf="method", gt=0.0, le=1000.0)
    galore_proj_type: GaloreProjType = _f("std", section="memory_optim", lf="method")
    galore_layerwise: bool = _f(False, section="memory_optim", lf="method")
    use_apollo: bool = _f(False, section="memory_optim", lf="method", row=True)
    apollo_target: str = _f("all", section="memory_optim", lf="method", min_length=1, max_length=500,
                            pattern=_TARGETS)
    apollo_rank: int = _f(16, section="memory_optim", lf="method", ge=1, le=4096)
    apollo_update_interval: int = _f(200, section="memory_optim", lf="method", ge=1, le=1_000_000)
    apollo_scale: float = _f(32.0, section="memory_optim", lf="method", gt=0.0, le=1000.0)
    apollo_layerwise: bool = _f(False, section="memory_optim", lf="method")
    use_badam: bool = _f(False, section="memory_optim", lf="method", row=True)
    badam_mode: BadamMode = _f("layer", section="memory_optim", lf="method")
    badam_switch_mode: BadamSwitchMode = _f("ascending", section="memory_optim", lf="method")
    badam_switch_interval: int = _f(50, section="memory_optim", lf="method", ge=-1, le=1_000_000)
    badam_update_ratio: float = _f(0.05, section="memory_optim", lf="method", gt=0.0, le=1.0)
    # --- eval: a registered dataset scored every eval_steps (instead of a val_size fraction held out of the data)
    eval_dataset: str | None = _f(None, section="eval", lf="eval", max_length=1000, pattern=_NAMES)
    # --- stage: parameters under LLaMA-Factory 0.9.5's names (its RLHFArguments), each on the stages that read it;
    # drawn after every other section, so the positional API of the older stage forms keeps its order.
    pref_ftx: float = _f(0.0, section="stage", lf="method", stages=("dpo", "kto"), ge=0.0, le=100.0)
    simpo_gamma: float = _f(0.5, section="stage", lf="method", stages=("dpo",), ge=0.0, le=100.0)
    dpo_label_smoothing: float = _f(0.0, section="stage", lf="method", stages=("dpo",), ge=0.0, le=0.5)
    kto_chosen_weight: float = _f(1.0, section="stage", lf="method", stages=("kto",), gt=0.0, le=100.0)
    kto_rejected_weight: float = _f(1.0, section="stage", lf="method", stages=("kto",), gt=0.0, le=100.0)
    ppo_epochs: int = _f(4, section="stage", lf="method", stages=("ppo",), ge=1, le=1000)
    ppo_buffer_size: int = _f(1, section="stage", lf="method", stages=("ppo",), ge=1, le=1000)
    ppo_target: float = _f(6.0, section="stage", lf="method", stages=("ppo",), gt=0.0, le=1000.0)
    ppo_score_norm: bool = _f(False, section="stage", lf="method", stages=("ppo",))
    ppo_whiten_rewards: bool = _f(False, section="stage", lf="method", stages=("ppo",))
    # --- api: settable through the CLI and the named API, not drawn on the form
    ref_model: str | None = _f(None, section="api", lf="method", stages=("dpo", "kto"), max_length=1000)
    ref_model_adapters: str | None = _f(None, section="api", lf="method", stages=("dpo", "kto"), max_length=1000)
    # Filled from the chosen reward model's registry entry; settable by hand for a folder outside the registry.
    reward_model_adapters: str | None = _f(None, section="api", lf="method", stages=("ppo",), max_length=1000)
    reward_model_type: RewardModelType = _f("lora", section="api", lf="method", stages=("ppo",))
    seed: int = _f(42, section="api", lf="train", ge=0, le=2**31 - 1)
    # LLaMA-Factory's Ray mode (0.9.5's RayArguments): USE_RAY=1 in the launch environment, not a YAML key, and
    # ray_num_workers (one device each; LF checks the cluster has that many) in the YAML.
    use_ray: bool = _f(False, section="distributed", lf="train")  # listed with the train keys; render never writes it
    ray_num_workers: int = _f(1, section="distributed", lf="train", ge=1, le=4096)

    @field_validator("datasets")
    @classmethod
    def _distinct_datasets(cls, value: list[str]) -> list[str]:
        cleaned = [name.strip() for name in value if name.strip()]
        if not cleaned:
            raise ValueError("at least one dataset is required")
        return list(dict.fromkeys(cleaned))

    @field_validator("eval_dataset")
    @classmethod
    def _eval_names(cls, value: str | None) -> str | None:
        names = list(dict.fromkeys(name.strip() for name in (value or "").split(",") if name.strip()))
        return ",".join(names) or None

    @field_validator("model", "template")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _cross_field(self) -> TrainConfig:
        if self.quantization_bit is not None and self.finetuning_type != "lora":
            raise ValueError("quantization (QLoRA) requires finetuning_type lora")
        if self.quantization_bit is not None and self.deepspeed in ("z3", "z3_offload"):
            raise ValueError("QLoRA cannot be combined with DeepSpeed ZeRO-3 here")
        if self.adapter_name_or_path and self.finetuning_type != "lora":
            raise _rule("err.train.adapter_lora")
        if (self.ref_model or self.ref_model_adapters) and self.stage not in ("dpo", "kto"):
            raise ValueError("a reference model is only used by the dpo and kto stages")
        self._check_stage_rules()
        if self.eval_dataset and self.val_size > 0:
            raise _rule("err.train.eval_both")
        if self.warmup_steps and self.warmup_ratio:
            raise _rule("err.train.warmup_both")
        if self.neat_packing and self.stage != "sft":
            raise _rule("err.train.neat_packing_stage")
        if self.use_unsloth and self.deepspeed in ZERO3:
            raise _rule("err.train.unsloth_zero3")
        self._check_memory_optimizers()
        return self

    def _check_stage_rules(self) -> None:
        """LLaMA-Factory's rules for PPO's reward model and DPO's label smoothing, refused before anything runs."""
        if self.stage == "ppo" and not self.reward_model:
            raise _rule("err.stage.ppo_reward_model")
        if self.stage == "ppo" and self.reward_model_type == "lora" and self.finetuning_type != "lora":
            raise _rule("err.stage.ppo_reward_lora")
        if (self.reward_model or self.reward_model_adapters) and self.stage != "ppo":
            raise _rule("err.stage.reward_model_stage")
        if self.stage == "dpo" and self.dpo_label_smoothing > 0 and self.pref_loss != "sigmoid":
            raise _rule("err.stage.label_smoothing_loss")

    def _check_memory_optimizers(self) -> None:
        """LLaMA-Factory's own rules for GaLore, APOLLO and BAdam, refused here before anything runs."""
        chosen = [name for name in ("use_galore", "use_apollo", "use_badam") if getattr(self, name)]
        if not chosen:
            return
        if len(chosen) > 1:
            raise _rule("err.train.optimizers_together")
        if self.finetuning_type == "lora":
            raise _rule("err.train.optimizer_lora")
        if (self.use_galore or self.use_apollo) and self.deepspeed != "none":
            raise _rule("err.train.optimizer_deepspeed")
        layerwise = (self.use_galore and self.galore_layerwise) or (self.use_apollo and self.apollo_layerwise)
        if layerwise and self.gradient_accumulation_steps != 1:
            raise _rule("err.train.layerwise_accumulation")
        # DeepSpeed means distributed: LF then allows only layer-wise BAdam, and only under ZeRO-3.
        if self.use_badam and self.deepspeed != "none" and (self.badam_mode == "ratio" or self.deepspeed not in ZERO3):
            raise _rule("err.train.badam_deepspeed")

    @property
    def memory_optimizer(self) -> str | None:
        """'galore', 'apollo', 'badam' or None."""
        return next((name for name in ("galore", "apollo", "badam") if getattr(self, f"use_{name}")), None)

    @property
    def effective_lora_alpha(self) -> int:
        """LoRA alpha, defaulting to twice the rank as LLaMA-Factory does."""
        return self.lora_alpha or self.lora_rank * 2

    @property
    def eval_datasets(self) -> list[str]:
        """The registered datasets evaluated during training (empty: none, or a val_size split)."""
        return self.eval_dataset.split(",") if self.eval_dataset else []

    @property
    def is_preference(self) -> bool:
        """True for stages that train on chosen/rejected pairs."""
        return self.stage in ("rm", "dpo")

    @property
    def uses_ref_model(self) -> bool:
        """True when LLaMA-Factory loads a reference model (DPO but ORPO/SimPO, KTO); LoRA's frozen base serves."""
        return self.stage == "kto" or (self.stage == "dpo" and self.pref_loss not in REF_FREE_LOSSES)


def field_names() -> list[str]:
    """The keys a user may set (for --set and the forms)."""
    return list(TrainConfig.model_fields)
