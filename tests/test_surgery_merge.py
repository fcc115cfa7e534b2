"""mergekit merges: the method registry is mergekit's own, merges are the arithmetic they claim, refusals come before
anything runs (in both languages), and a merge job's output is registered with its lineage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from llmops.cli.main import main
from llmops.errors import ConflictError, LLMOpsError, NotFoundError
from llmops.services.jobkinds.worker import Interrupted
from llmops.services.models import ModelRegistry
from llmops.services.surgery import methods as registry
from llmops.services.surgery.merge import MergeJobParams, plan_merge, run_merge_job
from llmops.services.surgery.outputs import RECIPE_FILE

TOKENIZER = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def _save(model, like: Path, out: Path) -> Path:
    model.save_pretrained(out)
    for name in TOKENIZER:
        if (like / name).is_file():
            shutil.copy(like / name, out / name)
    return out


@pytest.fixture(scope="module")
def models(demo_model_dir, tmp_path_factory) -> dict[str, Path]:
    """The demo model, a seeded perturbed copy of it, and one of another hidden size."""
    from transformers import AutoConfig, AutoModelForCausalLM

    root = tmp_path_factory.mktemp("merge_inputs")
    other = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for param in other.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.05)
    config = AutoConfig.from_pretrained(demo_model_dir)
    config.hidden_size, config.intermediate_size = 32, 64
    torch.manual_seed(0)
    narrow = AutoModelForCausalLM.from_config(config)
    return {"a": demo_model_dir, "b": _save(other, demo_model_dir, root / "b"),
            "narrow": _save(narrow, demo_model_dir, root / "narrow")}


@pytest.fixture
def ids(settings, models) -> dict[str, str]:
    registry_ = ModelRegistry(settings)
    return {name: registry_.add_base(name, str(path)).id for name, path in models.items()}


def _merge(plan) -> Path:
    """The job's body, run here: the math is mergekit's, the commit ours."""
    result = run_merge_job(MergeJobParams(**plan.job_params()), lambda *a, **k: None)
    return Path(result["path"])


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def test_the_method_registry_is_mergekits_own():
    from mergekit.merge_methods import registered_methods

    theirs = {m.spec.name: m.spec for m in registered_methods()}
    assert registry.names() == list(theirs)
    for info in registry.methods():
        spec = theirs[info.name]
        assert [(p.name, p.scope, p.required) for p in info.params] == \
            [(p.name, p.scope.value, p.required) for p in spec.parameters]
        assert (info.base, info.min_inputs, info.max_inputs) == (spec.contract.base.value, spec.contract.min_inputs,
                                                               spec.contract.max_inputs)
    for wanted in ("linear", "slerp", "task_arithmetic", "ties", "dare_linear", "dare_ties", "della", "breadcrumbs",
                   "model_stock", "nuslerp"):
        described = registry.get_method(wanted).describe("zh")
        assert described["help"] and described["help"] != registry.get_method(wanted).help("en")
    slerp = registry.get_method("slerp").describe("en")
    assert slerp["base"] == "required" and slerp["params"][0] == {**slerp["params"][0], "name": "t", "required": True}
    unknown = registry.MergeMethodInfo("future", "Future Merge", "https://example.org", "optional", 1, None, None,
                                       None, ())
    assert "Future Merge" in unknown.help("en") and "Future Merge" in unknown.help("zh")
    with pytest.raises(NotFoundError) as caught:
        registry.get_method("nope")
    assert "ties" in caught.value.message("en") and "未知" in caught.value.message("zh")


def test_linear_is_the_weighted_average(settings, models, ids):
    plan = plan_merge(settings, "linear", [(ids["a"], {"weight": 0.3}), (ids["b"], {"weight": 0.7})],
                      params={"normalize": "false"}, name="lin")
    assert plan.command[:4] == ["mergekit-yaml", "config.yaml", str(plan.output.final), "--lazy-unpickle"]
    assert yaml.safe_load(plan.yaml) == plan.recipe and plan.disk_bytes > 0
    out = _merge(plan)
    a, b, merged = _weights(models["a"]), _weights(models["b"]), _weights(out)
    assert merged.keys() <= a.keys() and len(merged) >= len(a) - 1
    for key, tensor in merged.items():
        torch.testing.assert_close(tensor, 0.3 * a[key] + 0.7 * b[key], rtol=1e-5, atol=1e-6)
    assert not plan.output.partial.exists() and (out / RECIPE_FILE).is_file()


def test_slerp_ends_are_its_end_points(settings, models, ids):
    a, b = _weights(models["a"]), _weights(models["b"])
    for t, expected in ((0.0, a), (1.0, b)):
        out = _merge(plan_merge(settings, "slerp", [(ids["b"], {})], base=ids["a"], params={"t": t}, name=f"s{t}"))
        for key, tensor in _weights(out).items():
            torch.testing.assert_close(tensor, expected[key], rtol=1e-4, atol=1e-5)


def test_ties_and_dare_give_models_that_generate(settings, models, ids):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    for method in ("ties", "dare_ties"):
        plan = plan_merge(settings, method, [(ids["b"], {"weight": 1.0})], base=ids["a"],
                          params={"density": "0.5"}, name=f"m-{method}", seed=3)
        assert plan.recipe["models"][0]["parameters"] == {"weight": 1.0, "density": 0.5}
        out = _merge(plan)
        model = AutoModelForCausalLM.from_pretrained(out)
        tokenizer = AutoTokenizer.from_pretrained(out)
        ids_in = tokenizer("What does LoRA train?", return_tensors="pt")
        made = model.generate(**ids_in, max_new_tokens=4, do_sample=False)
        assert made.shape[1] == ids_in["input_ids"].shape[1] + 4
        delta = (_weights(out)["model.layers.0.mlp.up_proj.weight"] - _weights(models["a"])[
            "model.layers.0.mlp.up_proj.weight"])
        assert 0 < (delta != 0).float().mean() < 0.75  # density 0.5: about half of the task vector kept


def _refused(call, key: str, chinese: str) -> LLMOpsError:
    with pytest.raises(LLMOpsError) as caught:
        call()
    error = caught.value
    assert error.key == key, error.message("en")
    assert error.message("en") != error.message("zh") and chinese in error.message("zh")
    return error


def test_refusals_come_before_anything_runs(settings, models, ids):
    before = sorted(p.name for p in settings.models_dir.iterdir())
    two = [(ids["a"], {}), (ids["b"], {})]
    error = _refused(lambda: plan_merge(settings, "linear", [(ids["a"], {}), (ids["narrow"], {})]),
                     "err.sgm_shape_differs", "不同")
    assert error.params["key"] == "hidden_size" and "hidden_size" in error.message("en")
    other_arch = settings.home / "llama-ish"
    shutil.copytree(models["b"], other_arch)
    config = json.loads((other_arch / "config.json").read_text())
    (other_arch / "config.json").write_text(json.dumps({**config, "model_type": "llama"}))
    error = _refused(lambda: plan_merge(settings, "linear", [(ids["a"], {}), ("llama-ish", {})]),
                     "err.sgm_arch_differs", "架构")
    assert error.params["key"] == "model_type"
    _refused(lambda: plan_merge(settings, "slerp", [(ids["a"], {})], base=ids["a"], params={"t": 0.5}),
             "err.sgm_model_count", "2 到 8")
    _refused(lambda: plan_merge(settings, "slerp", [(ids["b"], {}), ("llama-ish", {})], base=ids["a"],
                                params={"t": 0.5}), "err.sgm_input_count", "恰好 2 个")
    _refused(lambda: plan_merge(settings, "slerp", two, params={"t": 0.5}), "err.sgm_base_required", "基座")
    _refused(lambda: plan_merge(settings, "slerp", [(ids["b"], {})], base=ids["a"]), "err.sgm_param_missing", "t")
    _refused(lambda: plan_merge(settings, "linear", two, base=ids["a"]), "err.sgm_base_forbidden", "不接受")
    _refused(lambda: plan_merge(settings, "slerp", [(ids["b"], {})], base=ids["a"], params={"t": 1.5}),
             "err.sgm_param_range", "超出范围")
    _refused(lambda: plan_merge(settings, "linear", [(ids["a"], {"weight": -0.5}), (ids["b"], {"weight": 1.5})]),
             "err.sgm_weight_negative", "不能为负")
    _refused(lambda: plan_merge(settings, "linear", [(ids["a"], {"weight": 0.5}), (ids["b"], {"weight": 0.2})],
                                params={"normalize": False}), "err.sgm_weight_sum", "权重之和")
    _refused(lambda: plan_merge(settings, "linear", [(ids["a"], {"weight": "half"}), (ids["b"], {"weight": 1})]),
             "err.sgm_param_type", "不是有效")
    _refused(lambda: plan_merge(settings, "linear", [(ids["a"], {"weight": 1.0}), (ids["b"], {})]),
             "err.sgm_weight_partial", "没有权重")
    _refused(lambda: plan_merge(settings, "linear", two, params={"lambda": 2}), "err.sgm_param_unknown", "没有参数")
    _refused(lambda: plan_merge(settings, "linear", [(ids["a"], {}), (str(models["b"]), {})]),
             "err.sgm_model_outside", "工作区")
    (settings.models_dir / "taken").mkdir()
    with pytest.raises(ConflictError) as caught:
        plan_merge(settings, "linear", two, name="taken")
    assert "已存在" in caught.value.message("zh")
    assert sorted(p.name for p in settings.models_dir.iterdir()) == sorted([*before, "taken"])


def test_a_stopped_merge_leaves_nothing(settings, ids):
    plan = plan_merge(settings, "linear", [(ids["a"], {}), (ids["b"], {})], name="stopped")
    assert [note.key for note in plan.notes] == ["sgm.equal_weights"]

    def stop_at_save(stage, done, total, force=False):
        if stage == "save":
            assert (plan.output.partial / "config.json").is_file()  # mergekit had written it
            raise Interrupted()

    with pytest.raises(Interrupted):
        run_merge_job(MergeJobParams(**plan.job_params()), stop_at_save)
    assert not plan.output.partial.exists() and not plan.output.final.exists()


def test_the_cli_merges_as_a_job_and_registers_the_lineage(settings, ids, capsys, monkeypatch):
    code = main(["surgery", "merge", "--method", "linear", "--model", f"{ids['a']}:0.5", "--model",
                 f"{ids['b']}:0.5", "--name", "avg", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert code == 0 and Path(shown["path"]) == settings.models_dir / "avg"
    entry = ModelRegistry(settings).get(shown["model_id"])
    assert entry.kind == "merged" and Path(entry.path) == Path(shown["path"]).resolve()
    assert entry.lineage["inputs"] == [ids["a"], ids["b"]] and entry.lineage["parent_id"] == ids["a"]
    assert entry.lineage["method"] == "linear" and entry.lineage["job_id"] == shown["job_id"]
    assert yaml.safe_load(Path(entry.lineage["recipe"]).read_text())["mergekit"]["merge_method"] == "linear"
    code = main(["surgery", "merge", "--method", "slerp", "--model", ids["b"], "--base", ids["a"], "--set", "t=0.25",
                 "--name", "sl", "--plan"])
    assert code == 0 and capsys.readouterr().out.splitlines()[-1] == str(settings.models_dir / "sl")
    assert main(["surgery", "merge", "--method", "slerp", "--model", ids["b"], "--base", ids["a"], "--set", "t=0.25",
                 "--name", "sl"]) == 0
    made = ModelRegistry(settings).get(capsys.readouterr().out.splitlines()[-1])  # the new version id, last
    assert made.lineage["base"] == ids["a"] and made.lineage["parameters"] == {"t": 0.25}
    monkeypatch.setenv("LLMOPS_LANG", "zh")
    assert main(["surgery", "merge", "--method", "slerp", "--model", ids["b"], "--name", "x"]) == 2
    assert "需要基座模型" in capsys.readouterr().err
    assert main(["surgery", "methods", "--json"]) == 0
    assert [m["name"] for m in json.loads(capsys.readouterr().out)] == registry.names()


def test_an_adapter_version_merges_as_base_plus_lora(settings, models, ids, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(models["a"]),
                                LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    expected = {k: v.detach().clone() for k, v in peft_model.merge_and_unload().state_dict().items()}
    adapter = ModelRegistry(settings).add_adapter("tuned", ids["a"], str(tmp_path / "adapter")).id
    plan = plan_merge(settings, "linear", [(adapter, {"weight": 0.5}), (ids["b"], {"weight": 0.5})], name="with-lora")
    assert plan.recipe["models"][0]["model"] == f"{models['a'].resolve()}+{(tmp_path / 'adapter').resolve()}"
    assert "--lora-merge-cache" in plan.command and [n.key for n in plan.notes] == ["sgm.adapter_note"]
    out = _merge(plan)
    b = _weights(models["b"])
    key = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.allclose(expected[key], _weights(models["a"])[key])  # the adapter changed it
    torch.testing.assert_close(_weights(out)[key], 0.5 * expected[key] + 0.5 * b[key], rtol=1e-5, atol=1e-6)
    assert not plan.lora_cache.exists()
    assert plan.lineage()["inputs"] == [adapter, ids["b"]] and plan.lineage()["parent_id"] == adapter
