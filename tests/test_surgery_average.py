"""SWA and EMA over a run's checkpoints: LoRA updates averaged exactly (merged, or one rank k*r adapter), never
their factors; full weights averaged tensor by tensor; EMA follows step order and its decay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from llmops.cli.main import main
from llmops.services.models import ModelRegistry
from llmops.services.surgery.averaging import (
    average_weights,
    register_average,
    run_average,
)
from llmops.services.surgery.checkpoints import register_checkpoint
from llmops.services.surgery.outputs import RECIPE_FILE
from tests.surgeryruns import STEPS, copy_run

TOL = 1e-6


@pytest.fixture
def lora_run(lora_run_with_eval):
    """The session's LoRA run with eval (tests/conftest.py)."""
    return lora_run_with_eval


@pytest.fixture
def run(lora_run, settings, demo_model_dir) -> Path:
    ModelRegistry(settings).add_base("demo", str(demo_model_dir))
    return copy_run(lora_run[2], settings)


def _factors(folder: Path) -> dict[str, tuple[float, torch.Tensor, torch.Tensor]]:
    """Per target weight: (scaling, B, A) read straight from the adapter file."""
    config = json.loads((folder / "adapter_config.json").read_text())
    scaling = config["lora_alpha"] / config["r"]
    tensors = load_file(str(folder / "adapter_model.safetensors"))
    out = {}
    for key, a in tensors.items():
        if ".lora_A." in key:
            module = key.split(".lora_A.")[0].removeprefix("base_model.model.")
            out[f"{module}.weight"] = (scaling, tensors[key.replace(".lora_A.", ".lora_B.")].double(), a.double())
    return out


def _deltas(folder: Path) -> dict[str, torch.Tensor]:
    return {key: s * b @ a for key, (s, b, a) in _factors(folder).items()}


def _mean(items: list[torch.Tensor], weights: list[float]) -> torch.Tensor:
    return sum(w * x for w, x in zip(weights, items))


def test_lora_swa_averages_the_updates_exactly_and_factor_averaging_would_not(run, settings, demo_model_dir):
    folders = [run / f"checkpoint-{s}" for s in STEPS]
    result = run_average(settings, str(run), [str(s) for s in STEPS])
    merged = load_file(str(Path(result["path"]) / "model.safetensors"))
    base = load_file(str(demo_model_dir / "model.safetensors"))
    per_checkpoint = [_deltas(f) for f in folders]
    factors = [_factors(f) for f in folders]
    assert per_checkpoint[0].keys() and per_checkpoint[0].keys() <= merged.keys()
    worst_exact, worst_factor = 0.0, 0.0
    for key in per_checkpoint[0]:
        mean_delta = _mean([d[key] for d in per_checkpoint], [1 / 3] * 3)
        got = merged[key].double() - base[key].double()
        assert torch.allclose(got, mean_delta, atol=TOL, rtol=0), key
        scaling = factors[0][key][0]
        factor_avg = scaling * _mean([f[key][1] for f in factors], [1 / 3] * 3) @ _mean([f[key][2] for f in factors],
                                                                                      [1 / 3] * 3)
        worst_exact = max(worst_exact, float((got - mean_delta).abs().max()))
        worst_factor = max(worst_factor, float((factor_avg - mean_delta).abs().max()))
    assert worst_factor > 100 * max(worst_exact, TOL / 10), (worst_factor, worst_exact)
    print(f'largest error: exact {worst_exact:.2e}, factor-averaged {worst_factor:.2e}')
    untouched = [k for k in base if k not in per_checkpoint[0]]
    # Weights no adapter targets come back as they were, up to the fp32 rounding of summing thirds.
    assert untouched and all(torch.allclose(merged[k], base[k], atol=1e-7, rtol=1e-6) for k in untouched)
    entry = register_average(settings, result)
    assert entry.kind == "merged" and entry.lineage["weights"] == [1 / 3] * 3
    assert entry.lineage["checkpoints"] == [f.name for f in folders] and entry.lineage["method"] == "swa"
    assert register_average(settings, result).id == entry.id


