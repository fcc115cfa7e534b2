"""Typed training configurations for the three stages the studio offers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..i18n import t

Stage = Literal["pt", "sft", "dpo"]
FinetuningType = Literal["lora", "full", "freeze"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
DeepSpeedMode = Literal["none", "z2", "z2_offload", "z3", "z3_offload"]
PrefLoss = Literal["sigmoid", "ipo", "hinge", "orpo", "simpo"]
ReportTo = Literal["none", "tensorboard", "wandb", "mlflow", "swanlab"]
Scheduler = Literal["cosine", "linear", "constant", "constant_with_warmup", "polynomial", "cosine_with_restarts",
                    "inverse_sqrt"]
RopeScaling = Literal["none", "linear", "dynamic", "yarn", "llama3"]
FlashAttn = Literal["auto", "disabled", "sdpa", "fa2"]
GaloreProjType = Literal["std", "reverse_std", "right", "left", "full"]
BadamMode = Literal["layer", "ratio"]
BadamSwitchMode = Literal["ascending", "descending", "random", "fixed"]
_TARGETS = r"^[A-Za-z0-9_.,\s*]+$"

STAGES: tuple[str, ...] = ("pt", "sft", "dpo")
FINETUNING_TYPES: tuple[str, ...] = ("lora", "full", "freeze")
PREF_LOSSES: tuple[str, ...] = ("sigmoid", "ipo", "hinge", "orpo", "simpo")
DEEPSPEED_MODES: tuple[str, ...] = ("none", "z2", "z2_offload", "z3", "z3_offload")
PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp16", "fp32")
REPORT_TO: tuple[str, ...] = ("none", "tensorboard", "wandb", "mlflow", "swanlab")
SCHEDULERS: tuple[str, ...] = Scheduler.__args__
ROPE_SCALINGS: tuple[str, ...] = RopeScaling.__args__
FLASH_ATTN: tuple[str, ...] = FlashAttn.__args__
GALORE_PROJ_TYPES: tuple[str, ...] = GaloreProjType.__args__
BADAM_MODES: tuple[str, ...] = BadamMode.__args__
BADAM_SWITCH_MODES: tuple[str, ...] = BadamSwitchMode.__args__
ZERO3 = ("z3", "z3_offload")


def _rule(key: str) -> PydanticCustomError:
    """A cross-field refusal that names its i18n key, so the service can answer in the user's language."""
    return PydanticCustomError("llmops_rule", t(key, "en"), {"rule": key})


