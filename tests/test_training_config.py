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
    assert service.datasets_for_stage("sft") == ["sample_sft", "sample_verifiable"]  # GRPO rows read as SFT too
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


@pytest.mark.parametrize("overrides, key", [
    ({"warmup_ratio": 0.1, "warmup_steps": 10}, "err.train.warmup_both"),
    ({"neat_packing": True, "stage": "pt"}, "err.train.neat_packing_stage"),
    ({"use_unsloth": True, "deepspeed": "z3"}, "err.train.unsloth_zero3"),
    ({"finetuning_type": "full", "use_galore": True, "use_badam": True}, "err.train.optimizers_together"),
    ({"use_apollo": True}, "err.train.optimizer_lora"),
    ({"finetuning_type": "full", "use_galore": True, "deepspeed": "z2"}, "err.train.optimizer_deepspeed"),
    ({"finetuning_type": "freeze", "use_apollo": True, "apollo_layerwise": True}, "err.train.layerwise_accumulation"),
    ({"finetuning_type": "full", "use_badam": True, "deepspeed": "z2"}, "err.train.badam_deepspeed"),
    ({"finetuning_type": "full", "use_badam": True, "badam_mode": "ratio", "deepspeed": "z3"},
     "err.train.badam_deepspeed"),
    ({"finetuning_type": "full", "adapter_name_or_path": "x"}, "err.train.adapter_lora"),
    ({"max_grad_norm": 0}, "err.config_invalid"),
    ({"neftune_noise_alpha": -1}, "err.config_invalid"),
    ({"lr_scheduler_type": "sawtooth"}, "err.config_invalid"),
    ({"flash_attn": "fa9"}, "err.config_invalid"),
    ({"rope_scaling": "stretchy"}, "err.config_invalid"),
    ({"galore_rank": 0}, "err.config_invalid"),
])
def test_new_option_rules_are_refused_in_both_languages(service, demo_model_dir, overrides, key):
    overrides = dict(overrides)
    stage = overrides.pop("stage", "sft")
    dataset = {"pt": "sample_pt", "sft": "sample_sft"}[stage]
    err = error_of(service.build, stage, str(demo_model_dir), [dataset], **overrides)
    assert err.key == key
    assert err.message("zh") != err.message("en") and err.message("zh")


RICH = {"lr_scheduler_type": "polynomial", "warmup_ratio": 0.0, "warmup_steps": 3, "max_grad_norm": 0.3,
        "max_samples": 7, "neat_packing": True, "neftune_noise_alpha": 5.0, "rope_scaling": "dynamic",
        "flash_attn": "sdpa", "val_size": 0.2, "eval_steps": 4, "lora_rank": 4, "run_name": "rich", "seed": 3}


@pytest.mark.parametrize("stage, dataset, overrides", [
    ("sft", "sample_sft", RICH),
    ("pt", "sample_pt", {"finetuning_type": "full", "use_badam": True, "badam_switch_mode": "random",
                         "deepspeed": "z3", "packing": False, "warmup_ratio": 0.0}),
    ("dpo", "sample_dpo", {"pref_loss": "ipo", "pref_beta": 0.3, "finetuning_type": "freeze", "use_galore": True,
                           "galore_rank": 8, "freeze_trainable_layers": 1, "precision": "auto"}),
])
def test_saved_config_loads_back_into_the_same_yaml(service, demo_model_dir, settings, stage, dataset, overrides):
    config = service.build(stage, str(demo_model_dir), [dataset], **overrides)
    saved = service.save(config)
    assert service.saved_configs() == [saved.path.name]
    from_sidecar = service.load_config(saved.path.name)
    assert from_sidecar == config
    saved.path.with_suffix(".llmops.json").unlink()
    from_yaml = service.load_config(saved.rel_path)
    out = saved.output_dir
    assert service.render(from_yaml, out).args == service.render(config, out).args == yaml.safe_load(
        saved.path.read_text(encoding="utf-8"))


