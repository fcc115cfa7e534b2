"""GPU memory estimate for a training config, and the ZeRO stage and batch size that fit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GB = 1024**3
# Reference shapes (hidden, layers, intermediate, kv width, vocab) of common sizes, for hub ids we cannot read.
_SHAPES = (
    (0.5, 896, 24, 4864, 128, 151936),
    (1.5, 1536, 28, 8960, 256, 151936),
    (3.0, 2048, 36, 11008, 256, 151936),
    (7.0, 4096, 32, 11008, 4096, 32000),
    (14.0, 5120, 40, 13824, 5120, 32000),
    (32.0, 5120, 64, 27648, 1024, 152064),
    (70.0, 8192, 80, 28672, 1024, 128256),
)
# Bytes kept per trainable parameter besides its weight: 16-bit gradient, fp32 master copy, Adam m and v.
_GRAD_BYTES, _OPTIM_BYTES = 2, 12
_CUDA_CONTEXT_GB = 1.5
_FRAGMENTATION = 0.08
ZERO_CHOICES = ("none", "z2", "z3", "z2_offload", "z3_offload")


@dataclass(frozen=True)
class Shape:
    """What the estimate needs to know about a model."""

    params_b: float
    hidden: int
    layers: int
    intermediate: int
    kv_width: int
    vocab: int


@dataclass(frozen=True)
class PlanInput:
    """A config as the planner sees it."""

    shape: Shape
    finetuning_type: str = "lora"
    quantization_bit: int | None = None
    batch_size: int = 1
    cutoff_len: int = 1024
    lora_rank: int = 8
    freeze_layers: int = 2
    precision_bytes: int = 2
    gpus: int = 1
    deepspeed: str = "none"


@dataclass(frozen=True)
class Estimate:
    """Per-GPU memory in GB, split by what holds it."""

    weights: float
    trainable_states: float
    activations: float
    overhead: float

    @property
    def total(self) -> float:
        return self.weights + self.trainable_states + self.activations + self.overhead


@dataclass(frozen=True)
class Plan:
    """The estimate for the config as given, plus what to change if it does not fit."""

    estimate: Estimate
    fits: bool
    recommended_deepspeed: str
    recommended_batch_size: int
    recommended_accumulation: int


def shape_for_size(params_b: float) -> Shape:
    """Nearest reference shape, scaled to the asked size."""
    ref = min(_SHAPES, key=lambda row: abs(row[0] - params_b))
    return Shape(params_b, *ref[1:])


def shape_from_config(model_dir: Path) -> Shape | None:
    """Exact shape from a local config.json, or None."""
    path = Path(model_dir) / "config.json"
    if not path.exists():
        return None
    cfg = json.loads(path.read_text(encoding="utf-8"))
    cfg = cfg.get("text_config", cfg)
    hidden, layers = cfg.get("hidden_size"), cfg.get("num_hidden_layers")
    if not hidden or not layers:
        return None
    inter = cfg.get("intermediate_size", 4 * hidden)
    heads = cfg.get("num_attention_heads", 1)
    kv = hidden // heads * cfg.get("num_key_value_heads", heads)
    vocab = cfg.get("vocab_size", 32000)
    per_layer = 2 * hidden * hidden + 2 * hidden * kv + 3 * hidden * inter
    embed = vocab * hidden * (1 if cfg.get("tie_word_embeddings") else 2)
    return Shape((per_layer * layers + embed) / 1e9, hidden, layers, inter, kv, vocab)


def _trainable_params(inp: PlanInput) -> float:
    s = inp.shape
    total = s.params_b * 1e9
    if inp.finetuning_type == "full":
        return total
    if inp.finetuning_type == "freeze":
        return total * min(abs(inp.freeze_layers), s.layers) / s.layers
    # LoRA on every linear layer: rank × (in + out) per projection.
    per_layer = inp.lora_rank * (6 * s.hidden + 2 * s.kv_width + 3 * s.intermediate + 3 * s.hidden)
    return per_layer * s.layers


def estimate(inp: PlanInput) -> Estimate:
    """Memory per GPU for one training step with gradient checkpointing on."""
    s = inp.shape
    params = s.params_b * 1e9
    weight_bytes = {4: 0.55, 8: 1.05}.get(inp.quantization_bit or 0, inp.precision_bytes)
    trainable = _trainable_params(inp)
    weights = params * weight_bytes
    if inp.finetuning_type != "full":
        weights += trainable * inp.precision_bytes  # adapter or unfrozen copy in training precision
    grads, optim = trainable * _GRAD_BYTES, trainable * _OPTIM_BYTES
    n = max(1, inp.gpus)
    if inp.deepspeed.startswith("z2") or inp.deepspeed.startswith("z3"):
        grads, optim = grads / n, optim / n
    if inp.deepspeed.startswith("z3"):
        weights /= n
    if inp.deepspeed.endswith("offload"):
        optim = 0.0
        if inp.deepspeed.startswith("z3"):
            weights *= 0.1  # parameters stream in from CPU a layer at a time
    tokens = inp.batch_size * inp.cutoff_len
    activations = tokens * s.hidden * 2 * (s.layers + 16) + tokens * s.vocab * 4 * 2
    static = weights + grads + optim
    return Estimate(
        weights=weights / GB,
        trainable_states=(grads + optim) / GB,
        activations=activations / GB,
        overhead=_CUDA_CONTEXT_GB + _FRAGMENTATION * static / GB,
    )


def plan(inp: PlanInput, gpu_memory_gb: float) -> Plan:
    """Estimate, then find the lightest ZeRO stage and the largest batch that fit in 90% of a GPU."""
    budget = gpu_memory_gb * 0.9
    current = estimate(inp)
    candidates = ZERO_CHOICES if inp.gpus > 1 else ("none", "z2_offload", "z3_offload")
    zero = next((mode for mode in candidates if estimate(_with(inp, deepspeed=mode, batch_size=1)).total <= budget),
                candidates[-1])
    batch = 1
    for size in (2, 4, 8, 16, 32, 64):
        if estimate(_with(inp, deepspeed=zero, batch_size=size)).total > budget:
            break
        batch = size
    effective = max(1, inp.batch_size) * 8
    return Plan(current, current.total <= budget, zero, batch, max(1, effective // batch))


def _with(inp: PlanInput, **changes) -> PlanInput:
    return PlanInput(**{**inp.__dict__, **changes})
