"""RM, PPO, KTO and the ORPO / SimPO losses: LLaMA-Factory's parser, one real step each on the CPU, their charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.errors import LLMOpsError
from llmops.lf.trainer_log import read_progress
from llmops.schemas.jobs import JobStatus
from llmops.schemas.votes import Vote
from llmops.services.container import build_services
from llmops.services.device import DeviceInfo
from llmops.services.training_stages import ppo_engine_problem
from llmops.settings import Settings
from llmops.ui.charts import loss_figure

from .test_cli import cli

ONE_STEP = {"max_steps": 1, "logging_steps": 1, "save_steps": 1000, "cutoff_len": 128, "warmup_ratio": 0.0,
            "gradient_accumulation_steps": 1}


def _votes(services) -> None:
    """Two decisive votes, a tie and a repeated vote_id: the KTO export makes four examples of them."""
    for i, winner in enumerate(("a", "b", "tie")):
        services.prefs.append(Vote(vote_id=f"v{i}", prompt=f"question {i}", model_a="demo@v1.0", model_b="x@v1.0",
                                   response_a=f"first answer {i}", response_b=f"second answer {i}", winner=winner))
    services.prefs.append(Vote(vote_id="v0", prompt="question 0", model_a="demo@v1.0", model_b="x@v1.0",
                               response_a="again", response_b="other", winner="b"))


@pytest.fixture(scope="module")
def runs(demo_model_dir, tmp_path_factory):
    """(services, {name: finished job}) of one-step RM, KTO (from votes) and SimPO runs, trained side by side."""
    # The three one-step runs share the CPU instead of queueing behind each other (each is mostly imports).
    settings = Settings(home=tmp_path_factory.mktemp("stages_home"), jobs_per_device_set=3)
    settings.ensure_dirs()
    services = build_services(settings)
    services.training._device = DeviceInfo()
    _votes(services)
    kto_name, _, _ = services.loop.export(shape="kto")
    model, training = str(demo_model_dir), services.training
    configs = {
        "rm": training.build("rm", model, ["sample_dpo"], run_name="rm", val_size=0.1, eval_steps=1, **ONE_STEP),
        "kto": training.build("kto", model, [kto_name], run_name="kto", per_device_train_batch_size=4, **ONE_STEP),
        "simpo": training.build("dpo", model, ["sample_dpo"], run_name="simpo", pref_loss="simpo", **ONE_STEP),
    }
    jobs = {name: training.launch_config(config)[1] for name, config in configs.items()}
    done = {name: services.runner.wait(job.id, 240) for name, job in jobs.items()}
    for name, job in done.items():
        assert job.status is JobStatus.COMPLETED, (name, services.runner.log_tail(job.id, 40))
    services.sync_models()
    return services, done


def test_each_stage_passes_llamafactorys_own_parser(runs, demo_model_dir, lf_parser):
    services, done = runs
    training, model = services.training, str(demo_model_dir)
    rm_version = next(e for e in services.models.list() if e.lineage.get("job_id") == done["rm"].id)
    assert (rm_version.id, ) == tuple(value for _, value in training.reward_sources())
    kto_name = next(name for name in training.datasets_for_stage("kto"))
    configs = {
        "rm-lora": training.build("rm", model, ["sample_dpo"]),
        "rm-full": training.build("rm", model, ["sample_dpo"], finetuning_type="full", val_size=0.1),
        "ppo-lora": training.build("ppo", model, ["sample_sft"], reward_model=rm_version.id),
        "ppo-full": training.build("ppo", model, ["sample_sft"], reward_model=rm_version.id, finetuning_type="full"),
        "kto-lora": training.build("kto", model, [kto_name], pref_ftx=0.2, kto_rejected_weight=1.5),
        # A reference model named with ORPO / SimPO is not written: LF loads none for them.
        "dpo-orpo": training.build("dpo", model, ["sample_dpo"], pref_loss="orpo", ref_model=model),
        "dpo-simpo": training.build("dpo", model, ["sample_dpo"], pref_loss="simpo", simpo_gamma=0.8, pref_ftx=0.1),
    }
    args = {name: training.render(config).args for name, config in configs.items()}
    # A LoRA reward adapter on the policy's base loads onto the policy; a full policy loads it as its own model.
    assert args["ppo-lora"]["reward_model_type"] == "lora" and args["ppo-lora"]["reward_model"] == rm_version.adapter
    assert "reward_model_adapters" not in args["ppo-lora"]
    assert args["ppo-full"]["reward_model_type"] == "full" and args["ppo-full"]["reward_model"] == rm_version.path
    assert args["ppo-full"]["reward_model_adapters"] == rm_version.adapter
    assert args["kto-lora"]["kto_rejected_weight"] == 1.5 and "pref_loss" not in args["kto-lora"]
    assert "ref_model" not in args["dpo-orpo"] and "simpo_gamma" not in args["dpo-orpo"]
    assert args["dpo-simpo"]["simpo_gamma"] == 0.8 and args["dpo-simpo"]["pref_ftx"] == 0.1
    assert not any(key.startswith(("ppo_", "reward_")) for key in args["rm-lora"])
    assert lf_parser.check(services.settings.home, args) == {name: "ok" for name in configs}
    # Saved and read back, a PPO config keeps its resolved reward model.
    saved = training.save(configs["ppo-lora"])
    assert training.load_config(saved.path).reward_model == rm_version.adapter


def test_cpu_stages_train_and_their_rewards_margins_and_kl_reach_the_chart(runs):
    _, done = runs
    out = {name: Path(job.run_dir) for name, job in done.items()}
    assert (out["rm"] / "value_head.safetensors").is_file() and (out["rm"] / "adapter_model.safetensors").is_file()
    assert (out["kto"] / "adapter_model.safetensors").is_file()
    series = {}
    for name, folder in out.items():
        progress = read_progress(folder)
        assert progress.current_steps == progress.total_steps == 1 and progress.loss, name
        figure = loss_figure(progress, name, "zh")
        series[name] = {trace.meta for trace in figure.data if trace.meta}
        assert all(trace.name and not trace.name.startswith("ui.") for trace in figure.data), name
    assert {"rewards/margins", "rewards/chosen", "rewards/rejected", "kl"} <= series["kto"], series
    assert {"rewards/margins", "rewards/chosen"} <= series["simpo"], series
    assert "eval_accuracy" in series["rm"], series
    rm_yaml = (out["rm"] / "train_config.yaml").read_text(encoding="utf-8")
    simpo_yaml = (out["simpo"] / "train_config.yaml").read_text(encoding="utf-8")
    assert "stage: rm" in rm_yaml and "pref_loss: simpo" in simpo_yaml and "ref_model" not in simpo_yaml


def test_votes_become_tagged_kto_examples_through_the_one_export(runs, tmp_path):
    services, _ = runs
    name, path, count = services.loop.export(shape="kto")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert count == len(rows) == 4  # two decisive votes (the tie and the repeated vote_id are not counted)
    assert [(row["vote_id"], row["kto_tag"]) for row in rows] == [("v0", True), ("v0", False), ("v1", True),
                                                                  ("v1", False)]
    assert rows[0]["response"] == "first answer 0" and rows[2]["response"] == "second answer 1"
    assert services.datasets.entries()[name]["columns"]["kto_tag"] == "kto_tag"
    assert services.loop.export(shape="kto") == (name, path, 4)  # content-addressed: the same file again
    dpo_name, _, pairs = services.loop.export()
    assert pairs == 2 and dpo_name.startswith("dpo_prefs_") and name.startswith("kto_prefs_")
    out = tmp_path / "kto.jsonl"
    made = cli("prefs", "export-kto", "--file", str(services.settings.prefs_path), "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["examples"] == 4 and out.read_text(encoding="utf-8") == path.read_text("utf-8")


def test_kto_without_tags_and_ppo_without_reward_model_are_refused_before_anything_runs(runs, demo_model_dir):
    services, done = runs
    training, model = services.training, str(demo_model_dir)
    jobs_before = len(services.runner.list())
    with pytest.raises(LLMOpsError) as untagged:
        training.render(training.build("kto", model, ["sample_sft"]))
    assert untagged.value.key == "err.stage.kto_no_tag"
    assert "kto_tag" in untagged.value.message("en") and "sample_sft" in untagged.value.message("en")
    assert "kto_tag" in untagged.value.message("zh") and "没有" in untagged.value.message("zh")
    bad = services.settings.work_dir / "bad_kto.jsonl"
    bad.write_text('{"prompt": "q", "response": "a", "kto_tag": "yes"}\n', encoding="utf-8")
    services.datasets.register_entry("bad_kto", {"file_name": str(bad), "formatting": "alpaca",
                                                 "columns": {"prompt": "prompt", "response": "response",
                                                             "kto_tag": "kto_tag"}})
    with pytest.raises(LLMOpsError) as wrong_tag:
        training.render(training.build("kto", model, ["bad_kto"]))
    assert wrong_tag.value.key == "err.stage.kto_tag_value" and '"yes"' in wrong_tag.value.message("zh")
    with pytest.raises(LLMOpsError) as no_reward:
        training.build("ppo", model, ["sample_sft"])
    assert no_reward.value.key == "err.stage.ppo_reward_model"
    assert "reward model" in no_reward.value.message("en") and "奖励模型" in no_reward.value.message("zh")
    zh = cli("train", "config", "--stage", "ppo", "--model", model, "--dataset", "sample_sft",
             env={"LLMOPS_HOME": str(services.settings.home), "LLMOPS_LANG": "zh"})
    assert zh.returncode != 0 and "奖励模型" in zh.stderr, zh.stderr
    # A folder typed by hand: an adapter scores the LoRA policy in place, a model folder loads as a full scorer.
    rm_folder = str(Path(done["rm"].run_dir))
    assert training.build("ppo", model, ["sample_sft"], reward_model=rm_folder).reward_model_type == "lora"
    assert training.build("ppo", model, ["sample_sft"], reward_model=model).reward_model_type == "full"
    # This environment's TRL cannot run LLaMA-Factory's PPO: refused at launch, the YAML still saved for elsewhere.
    reward = training.reward_sources()[0][1]
    ppo = training.build("ppo", model, ["sample_sft"], reward_model=reward, **ONE_STEP)
    if ppo_engine_problem():
        with pytest.raises(LLMOpsError) as engine:
            training.launch_config(ppo)
        assert engine.value.key == "err.stage.ppo_engine" and "trl" in engine.value.message("zh")
    assert len(services.runner.list()) == jobs_before


def test_the_training_tab_draws_the_new_stages_from_their_fields(runs, module_app_factory, demo_model_dir):
    from tests.apphelpers import connect

    from .test_app_training_api import form

    services, _ = runs
    settings, model = services.settings, str(demo_model_dir)
    client = connect(module_app_factory(settings.home).url)
    reward = services.training.reward_sources()[0][1]
    yaml_text, _, _ = client.predict(*form(settings, "ppo", model, "sample_sft", reward_model=reward),
                                     api_name="/ppo_preview")
    assert "stage: ppo" in yaml_text and "reward_model_type: lora" in yaml_text and "ppo_epochs: 4" in yaml_text
    with pytest.raises(Exception, match="reward model"):
        client.predict(*form(settings, "ppo", model, "sample_sft"), api_name="/ppo_preview")
    yaml_text, _, _ = client.predict(*form(settings, "dpo", model, "sample_dpo", pref_loss="simpo", simpo_gamma=0.7),
                                     api_name="/dpo_preview")
    assert "simpo_gamma: 0.7" in yaml_text and "ref_model" not in yaml_text
    picked, status = client.predict("en", api_name="/kto_export_votes")
    picked = picked.get("value") if isinstance(picked, dict) else picked  # the picker's update, as the client sees it
    assert "4 examples (2 votes)" in status and picked[0].startswith("kto_prefs_") and picked[0] in status
    yaml_text, _, _ = client.predict(*form(settings, "kto", model, picked[0], kto_chosen_weight=2.0),
                                     api_name="/kto_preview")
    assert "stage: kto" in yaml_text and "kto_chosen_weight: 2.0" in yaml_text