def test_loading_refuses_unknown_keys_values_and_other_places(service, settings):
    folder = settings.generated_configs_dir
    base = {"stage": "sft", "model_name_or_path": "m", "dataset": "sample_sft", "template": "chatml",
            "output_dir": "checkpoints/x", "finetuning_type": "lora"}
    (folder / "odd.yaml").write_text(yaml.safe_dump({**base, "mystery_knob": 1, "use_dora": True}), encoding="utf-8")
    err = error_of(service.load_config, "odd.yaml")
    assert err.key == "err.train.config_unknown_keys" and "mystery_knob, use_dora" in err.message("zh")
    (folder / "bad.yaml").write_text(yaml.safe_dump({**base, "lr_scheduler_type": "sawtooth"}), encoding="utf-8")
    err = error_of(service.load_config, "bad.yaml")
    assert err.key == "err.config_invalid" and "lr_scheduler_type" in err.message("en")
    assert error_of(service.load_config, "none.yaml").key == "err.train.config_missing"
    (settings.home / "stray.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    assert error_of(service.load_config, str(settings.home / "stray.yaml")).key == "err.path_escape"


def test_copy_command_twice_writes_one_file_and_load_fills_the_form(settings, demo_model_dir):
    from llmops.services.container import build_services
    from llmops.ui.tabs.training import TARGET_DEFAULTS, TARGET_FIELDS, _StageHandlers, form_fields, form_values

    services = build_services(settings)
    names = [spec.name for spec in form_fields("sft")]
    handlers = _StageHandlers(services, "sft", names)
    config = services.training.build("sft", str(demo_model_dir), ["sample_sft"], **RICH)
    target = [TARGET_DEFAULTS[name] for name, _ in TARGET_FIELDS]
    click = handlers.with_config(handlers.save)
    first = click(str(demo_model_dir), "chatml", ["sample_sft"], *form_values(config, "sft"), *target, "en")
    second = click(str(demo_model_dir), "chatml", ["sample_sft"], *form_values(config, "sft"), *target, "zh")
    assert len(list(settings.generated_configs_dir.glob("*.yaml"))) == 1
    assert first[0] == second[0] and "复用" in second[2]
    loaded = handlers.load(services.training.saved_configs()[0], "en")
    assert list(loaded[:3]) == [str(demo_model_dir), "chatml", ["sample_sft"]]
    assert list(loaded[3:-1]) == form_values(config, "sft") and len(loaded[3:-1]) == len(names)
    with pytest.raises(Exception, match="sft"):
        _StageHandlers(services, "dpo", names).load(services.training.saved_configs()[0], "en")


def test_commands_follow_the_detected_gpus_or_the_target_box(settings, demo_model_dir):
    from llmops.lf.command import Target

    gpu_box = TrainingService(settings, JobRunner(settings), device=DeviceInfo(cuda=True, count=4))
    config = gpu_box.build("sft", str(demo_model_dir), ["sample_sft"])
    commands = gpu_box.commands("configs/llmops/x.yaml")
    assert "NPROC_PER_NODE=4 " in commands.multi_gpu and "192.168" not in commands.multi_node
    assert 'MASTER_ADDR="${MASTER_ADDR:?' in commands.multi_node and "NNODES=2" in commands.multi_node
    commands = gpu_box.commands("x.yaml", Target(8, 3, "10.0.0.5", 29501))
    assert "NPROC_PER_NODE=8 " in commands.multi_gpu
    assert "NNODES=3 " in commands.multi_node and "MASTER_ADDR=10.0.0.5 MASTER_PORT=29501" in commands.multi_node
    cpu_box = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    assert "no GPU detected" in cpu_box.commands("x.yaml").as_text("/w")
    for bad in ({"master_addr": "a b;rm"}, {"nnodes": 0}, {"master_port": 70000}):
        err = error_of(Target, **bad)
        assert err.key.startswith("err.train.bad_") and err.message("zh") != err.message("en")
    assert config.stage == "sft"


def test_remote_code_stays_off_unless_the_registry_opts_in(service, demo_model_dir, settings):
    from llmops.services.models import ModelRegistry

    config = service.build("sft", str(demo_model_dir), ["sample_sft"])
    rendered = service.render(config)
    assert "trust_remote_code" not in rendered.args
    assert "# trust_remote_code: off" in rendered.yaml_text
    hub = service.render(service.build("sft", "Qwen/Qwen2.5-0.5B-Instruct", ["sample_sft"], template="qwen"))
    assert "trust_remote_code" not in hub.args
    registry = ModelRegistry(settings)
    entry = registry.add_base("tiny", str(demo_model_dir))
    registry.set_load_options(entry.id, trust_remote_code=True, allow_pickle=False)
    opted = service.render(config)
    assert opted.args["trust_remote_code"] is True and "trust_remote_code: true" in opted.yaml_text
    assert "# trust_remote_code: ON for" in opted.yaml_text
    registry.set_load_options(entry.id, trust_remote_code=False, allow_pickle=False)
    assert "trust_remote_code" not in service.render(config).args


def test_pickle_only_model_is_refused_for_training_and_generation(service, settings, tmp_path):
    from llmops.backends.base import BackendError
    from llmops.backends.cache import LocalModelCache, Placement
    from llmops.backends.factory import backend_for
    from llmops.services.models import ModelRegistry

    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "qwen2"}', encoding="utf-8")
    (folder / "pytorch_model.bin").write_bytes(b"not really a pickle")
    config = service.build("sft", str(folder), ["sample_sft"], template="chatml")
    err = error_of(service.render, config)
    assert err.key == "err.train.pickle_only" and "safetensors" in err.message("en")
    cache = LocalModelCache(1.0, placement=Placement("cpu", "float32"))
    with pytest.raises(BackendError) as info:
        cache.get(str(folder))
    assert info.value.key == "err.train.pickle_only"
    registry = ModelRegistry(settings)
    entry = registry.set_load_options(registry.add_base("pickled", str(folder)).id, False, True)
    assert service.render(config).args["model_name_or_path"] == str(folder)
    backend_for(entry, cache)
    assert cache.opt_ins[str(folder.resolve())] == (False, True)
    (folder / "model.safetensors").write_bytes(b"")
    registry.set_load_options(entry.id, False, False)
    assert service.render(config).args["model_name_or_path"] == str(folder)


def test_cli_train_config_prints_the_same_commands(settings, demo_model_dir, capsys):
    from llmops.cli.main import main

    argv = ["train", "config", "--stage", "sft", "--model", str(demo_model_dir), "--dataset", "sample_sft",
            "--set", "lr_scheduler_type=linear", "--set", "neftune_noise_alpha=5"]
    assert main([*argv, "--nproc-per-node", "4", "--nnodes", "3", "--master-addr", "10.1.2.3"]) == 0
    out = capsys.readouterr().out
    assert "NPROC_PER_NODE=4 llamafactory-cli" in out and "NNODES=3 " in out and "MASTER_ADDR=10.1.2.3 " in out
    assert main(argv) == 0, "the same settings again"
    again = capsys.readouterr().out
    assert again.splitlines()[0] == out.splitlines()[0], "identical settings name the file already saved"
    assert 'MASTER_ADDR="${MASTER_ADDR:?' in again
    assert main([*argv, "--master-addr", "bad host;"]) == 2
    assert "Master address" in capsys.readouterr().err