class TrainConfig(BaseModel):
    """One training run as the user describes it; rendered to LLaMA-Factory YAML by llmops.lf.render."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    stage: Stage
    model: str = Field(min_length=1, max_length=1000)
    # Continue training an existing LoRA adapter (a previous version), and compare against it as DPO reference.
    adapter_name_or_path: str | None = Field(None, max_length=1000)
    ref_model: str | None = Field(None, max_length=1000)
    ref_model_adapters: str | None = Field(None, max_length=1000)
    template: str = Field(min_length=1, max_length=64)
    datasets: list[str] = Field(min_length=1, max_length=32)
    finetuning_type: FinetuningType = "lora"
    quantization_bit: Literal[4, 8] | None = None
    lora_rank: int = Field(8, ge=1, le=1024)
    lora_alpha: int | None = Field(None, ge=1, le=4096)
    lora_dropout: float = Field(0.0, ge=0.0, le=0.9)
    lora_target: str = Field("all", min_length=1, max_length=500, pattern=r"^[A-Za-z0-9_.,\s*]+$")
    freeze_trainable_layers: int = Field(2, ge=-512, le=512)
    learning_rate: float = Field(1e-4, gt=0.0, le=1.0)
    num_train_epochs: float = Field(3.0, gt=0.0, le=1000.0)
    max_steps: int | None = Field(None, ge=1, le=10_000_000)
    per_device_train_batch_size: int = Field(1, ge=1, le=4096)
    gradient_accumulation_steps: int = Field(8, ge=1, le=4096)
    cutoff_len: int = Field(1024, ge=8, le=1_048_576)
    max_samples: int | None = Field(None, ge=1, le=1_000_000_000)
    val_size: float = Field(0.0, ge=0.0, lt=1.0)
    eval_steps: int = Field(100, ge=1, le=10_000_000)
    save_steps: int = Field(500, ge=1, le=10_000_000)
    logging_steps: int = Field(10, ge=1, le=10_000_000)
    warmup_ratio: float = Field(0.1, ge=0.0, lt=1.0)
    warmup_steps: int = Field(0, ge=0, le=10_000_000)
    lr_scheduler_type: Scheduler = "cosine"
    max_grad_norm: float = Field(1.0, gt=0.0, le=10_000.0)
    # Continue an interrupted run of the same output folder (optimizer, scheduler and step restored).
    resume_from_checkpoint: str | None = Field(None, max_length=1000)
    packing: bool = False
    neat_packing: bool = False
    neftune_noise_alpha: float = Field(0.0, ge=0.0, le=100.0)
    rope_scaling: RopeScaling = "none"
    flash_attn: FlashAttn = "auto"
    enable_liger_kernel: bool = False
    use_unsloth: bool = False
    # Memory-saving optimizers (LLaMA-Factory FinetuningArguments; full or freeze tuning only).
    use_galore: bool = False
    galore_target: str = Field("all", min_length=1, max_length=500, pattern=_TARGETS)
    galore_rank: int = Field(16, ge=1, le=4096)
    galore_update_interval: int = Field(200, ge=1, le=1_000_000)
    galore_scale: float = Field(2.0, gt=0.0, le=1000.0)
    galore_proj_type: GaloreProjType = "std"
    galore_layerwise: bool = False
    use_apollo: bool = False
    apollo_target: str = Field("all", min_length=1, max_length=500, pattern=_TARGETS)
    apollo_rank: int = Field(16, ge=1, le=4096)
    apollo_update_interval: int = Field(200, ge=1, le=1_000_000)
    apollo_scale: float = Field(32.0, gt=0.0, le=1000.0)
    apollo_layerwise: bool = False
    use_badam: bool = False
    badam_mode: BadamMode = "layer"
    badam_switch_mode: BadamSwitchMode = "ascending"
    badam_switch_interval: int = Field(50, ge=-1, le=1_000_000)
    badam_update_ratio: float = Field(0.05, gt=0.0, le=1.0)
    pref_beta: float = Field(0.1, gt=0.0, le=100.0)
    pref_loss: PrefLoss = "sigmoid"
    precision: Precision = "auto"
    deepspeed: DeepSpeedMode = "none"
    report_to: ReportTo = "none"
    run_name: str | None = Field(None, max_length=100)
    seed: int = Field(42, ge=0, le=2**31 - 1)

    @field_validator("datasets")
    @classmethod
    def _distinct_datasets(cls, value: list[str]) -> list[str]:
        cleaned = [name.strip() for name in value if name.strip()]
        if not cleaned:
            raise ValueError("at least one dataset is required")
        return list(dict.fromkeys(cleaned))

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
        if (self.ref_model or self.ref_model_adapters) and self.stage != "dpo":
            raise ValueError("a reference model is only used by the dpo stage")
        if self.warmup_steps and self.warmup_ratio:
            raise _rule("err.train.warmup_both")
        if self.neat_packing and self.stage != "sft":
            raise _rule("err.train.neat_packing_stage")
        if self.use_unsloth and self.deepspeed in ZERO3:
            raise _rule("err.train.unsloth_zero3")
        self._check_memory_optimizers()
        return self

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
    def is_preference(self) -> bool:
        """True for stages that train on chosen/rejected pairs."""
        return self.stage == "dpo"


def field_names() -> list[str]:
    """The keys a user may set (for --set and the forms)."""
    return list(TrainConfig.model_fields)
