"""LoRA merge through `llamafactory-cli export`, dtype cast, GPTQ and GGUF: real runs on the tiny model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from llmops.cli.main import main
from llmops.errors import LLMOpsError
from llmops.runner import evidence
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.device import DeviceInfo
from llmops.services.models import ModelRegistry
from llmops.services.surgery import convert, export
from llmops.services.surgery.outputs import weights_bytes


@pytest.fixture
def versions(settings, demo_model_dir, trained_adapter):
    """The tiny base and its trained adapter, registered."""
    models = ModelRegistry(settings)
    base = models.add_base("tiny", str(demo_model_dir))
    adapter = models.add_adapter("tuned", base.id, str(trained_adapter))
    return base, adapter


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _logits(model, tokenizer, texts):
    import torch

    with torch.no_grad():
        return [model(**tokenizer(text, return_tensors="pt")).logits for text in texts]


def test_merged_model_equals_base_plus_adapter_and_is_registered(settings, versions, demo_model_dir, trained_adapter,
                                                                 capsys):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base, adapter = versions
    code, out, err = _cli(capsys, "surgery", "merge-lora", adapter.id, "--wait", "--json")
    assert code == 0, err
    data = json.loads(out)
    path = Path(data["path"])
    assert (path / "config.json").is_file() and (path / "recipe.yaml").is_file()
    assert not list(path.parent.glob(".partial-*"))
    saved = settings.home / data["config"]
    assert saved.parent == settings.generated_configs_dir and saved.name.startswith("export_config_")
    assert data["command"] == f"llamafactory-cli export {data['config']}"
    args = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert args["finetuning_type"] == "lora" and args["export_device"] == "cpu" and args["export_size"] == 2
    assert args["template"] == "chatml" and ".partial-" in args["export_dir"] and "infer_dtype" not in args

    entry = ModelRegistry(settings).get(data["model_id"])
    assert entry.kind == "merged" and Path(entry.path) == path.resolve()
    assert entry.lineage["parent_id"] == adapter.id and entry.lineage["inputs"] == [adapter.id, base.id]
    assert entry.lineage["operation"] == "merge_lora" and entry.lineage["recipe"].endswith("recipe.yaml")
    assert entry.lineage["config"] == data["config"]

    tokenizer = AutoTokenizer.from_pretrained(demo_model_dir)
    texts = ["光伏电站的巡检周期是多久？", "What does an inverter do?", "hello"]
    peft_model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(demo_model_dir), trained_adapter).eval()
    plain = AutoModelForCausalLM.from_pretrained(demo_model_dir).eval()
    merged = AutoModelForCausalLM.from_pretrained(path).eval()
    assert merged.dtype == torch.float32
    for want, got, before in zip(_logits(peft_model, tokenizer, texts), _logits(merged, tokenizer, texts),
                                 _logits(plain, tokenizer, texts)):
        assert (want - got).abs().max().item() < 1e-5
        assert (want - before).abs().max().item() > 1e-4  # the adapter changed something, so the check can fail


def test_bf16_cast_halves_the_weights_loads_and_generates(settings, versions, capsys, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops.services.evaluation.sets import EvalSets

    base, _ = versions
    rows = [{"prompt": "What does an inverter do?", "reference": "It turns direct current into alternating current."},
            {"prompt": "光伏电站多久巡检一次？", "reference": "每月至少巡检一次。"}]
    source = tmp_path / "ppl.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    EvalSets(settings).add(source, "ppl")
    code, _, err = _cli(capsys, "surgery", "convert", base.id, "--dtype", "bf16", "--target", "gone")
    assert code == 2 and "No target named 'gone'" in err
    code, out, err = _cli(capsys, "surgery", "convert", base.id, "--dtype", "bf16", "--ppl-set", "ppl", "--wait")
    assert code == 0, err
    model_id = out.strip().splitlines()[-1]
    entry = ModelRegistry(settings).get(model_id)
    before, after = weights_bytes(base.path), weights_bytes(entry.path)
    assert abs(after / before - 0.5) < 0.01
    assert entry.lineage["bytes"] == after and entry.lineage["source_bytes"] == before
    assert entry.lineage["parent_id"] == base.id and entry.lineage["operation"] == "cast_bfloat16"
    ppl_before, ppl_after = entry.lineage["ppl_before"], entry.lineage["ppl_after"]
    assert ppl_before > 1 and 0.8 < ppl_after / ppl_before < 1.25 and ppl_after != ppl_before
    model = AutoModelForCausalLM.from_pretrained(entry.path)
    assert model.dtype == torch.bfloat16
    tokenizer = AutoTokenizer.from_pretrained(entry.path)
    ids = tokenizer("hello", return_tensors="pt")
    made = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert made.shape[1] == ids["input_ids"].shape[1] + 4 or made[0, -1].item() == tokenizer.eos_token_id
    with pytest.raises(LLMOpsError) as caught:
        convert.plan_convert(settings, model_id, "bf16")
    assert caught.value.key == "err.sgx_same_dtype"


def test_gptq_on_cpu_is_refused_with_the_yaml_saved(settings, versions):
    base, _ = versions
    plan = export.plan_gptq(settings, base.id, 4)
    with pytest.raises(LLMOpsError) as caught:
        export.quantize_gptq(settings, JobRunner(settings), plan, device=DeviceInfo())
    assert caught.value.key == "err.sgx_gptq_needs_cuda"
    [saved] = settings.generated_configs_dir.glob("export_config_*.yaml")
    rel = str(saved.relative_to(settings.home))
    for lang in ("en", "zh"):
        message = caught.value.message(lang)
        assert rel in message and f"llamafactory-cli export {rel}" in message
    assert caught.value.message("zh") != caught.value.message("en")
    args = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert args["export_quantization_bit"] == 4 and args["export_dir"] == str(plan.output.final.relative_to(settings.home))
    assert (settings.home / args["export_quantization_dataset"]).is_file() or Path(args["export_quantization_dataset"]).is_file()
    assert JobRunner(settings).list() == []


def test_a_checkpoint_merges_and_a_chosen_dtype_becomes_infer_dtype(settings, versions, trained_adapter):
    base, adapter = versions
    plan = export.plan_merge_lora(settings, f"{adapter.id}#checkpoint-1", dtype="bf16", shard_gb=1, device="auto")
    assert plan.args["adapter_name_or_path"] == str(trained_adapter / "checkpoint-1")
    assert plan.args["infer_dtype"] == "bfloat16" and plan.args["export_size"] == 1
    assert plan.args["export_device"] == "auto"
    assert plan.lineage["parent_id"] == adapter.id and plan.lineage["inputs"] == [f"{adapter.id}#checkpoint-1", base.id]
    assert export.output_bytes(base.path, "bfloat16") * 2 == pytest.approx(weights_bytes(base.path), abs=2)
    assert not plan.output.partial.exists() and not plan.output.final.exists()


def _refused(call, key: str) -> LLMOpsError:
    with pytest.raises(LLMOpsError) as caught:
        call()
    assert caught.value.key == key
    assert caught.value.message("zh") != caught.value.message("en")
    return caught.value


def test_bad_inputs_are_refused_before_anything_runs(settings, versions, trained_adapter, capsys):
    base, adapter = versions
    models = ModelRegistry(settings)
    runner = JobRunner(settings)
    taken = settings.home / "taken"
    taken.mkdir()
    exc = _refused(lambda: export.merge_lora(settings, runner, adapter.id, out="taken"), "err.sg_output_exists")
    assert str(taken) in exc.message("zh")
    _refused(lambda: export.merge_lora(settings, runner, adapter.id, out=str(settings.home.parent / "elsewhere")),
             "err.sgx_out_outside")
    _refused(lambda: export.merge_lora(settings, runner, adapter.id, name="bad/name", out="fresh"), "err.model_bad_name")
    endpoint = models.add_endpoint("remote", "http://127.0.0.1:9/v1", "m")
    _refused(lambda: export.merge_lora(settings, runner, endpoint.id), "err.sgx_not_adapter")
    _refused(lambda: export.merge_lora(settings, runner, base.id), "err.sgx_not_adapter")
    _refused(lambda: convert.convert(settings, runner, endpoint.id, "bf16"), "err.sgx_not_local_model")
    _refused(lambda: convert.convert(settings, runner, adapter.id, "bf16"), "err.sgx_not_local_model")

    half = settings.home / "half"
    shutil.copytree(trained_adapter, half, ignore=shutil.ignore_patterns("checkpoint-*"))
    broken = models.add_adapter("half", base.id, str(half))
    weights = half / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # a copy still being written
    exc = _refused(lambda: export.merge_lora(settings, runner, broken.id), "err.sgx_adapter_incomplete")
    assert str(half) in exc.message("en") and str(half) in exc.message("zh")
    (half / "adapter_config.json").unlink()
    assert "adapter_config.json" in _refused(lambda: export.merge_lora(settings, runner, broken.id),
                                             "err.sgx_adapter_incomplete").message("en")

    code, _, err = _cli(capsys, "surgery", "merge-lora", endpoint.id)
    assert code == 2 and endpoint.id in err
    assert runner.list() == [] and not list(settings.generated_configs_dir.glob("export_config_*"))


def test_gguf_converter_is_feature_detected(settings, versions, tmp_path, monkeypatch):
    base, _ = versions
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv(convert.LLAMA_CPP_ENV, raising=False)
    assert convert.gguf_converter() is None
    exc = _refused(lambda: convert.gguf(settings, JobRunner(settings), base.id), "err.sgx_gguf_missing")
    assert convert.LLAMA_CPP_ENV in exc.message("en") and convert.LLAMA_CPP_ENV in exc.message("zh")
    checkout = tmp_path / "llama.cpp"
    checkout.mkdir()
    (checkout / convert.GGUF_SCRIPT).write_text("", encoding="utf-8")
    assert convert.gguf_converter({"PATH": str(checkout)}) is None  # on PATH only when executable
    (checkout / convert.GGUF_SCRIPT).chmod(0o755)
    assert convert.gguf_converter({"PATH": "", convert.LLAMA_CPP_ENV: str(checkout)}) == (checkout / convert.GGUF_SCRIPT)
    assert convert.gguf_converter({"PATH": str(checkout)}) == (checkout / convert.GGUF_SCRIPT)


def test_an_unwatched_export_is_judged_by_its_folder(tmp_path):
    run_dir, partial = tmp_path / "job", tmp_path / ".partial-m-1"
    run_dir.mkdir()
    partial.mkdir()
    (run_dir / evidence.EXPORT_PLAN).write_text(json.dumps({"final": str(tmp_path / "m"), "partial": str(partial)}))
    (partial / "config.json").write_text("{}")
    (partial / "model.safetensors").write_bytes(b"x")
    assert evidence.judge("surgery_export", run_dir, False).status is JobStatus.LOST
    (partial / "tokenizer_config.json").write_text("{}")
    assert evidence.judge("surgery_export", run_dir, False).status is JobStatus.COMPLETED
    assert evidence.judge("surgery_export", run_dir, True).status is JobStatus.STOPPED
