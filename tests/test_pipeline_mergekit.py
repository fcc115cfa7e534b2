"""The mergekit pipeline stage: refused before anything runs (in both languages), then a real 2-model linear merge
whose registered version, recipe and lineage a later stage and the lineage view read."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from llmops.errors import LLMOpsError
from llmops.services.container import build_services
from llmops.services.lineage.service import LineageService

from .test_pipelines import _drive, _pipeline

KEY = "model.layers.0.mlp.up_proj.weight"


@pytest.fixture(scope="module")
def other_model(perturbed_model) -> Path:
    return perturbed_model


def _refused(services, text: str, reason: str, chinese: str) -> LLMOpsError:
    with pytest.raises(LLMOpsError) as caught:
        services.pipelines.validate(text, "p.yaml")
    error = caught.value
    assert error.key == "err.pl_stage_config" and error.params["reason"].key == reason, error.message("en")
    assert "Stage soup (mergekit)" in error.message("en") and "阶段 soup（mergekit）" in error.message("zh")
    assert chinese in error.message("zh")
    return error


def test_a_mergekit_stage_is_checked_then_merges_and_registers_its_lineage(settings, demo_model_dir, other_model):
    services = build_services(settings)
    a = services.models.add_base("a", str(demo_model_dir), template="chatml").id
    b = services.models.add_base("b", str(other_model), template="chatml").id
    soup = {"id": "soup", "kind": "mergekit", "params": {
        "method": "linear", "models": [{"model": a, "parameters": {"weight": 0.25}},
                                       {"model": b, "parameters": {"weight": 0.75}}],
        "parameters": {"normalize": False}, "dtype": "float32", "name": "soup"}}
    use = {"id": "use", "kind": "promote", "params": {"model": "${stages.soup.outputs.model}"}}
    # Refusals, each before anything is recorded or queued; with the inputs still to be made by an earlier stage
    # (a promote of `a` stands in) the method, the input count and the parameters are checked all the same.
    waiting = {"id": "first", "kind": "promote", "params": {"model": a}}
    later = "${stages.first.outputs.model}"
    error = _refused(services, _pipeline({**soup, "params": {**soup["params"], "method": "souping"}}),
                     "err.sgm_method_unknown", "未知的合并方法 souping")
    assert "ties" in error.message("en")
    _refused(services, _pipeline(waiting, {**soup, "params": {"method": "linear", "models": [later]}}),
             "err.sgm_model_count", "2 到 8")
    _refused(services, _pipeline(waiting, {**soup, "params": {"method": "slerp", "models": [later, b], "base": a,
                                                              "parameters": {"t": 0.5}}}),
             "err.sgm_input_count", "恰好 2 个")
    error = _refused(services, _pipeline(waiting, {**soup, "params": {"method": "linear", "models": [later, b],
                                                                      "parameters": {"lambda": 2}}}),
                     "err.sgm_param_unknown", "没有参数 lambda")
    assert "linear has no parameter lambda" in error.message("en")
    _refused(services, _pipeline({**soup, "params": {**soup["params"], "parameters": {"normalize": False},
                                                     "models": [{"model": a, "parameters": {"weight": 0.5}},
                                                                {"model": b, "parameters": {"weight": 0.2}}]}}),
             "err.sgm_weight_sum", "权重之和")
    with pytest.raises(LLMOpsError) as caught:
        services.pipelines.validate(_pipeline({**soup, "params": {**soup["params"], "weights": [1, 2]}}), "p.yaml")
    assert caught.value.key == "err.pl_invalid" and "weights" in caught.value.message("zh")
    with pytest.raises(LLMOpsError) as caught:
        services.pipelines.validate(_pipeline(soup, {**use, "params": {"model": "${stages.soup.outputs.nope}"}}),
                                    "p.yaml")
    assert caught.value.key == "err.pl_unknown_output" and "model, path, recipe, job" in caught.value.message("en")
    assert not services.pipelines.list() and not services.runner.list()
    assert not (settings.models_dir / "soup").exists()
    # The preview is the recipe that will run; then the run itself.
    _, previews = services.pipelines.validate(_pipeline(soup, use), "p.yaml")
    recipe = previews[0].config["recipe"]
    assert recipe["merge_method"] == "linear" and [m["parameters"]["weight"] for m in recipe["models"]] == [0.25, 0.75]
    assert previews[0].config["path"] == str(settings.models_dir / "soup")
    state = _drive(services, services.pipelines.start(_pipeline(soup, use), "p.yaml").run_id, timeout_s=120)
    assert state.status == "completed", {sid: services.pipelines.reason(s) for sid, s in state.stages.items()}
    out = state.stages["soup"].outputs
    entry = services.models.get(out["model"])
    assert state.stages["use"].outputs["model"] == entry.id == services.models.default().id
    assert entry.kind == "merged" and Path(out["path"]) == settings.models_dir / "soup"
    assert entry.lineage["operation"] == "mergekit" and entry.lineage["method"] == "linear"
    assert entry.lineage["inputs"] == [a, b] and entry.lineage["parent_id"] == a
    assert entry.lineage["job_id"] == out["job"] == state.stages["soup"].job_id
    assert entry.lineage["pipeline"].startswith(state.run_id) and entry.lineage["recipe"] == out["recipe"]
    kept = yaml.safe_load(Path(out["recipe"]).read_text(encoding="utf-8"))
    assert kept["mergekit"] == recipe and kept["inputs"] == [a, b]
    merged, left, right = (load_file(str(p / "model.safetensors"))[KEY] for p in (Path(out["path"]), demo_model_dir,
                                                                                    other_model))
    torch.testing.assert_close(merged, 0.25 * left + 0.75 * right, rtol=1e-5, atol=1e-6)
    ancestors = {node.id: node for node in LineageService(settings).ancestors(entry.id)}
    assert {a, b, out["job"], f"recipe:{entry.id}"} <= set(ancestors)
    assert ancestors[f"recipe:{entry.id}"].details["method"] == "linear"
    # Run again under the same name: refused before anything runs, naming the folder.
    with pytest.raises(LLMOpsError) as caught:
        services.pipelines.start(_pipeline(soup), "p.yaml")
    assert caught.value.params["reason"].key == "err.sg_output_exists" and len(services.runner.list()) == 1