def test_lora_cat_gives_one_adapter_whose_update_is_the_mean(run, settings):
    folders = [run / f"checkpoint-{s}" for s in STEPS]
    result = run_average(settings, str(run), [str(s) for s in STEPS], lora="cat", name="demo-cat")
    out = Path(result["path"])
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["r"] == 3 * json.loads((folders[0] / "adapter_config.json").read_text())["r"]
    got, per_checkpoint = _deltas(out), [_deltas(f) for f in folders]
    assert got.keys() == per_checkpoint[0].keys()
    for key, delta in got.items():
        assert torch.allclose(delta, _mean([d[key] for d in per_checkpoint], [1 / 3] * 3), atol=TOL, rtol=0), key
    entry = register_average(settings, result)
    assert entry.kind == "adapter" and Path(entry.adapter) == out.resolve() and entry.parent_id == "demo@v1.0"
    assert (out / RECIPE_FILE).is_file()


def test_the_average_command_runs_a_job_and_registers_the_ema(run, settings, capsys):
    code = main(["surgery", "average", str(run), "--checkpoints", "6,2,4", "--ema", "0.5", "--name", "demo-ema",
                 "--wait", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    entry = ModelRegistry(settings).get(data["model_id"])
    assert Path(data["path"]).is_dir() and entry.path == str(Path(data["path"]).resolve())
    assert entry.lineage["checkpoints"] == [f"checkpoint-{s}" for s in STEPS]  # in step order, whatever was typed
    assert entry.lineage["weights"] == [0.25, 0.25, 0.5] and entry.lineage["decay"] == 0.5
    assert not list(settings.models_dir.glob(".partial-*"))


@pytest.fixture
def full_run(settings, demo_model_dir) -> Path:
    """Three full-weight checkpoints: the demo model perturbed with seeded noise, as a trainer would save them."""
    run = settings.checkpoints_dir / "full-run"
    weights = load_file(str(demo_model_dir / "model.safetensors"))
    for step in (1, 2, 3):
        folder = run / f"checkpoint-{step}"
        shutil.copytree(demo_model_dir, folder, ignore=shutil.ignore_patterns("*.safetensors"))
        generator = torch.Generator().manual_seed(step)
        save_file({k: (v + 0.01 * torch.randn(v.shape, generator=generator)).contiguous() for k, v in weights.items()},
                  str(folder / "model.safetensors"), metadata={"format": "pt"})
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return run


def _full(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def test_full_weight_swa_is_the_mean_and_loads(full_run, settings):
    inputs = [_full(full_run / f"checkpoint-{s}") for s in (1, 2, 3)]
    result = run_average(settings, str(full_run), ["1", "2", "3"], name="full-swa")
    got = _full(Path(result["path"]))
    for key in inputs[0]:
        expected = (inputs[0][key] + inputs[1][key] + inputs[2][key]) / 3
        assert torch.allclose(got[key], expected, atol=1e-7, rtol=1e-6), key
        assert not torch.equal(got[key], inputs[0][key])
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(result["path"]).num_parameters() > 0
    assert not (Path(result["path"]) / "trainer_state.json").exists()
    entry = register_average(settings, result)
    assert entry.kind == "merged" and entry.lineage["inputs"] == [str(full_run / f"checkpoint-{s}") for s in (1, 2, 3)]
    picked = register_checkpoint(settings, str(full_run), "checkpoint-2", as_name="full-pick")
    assert picked.kind == "merged" and picked.lineage["step"] == 2 and Path(picked.path).name == "checkpoint-2"


def test_ema_follows_step_order_and_decay(full_run, settings):
    decay = 0.3
    inputs = [_full(full_run / f"checkpoint-{s}") for s in (1, 2, 3)]
    result = run_average(settings, str(full_run), ["3", "1", "2"], ema=decay, name="full-ema")
    got = _full(Path(result["path"]))
    for key in inputs[0]:
        state = inputs[0][key].clone()
        for following in inputs[1:]:
            state = decay * state + (1 - decay) * following[key]  # state <- d*state + (1-d)*next
        backwards = inputs[2][key].clone()
        for following in inputs[1::-1]:
            backwards = decay * backwards + (1 - decay) * following[key]
        assert torch.allclose(got[key], state, atol=1e-7, rtol=1e-6), key
        assert not torch.allclose(got[key], backwards, atol=1e-5)  # the order matters, and it is by step
    assert average_weights(3, decay) == pytest.approx([decay**2, (1 - decay) * decay, 1 - decay])
    assert sum(average_weights(5, 0.9)) == pytest.approx(1.0)
