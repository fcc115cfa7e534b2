"""Config building, validation messages (en/zh), YAML rendering and saving."""

from __future__ import annotations

import json

import pytest
import yaml

from llmops.errors import LLMOpsError
from llmops.lf import dataset_info
from llmops.lf.render import Placement, to_lf_args
from llmops.runner.runner import JobRunner
from llmops.services.device import DeviceInfo
from llmops.services.training import TrainingService


@pytest.fixture
def service(settings):
    return TrainingService(settings, JobRunner(settings), device=DeviceInfo())


def error_of(fn, *args, **kwargs) -> LLMOpsError:
    with pytest.raises(LLMOpsError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("overrides, key", [
    ({"learning_rate": -1}, "err.config_invalid"),
    ({"num_train_epochs": 0}, "err.config_invalid"),
    ({"per_device_train_batch_size": 100000}, "err.config_invalid"),
    ({"lora_rank": 0}, "err.config_invalid"),
    ({"bogus_key": 1}, "err.config_invalid"),
    ({"quantization_bit": 4, "finetuning_type": "full"}, "err.config_invalid"),
])
def test_absurd_values_are_refused(service, demo_model_dir, overrides, key):
    err = error_of(service.build, "sft", str(demo_model_dir), ["sample_sft"], **overrides)
    assert err.key == key
    assert err.message("zh") != err.message("en") and err.message("zh")


def test_validation_errors_before_anything_runs(service, demo_model_dir, settings):
    model = str(demo_model_dir)
    cases = [
        (lambda: service.render(service.build("sft", model, ["sample_sft"], template="nope")), "err.template_unknown"),
        (lambda: service.render(service.build("sft", model, ["not_there"])), "err.dataset_unknown"),
        (lambda: service.render(service.build("dpo", model, ["sample_sft"])), "err.dataset_wrong_kind"),
        (lambda: service.render(service.build("pt", model, ["sample_dpo"])), "err.dataset_wrong_kind"),
        (lambda: service.render(service.build("sft", "/no/such/model", ["sample_sft"])), "err.model_missing"),
        (lambda: service.render(service.build("sft", model, ["sample_sft"], run_name="../escape")),
         "err.unsafe_name"),
        (lambda: service.launch_config(service.build("sft", model, ["sample_sft"], quantization_bit=4)),
         "err.needs_gpu"),
    ]
    for action, key in cases:
        assert error_of(action).key == key
    assert not list(settings.generated_configs_dir.glob("*.yaml")), "nothing may be written on refusal"


def test_misshapen_dataset_is_reported_with_line(service, demo_model_dir, settings):
    bad = settings.data_dir / "bad.jsonl"
    bad.write_text('{"instruction": "q", "output": "a"}\n{"question": "x"}\n', encoding="utf-8")
    dataset_info.register(dataset_info.ensure(settings), "bad_sft", {"file_name": "bad.jsonl"})
    err = error_of(lambda: service.render(service.build("sft", str(demo_model_dir), ["bad_sft"])))
    assert err.key == "err.dataset_shape" and "bad.jsonl:2" in err.message()


def test_output_folder_that_is_not_empty_is_refused(service, demo_model_dir, settings):
    taken = settings.checkpoints_dir / "taken"
    taken.mkdir(parents=True)
    (taken / "adapter_model.safetensors").write_bytes(b"x")
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], run_name="taken")
    assert error_of(service.save, config).key == "err.output_not_empty"


