"""Every stage × fine-tuning combination the UI offers is accepted by LLaMA-Factory's own parser."""

from __future__ import annotations

import pytest

from llmops.errors import LLMOpsError
from llmops.runner.runner import JobRunner
from llmops.schemas.stages import choices
from llmops.services.device import DeviceInfo
from llmops.services.training import TrainingService


def test_lf_parser_accepts_every_offered_combination(settings, demo_model_dir, lf_parser):
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    combos = {}
    for stage in ("pt", "sft", "dpo"):  # rm, ppo and kto: tests/test_train_stages.py
        dataset = {"pt": "sample_pt", "sft": "sample_sft", "dpo": "sample_dpo"}[stage]
        for ft in choices("finetuning_type"):
            for val in (0.0, 0.1):
                config = service.build(stage, str(demo_model_dir), [dataset], finetuning_type=ft, val_size=val)
                combos[f"{stage}-{ft}-val{val}"] = service.render(config).args
    for loss in choices("pref_loss"):
        config = service.build("dpo", str(demo_model_dir), ["sample_dpo"], pref_loss=loss)
        combos[f"dpo-lora-{loss}"] = service.render(config).args
    results = lf_parser.check(settings.home, combos)
    assert len(results) == len(combos) == 23
    failures = {name: msg for name, msg in results.items() if msg != "ok"}
    assert not failures, failures


def _fake_adapter(settings):
    """An adapter folder our validation accepts (the parser never opens it)."""
    folder = settings.checkpoints_dir / "earlier" / "checkpoint-2"
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}", encoding="utf-8")
    (folder / "trainer_state.json").write_text("{}", encoding="utf-8")
    return folder


# (name, stage, overrides, the package LF itself must ask for, or None when it must accept the config)
NEW_OPTIONS = (
    ("pt-lora-options", "pt", {"lr_scheduler_type": "cosine_with_restarts", "warmup_ratio": 0.0, "warmup_steps": 5,
                               "max_grad_norm": 0.5, "max_samples": 10, "packing": True, "neftune_noise_alpha": 5.0,
                               "rope_scaling": "linear", "flash_attn": "sdpa", "continue": True}, None),
    ("sft-lora-options", "sft", {"lr_scheduler_type": "polynomial", "neat_packing": True, "rope_scaling": "dynamic",
                                 "flash_attn": "disabled", "max_samples": 3, "resume": True}, None),
    ("dpo-lora-options", "dpo", {"lr_scheduler_type": "inverse_sqrt", "max_grad_norm": 2.0, "max_samples": 5,
                                 "rope_scaling": "yarn", "flash_attn": "fa2", "neftune_noise_alpha": 1.0}, None),
    ("pt-full-galore", "pt", {"finetuning_type": "full", "use_galore": True, "galore_rank": 4,
                              "galore_layerwise": True, "gradient_accumulation_steps": 1}, "galore_torch"),
    ("sft-freeze-apollo", "sft", {"finetuning_type": "freeze", "use_apollo": True, "apollo_rank": 4}, "apollo_torch"),
    ("dpo-full-badam", "dpo", {"finetuning_type": "full", "use_badam": True, "badam_mode": "ratio",
                               "badam_update_ratio": 0.1}, "badam"),
    ("sft-lora-unsloth", "sft", {"use_unsloth": True}, "unsloth"),
    ("pt-lora-liger", "pt", {"enable_liger_kernel": True, "rope_scaling": "llama3"}, "liger-kernel"),
)


def test_lf_parser_accepts_every_new_option(settings, demo_model_dir, lf_parser):
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    checkpoint = _fake_adapter(settings)
    datasets = {"pt": "sample_pt", "sft": "sample_sft", "dpo": "sample_dpo"}
    combos, refused = {}, {}
    for name, stage, overrides, package in NEW_OPTIONS:
        overrides = dict(overrides)
        if overrides.pop("continue", False):
            overrides["adapter_name_or_path"] = str(checkpoint)
        if overrides.pop("resume", False):
            overrides["resume_from_checkpoint"] = str(checkpoint)
            (checkpoint.parent / "trainer_log.jsonl").write_text("", encoding="utf-8")
        config = service.build(stage, str(demo_model_dir), [datasets[stage]], **overrides)
        combos[name] = service.render(config).args
        assert "trust_remote_code" not in combos[name]
        if package or config.flash_attn == "fa2":
            with pytest.raises(LLMOpsError) as info:
                service.launch_config(config)
            refused[name] = info.value
    assert combos["sft-lora-options"]["resume_from_checkpoint"] == "checkpoints/earlier/checkpoint-2"
    assert combos["sft-lora-options"]["output_dir"] == "checkpoints/earlier"
    assert combos["pt-lora-options"]["adapter_name_or_path"] == "checkpoints/earlier/checkpoint-2"
    assert combos["pt-full-galore"]["use_galore"] is True and "use_badam" not in combos["pt-full-galore"]
    results = lf_parser.check(settings.home, combos)
    assert len(results) == len(NEW_OPTIONS) == 8
    for name, _stage, _overrides, package in NEW_OPTIONS:
        if package is None:
            assert results[name] == "ok", (name, results[name])
        else:
            # LF got past every name and cross-field check and stopped only at the missing package.
            assert f"pip install {package}" in results[name], (name, results[name])
            assert refused[name].key == "err.train.package_missing"
            assert package.replace("_", "-") in refused[name].message("zh").replace("_", "-")
    assert refused["dpo-lora-options"].key == "err.train.package_missing"
    assert "flash-attn" in refused["dpo-lora-options"].message("en")


def test_lf_parser_accepts_eval_datasets_and_refuses_them_beside_val_size(settings, demo_model_dir, lf_parser):
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    model = str(demo_model_dir)
    combos = {
        "sft-eval-dataset": service.build("sft", model, ["sample_sft"], eval_dataset="sample_sft", eval_steps=2),
        "dpo-eval-dataset": service.build("dpo", model, ["sample_dpo"], eval_dataset=" sample_dpo, sample_dpo "),
        "pt-eval-dataset": service.build("pt", model, ["sample_pt"], eval_dataset="sample_pt"),
    }
    args = {name: service.render(config).args for name, config in combos.items()}
    assert args["dpo-eval-dataset"]["eval_dataset"] == "sample_dpo" and "val_size" not in args["dpo-eval-dataset"]
    assert args["sft-eval-dataset"]["eval_strategy"] == "steps" and args["sft-eval-dataset"]["eval_steps"] == 2
    with pytest.raises(LLMOpsError) as both:
        service.build("sft", model, ["sample_sft"], eval_dataset="sample_sft", val_size=0.1)
    assert both.value.key == "err.train.eval_both"
    with pytest.raises(LLMOpsError) as wrong:  # a DPO run cannot score an SFT set
        service.render(service.build("dpo", model, ["sample_dpo"], eval_dataset="sample_sft"))
    assert wrong.value.key == "err.dataset_wrong_kind"
    with pytest.raises(LLMOpsError) as unknown:
        service.render(service.build("sft", model, ["sample_sft"], eval_dataset="nope"))
    assert unknown.value.key == "err.dataset_unknown"
    assert lf_parser.check(settings.home, args) == {name: "ok" for name in combos}
