"""Planner inputs from a training config: the model's shape, method, bits and batch."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InvalidInputError
from ..schemas.training import TrainConfig
from . import planner

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*[bB](?![a-zA-Z])")


def shape_for(model: str, params_b: float = 0.0) -> planner.Shape:
    """Exact shape from a local config.json, else from the size given or named in the model id ('7B')."""
    if params_b > 0:
        return planner.shape_for_size(params_b)
    local = planner.shape_from_config(Path(model).expanduser())
    if local is not None:
        return local
    match = _SIZE.search(model.split("/")[-1])
    if match:
        return planner.shape_for_size(float(match.group(1)))
    raise InvalidInputError("err.planner_size_unknown", model=model)


def plan_config(config: TrainConfig, gpus: int, gpu_memory_gb: float, params_b: float = 0.0) -> planner.Plan:
    """Memory estimate and advice for `config` on `gpus` GPUs of `gpu_memory_gb` each."""
    if gpus < 1 or gpu_memory_gb <= 0:
        raise InvalidInputError("err.planner_bad_gpus")
    precision_bytes = 4 if config.precision == "fp32" else 2
    inp = planner.PlanInput(
        shape=shape_for(config.model, params_b), finetuning_type=config.finetuning_type,
        quantization_bit=config.quantization_bit, batch_size=config.per_device_train_batch_size,
        cutoff_len=config.cutoff_len, lora_rank=config.lora_rank, freeze_layers=config.freeze_trainable_layers,
        precision_bytes=precision_bytes, gpus=gpus, deepspeed=config.deepspeed,
    )
    return planner.plan(inp, gpu_memory_gb)