def test_saved_yaml_is_complete_and_atomic(service, demo_model_dir, settings):
    config = service.build("dpo", str(demo_model_dir), ["sample_dpo"], pref_loss="simpo", val_size=0.1)
    saved = service.save(config)
    assert saved.path.parent == settings.generated_configs_dir
    assert saved.path.name.startswith("dpo_config_") and saved.path.suffix == ".yaml"
    args = yaml.safe_load(saved.path.read_text(encoding="utf-8"))
    assert args["stage"] == "dpo" and args["pref_loss"] == "simpo" and args["eval_strategy"] == "steps"
    assert args["dataset_dir"] == "data" and args["output_dir"].startswith("checkpoints/")
    assert args["bf16"] is False and args["fp16"] is False
    assert saved.commands.single == f"llamafactory-cli train {saved.rel_path}"
    assert "FORCE_TORCHRUN=1 NPROC_PER_NODE=" in saved.commands.multi_gpu
    assert all(k in saved.commands.multi_node for k in ("NNODES=", "NODE_RANK=", "MASTER_ADDR=", "MASTER_PORT="))
    second = service.save(config)
    assert second.path == saved.path and second.reused, "identical settings name the file already saved"
    third = service.save(config.model_copy(update={"seed": 7}))
    assert third.path != saved.path and not third.reused, "different settings never overwrite the first"
    assert yaml.safe_load(saved.path.read_text(encoding="utf-8"))["seed"] == 42
    assert not list(settings.generated_configs_dir.glob(".*.tmp"))
    sidecar = json.loads(saved.path.with_suffix(".llmops.json").read_text(encoding="utf-8"))
    assert sidecar["pref_loss"] == "simpo"


def test_no_eval_is_quoted_so_yaml_keeps_it_a_string(service, demo_model_dir):
    text = service.render(service.build("sft", str(demo_model_dir), ["sample_sft"])).yaml_text
    assert "eval_strategy: 'no'" in text and yaml.safe_load(text)["eval_strategy"] == "no"


def test_precision_follows_the_device(service, demo_model_dir, settings):
    config = service.build("sft", str(demo_model_dir), ["sample_sft"])
    out = settings.checkpoints_dir / "x"
    assert to_lf_args(config, settings, out, Placement(cuda=True, bf16_supported=True))["bf16"] is True
    fp16 = to_lf_args(config, settings, out, Placement(cuda=True, bf16_supported=False))
    assert fp16["fp16"] is True and fp16["bf16"] is False
    cpu = to_lf_args(config, settings, out, Placement())
    assert cpu["fp16"] is False and cpu["bf16"] is False


def test_dpo_lists_only_preference_datasets(service):
    assert service.datasets_for_stage("dpo") == ["sample_dpo"]
    assert service.datasets_for_stage("sft") == ["sample_sft"]
    assert service.datasets_for_stage("pt") == ["sample_pt"]


def test_concurrent_registrations_all_survive(settings):
    from concurrent.futures import ThreadPoolExecutor

    path = dataset_info.ensure(settings)

    def add(i):
        dataset_info.register(path, f"ds_{i}", {"file_name": f"f{i}.jsonl", "columns": {"prompt": "text"}})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(40)))
    info = dataset_info.read(path)
    assert all(f"ds_{i}" in info.entries for i in range(40)) and "sample_sft" in info.entries


def test_broken_entry_is_reported_not_hiding_the_rest(settings):
    path = dataset_info.ensure(settings)
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["broken"] = {"columns": {"prompt": "text"}}
    path.write_text(json.dumps(raw), encoding="utf-8")
    info = dataset_info.read(path)
    assert "sample_sft" in info.entries and any("broken" in p for p in info.problems)


def test_progress_is_reparsed_only_when_the_log_changes(tmp_path):
    from llmops.lf.trainer_log import read_progress

    log = tmp_path / "trainer_log.jsonl"
    log.write_text('{"current_steps": 1, "total_steps": 4, "loss": 2.0}\n', encoding="utf-8")
    first = read_progress(tmp_path)
    assert read_progress(tmp_path) is first and first.loss == [2.0]
    with open(log, "a", encoding="utf-8") as handle:
        handle.write('{"current_steps": 2, "total_steps": 4, "loss": 1.5, "eval_loss": 1.7}\n')
    second = read_progress(tmp_path)
    assert second is not first and second.loss == [2.0, 1.5] and second.eval_loss == [1.7]
