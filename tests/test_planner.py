"""The compute planner against LLaMA-Factory's published memory table (within 25%)."""

from __future__ import annotations

import pytest

from llmops.services import planner

# LLaMA-Factory README: hardware requirement (GB) by method and size.
TABLE = {("full", None): (120, 240, 1200), ("lora", None): (16, 32, 160), ("lora", 8): (10, 20, 80),
         ("lora", 4): (6, 12, 48)}


@pytest.mark.parametrize("method, bits", list(TABLE))
def test_estimates_within_25_percent_of_published_table(method, bits):
    for size, published in zip((7, 14, 70), TABLE[(method, bits)], strict=True):
        inp = planner.PlanInput(planner.shape_for_size(size), finetuning_type=method, quantization_bit=bits)
        total = planner.estimate(inp).total
        assert abs(total - published) / published <= 0.25, (method, bits, size, total, published)


def test_recommendations_scale_with_hardware():
    shape = planner.shape_for_size(70)
    full = planner.PlanInput(shape, finetuning_type="full", gpus=8)
    plan = planner.plan(full, 80)
    assert not plan.fits and plan.recommended_deepspeed in ("z3", "z3_offload")
    small = planner.plan(planner.PlanInput(planner.shape_for_size(7), quantization_bit=4), 80)
    assert small.fits and small.recommended_deepspeed == "none" and small.recommended_batch_size >= 8


def test_shape_from_local_config(demo_model_dir):
    shape = planner.shape_from_config(demo_model_dir)
    assert shape.hidden == 64 and shape.layers == 2 and 0 < shape.params_b < 0.001
