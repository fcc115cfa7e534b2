"""The stage registry and field spec: drawn from TrainConfig, covering every field once, feeding forms, YAML and API."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import Field

from llmops.errors import LLMOpsError
from llmops.i18n import has
from llmops.lf import render
from llmops.runner.runner import JobRunner
from llmops.schemas import stages
from llmops.schemas.stages import (
    KINDS,
    LF_SECTIONS,
    OFF_FORM,
    SECTIONS,
    STAGES,
    field_spec,
    fields_by_name,
)
from llmops.schemas.training import Scheduler, TrainConfig
from llmops.services.device import DeviceInfo
from llmops.services.train_request import REQUEST_KEYS, fields_table
from llmops.services.training import TrainingService
from llmops.ui.tabs.training import (
    _planner_split,
    form_fields,
    form_values,
    overrides_from,
)

from .test_cli import cli

# The positional API as it has been published: model, template, datasets, these, then the target fields.
LEGACY_ORDER = ["finetuning_type", "quantization_bit", "learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps", "cutoff_len", "lora_rank", "lora_alpha", "lora_dropout", "lora_target", "freeze_trainable_layers", "val_size", "eval_steps", "save_steps", "logging_steps", "precision", "deepspeed", "report_to", "run_name"]
LEGACY_DPO = ["pref_beta", "pref_loss"]
LEGACY_EXTRA = ["adapter_name_or_path", "resume_from_checkpoint", "lr_scheduler_type", "warmup_ratio", "warmup_steps", "max_grad_norm", "max_samples", "packing", "neat_packing", "neftune_noise_alpha", "rope_scaling", "flash_attn", "enable_liger_kernel", "use_unsloth", "use_galore", "galore_target", "galore_rank", "galore_update_interval", "galore_scale", "galore_proj_type", "galore_layerwise", "use_apollo", "apollo_target", "apollo_rank", "apollo_update_interval", "apollo_scale", "apollo_layerwise", "use_badam", "badam_mode", "badam_switch_mode", "badam_switch_interval", "badam_update_ratio", "eval_dataset"]


def error_of(fn, *args, **kwargs) -> LLMOpsError:
    with pytest.raises(LLMOpsError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.fixture
def service(settings):
    return TrainingService(settings, JobRunner(settings), device=DeviceInfo())


def test_every_config_field_has_its_metadata_exactly_once():
    specs = stages.ordered_fields()
    assert sorted(spec.name for spec in specs) == sorted(TrainConfig.model_fields)
    assert len({spec.name for spec in specs}) == len(specs) == len(TrainConfig.model_fields)
    for spec in specs:
        assert spec.section in (*SECTIONS, *OFF_FORM) and spec.kind in KINDS, spec
        assert spec.lf_section in LF_SECTIONS or spec.name in ("model", "datasets"), spec
        assert set(spec.shown) <= set(spec.stages) <= set(STAGES), spec

    class Grown(TrainConfig):
        new_knob: int = Field(3, ge=0)

    with pytest.raises(KeyError):  # a field added without metadata cannot reach a form
        field_spec("new_knob", Grown)


def test_choices_bounds_and_kinds_come_from_the_pydantic_field():
    by_name = fields_by_name()
    assert by_name["lr_scheduler_type"].choices == typing.get_args(Scheduler)
    assert by_name["quantization_bit"].choices == ("none", 8, 4) and by_name["quantization_bit"].optional
    assert by_name["finetuning_type"].kind == "radio" and by_name["packing"].kind == "bool"
    assert by_name["adapter_name_or_path"].kind == "source" and by_name["adapter_name_or_path"].source == "continue"
    assert dict(by_name["lora_dropout"].bounds) == {"ge": 0.0, "le": 0.9}
    assert by_name["learning_rate"].kind == "float" and by_name["max_steps"].kind == "int"
    for spec in by_name.values():
        if spec.on_form:
            assert has(f"ui.field.{spec.name}"), spec.name
        for value in (spec.choices or ()) if spec.on_form else ():
            assert has(f"ui.opt.{spec.name}.{value}"), (spec.name, value)


# Later stages and stage parameters: (fields after the basic row, after the advanced section, at the form's end).
STAGE_FIELDS = {
    "ppo": (["reward_model"], [], ["ppo_epochs", "ppo_buffer_size", "ppo_target", "ppo_score_norm",
                                   "ppo_whiten_rewards"]),
    "dpo": ([], LEGACY_DPO, ["pref_ftx", "simpo_gamma", "dpo_label_smoothing"]),
    "kto": ([], ["pref_beta"], ["pref_ftx", "kto_chosen_weight", "kto_rejected_weight"]),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_each_stage_form_is_the_spec_and_keeps_the_published_order(stage):
    basic, advanced, end = STAGE_FIELDS.get(stage, ([], [], []))
    expected = LEGACY_ORDER[:8] + basic + LEGACY_ORDER[8:] + advanced + LEGACY_EXTRA + end + ["use_ray", "ray_num_workers"]
    assert [spec.name for spec in form_fields(stage)] == expected
    assert form_fields(stage) == tuple(spec for spec in STAGES[stage].fields if spec.on_form)
    assert _planner_split(stage) == len(LEGACY_ORDER) + len(basic) + len(advanced)
    assert fields_by_name()["neat_packing"].visible(stage) == (stage == "sft")


def test_stage_registry_matches_the_schema_and_its_defaults_files(service):
    assert tuple(STAGES) == stages.stage_literal()
    for name, spec in STAGES.items():
        defaults = service.defaults(name)
        assert set(defaults) <= set(spec.config_keys), name
        needed = {"reward_model": "rm"} if name == "ppo" else {}  # PPO is refused without one (see test_train_stages)
        assert TrainConfig(stage=name, model="m", template="chatml", datasets=["d"], **needed,
                           **defaults).stage == spec.lf_stage
    assert "pref_beta" in STAGES["dpo"].config_keys and "pref_beta" not in STAGES["sft"].config_keys
    assert error_of(service.defaults, "nope").key == "err.stage_unknown"


def test_yaml_sections_place_every_rendered_key(service, demo_model_dir):
    placed = [key for _, keys in render.yaml_sections() for key in keys]
    assert len(placed) == len(set(placed))
    config = service.build("dpo", str(demo_model_dir), ["sample_dpo"], val_size=0.1, use_badam=True,
                           finetuning_type="full", ref_model_adapters=None)
    text = service.render(config).yaml_text
    assert "### other" not in text and "use_badam: true" in text and "stage: dpo" in text
    assert [line[4:] for line in text.splitlines() if line.startswith("### ")] == list(LF_SECTIONS)


def test_dataset_kinds_come_from_the_stage(service, demo_model_dir):
    assert service.datasets_for_stage("dpo") == ["sample_dpo"]
    err = error_of(lambda: service.render(service.build("dpo", str(demo_model_dir), ["sample_sft"])))
    assert err.key == "err.dataset_wrong_kind" and "preference" in err.message("en")


def test_named_request_equals_the_form_and_refuses_unknown_keys(service, demo_model_dir):
    model = str(demo_model_dir)
    request = {"stage": "dpo", "model": model, "template": "chatml", "datasets": ["sample_dpo"],
               "config": {"learning_rate": 2e-5, "pref_loss": "ipo", "max_steps": 3, "seed": 7},
               "target": {"gpus_per_node": 2}}
    config, target = service.build_request(request)
    assert config.pref_loss == "ipo" and config.seed == 7 and target.gpus_per_node == 2
    # The same values through the positional form build the same config.
    names = [spec.name for spec in form_fields("dpo")]
    again = service.build("dpo", model, ["sample_dpo"], template="chatml", seed=7,
                          **overrides_from(names, tuple(form_values(config, "dpo"))))
    # The form shows LoRA alpha as its effective value (twice the rank) where the request left it unset.
    assert again.model_dump(exclude={"lora_alpha"}) == config.model_dump(exclude={"lora_alpha"})
    assert again.effective_lora_alpha == config.effective_lora_alpha
    cases = [({**request, "extra": 1}, "extra"), ({**request, "config": {"lerning_rate": 1}}, "lerning_rate"),
             ({**request, "stage": "sft", "datasets": ["sample_sft"], "config": {"pref_beta": 0.2}}, "pref_beta"),
             ({**request, "target": {"gpus": 2}}, "gpus")]
    for bad, key in cases:
        err = error_of(service.build_request, bad)
        assert err.key == "err.train.api_unknown_keys" and key in err.message("zh") and "未知键" in err.message("zh")
    assert error_of(service.build_request, {**request, "config": [1]}).key == "err.train.api_not_object"
    assert error_of(service.build_request, {**request, "stage": "nope"}).key == "err.stage_unknown"
    bad_value = error_of(service.build_request, {**request, "config": {"pref_loss": "nope"}})
    assert bad_value.key == "err.config_invalid" and "pref_loss" in bad_value.message("en")


def test_schema_command_prints_the_stage_request_schema(settings):
    done = cli("train", "schema", "--stage", "dpo")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert set(schema["properties"]) == set(REQUEST_KEYS) and schema["additionalProperties"] is False
    config = schema["properties"]["config"]
    assert list(config["properties"]) == list(STAGES["dpo"].config_keys) and config["additionalProperties"] is False
    dpo_file = yaml.safe_load((settings.stage_defaults_dir / "dpo.yaml").read_text(encoding="utf-8"))
    assert config["properties"]["learning_rate"]["default"] == dpo_file["learning_rate"]
    assert config["properties"]["lora_dropout"]["maximum"] == 0.9
    assert "pref_beta" not in json.loads(cli("train", "schema", "--stage", "sft").stdout)["properties"]["config"][
        "properties"]


def test_readme_table_is_the_generated_one():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    copy = text.split("<!-- config-table:start -->\n", 1)[1].split("\n<!-- config-table:end -->", 1)[0]
    assert copy == fields_table()
    assert fields_table().count("\n| `") == len(TrainConfig.model_fields) - 4  # stage, model, template, datasets
