"""GRPO on TRL's GRPOTrainer: built-in rewards (exact values), refusals before anything runs, and one real run on
the tiny model through the CLI and the runner whose reward curve is logged and whose user reward saw every
completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from llmops.cli.main import main
from llmops.engines.grpo.run import user_reward
from llmops.errors import InvalidInputError, LLMOpsError, NotFoundError
from llmops.lf.trainer_log import read_progress
from llmops.runner.runner import JobRunner
from llmops.schemas.grpo import GrpoConfig
from llmops.schemas.grpo_rewards import (
    REWARDS,
    describe,
    exact_answer,
    final_answer,
    length,
    output_format,
    trl_function,
)
from llmops.services.datasets import DatasetRegistry
from llmops.services.grpo import GrpoService
from llmops.services.models import ModelRegistry
from llmops.ui.charts import loss_figure

STEPS, PROMPTS, GENERATIONS = 2, 2, 2


def test_final_answer_reads_hashes_then_boxed_then_the_last_number():
    assert final_answer("so 3 + 4 = 7\n#### 7") == "7"
    assert final_answer("#### 1,234.") == "1234"
    assert final_answer(r"thus \boxed{42} and 17 more") == "42"
    assert final_answer("I think 12 or maybe 13") == "13"
    assert final_answer("no digits here") is None


def test_built_in_rewards_give_exact_values():
    solutions = ["#### 36", "#### 36", "#### 36", "36", "#### abc"]
    completions = ["the answer is 36", "#### 36.0", "#### 35", "36 apples", "#### abc"]
    assert exact_answer(completions, solutions, {"tolerance": 1e-6}) == [1.0, 1.0, 0.0, 1.0, 1.0]
    formatted = ["<think>a</think><answer>36</answer>", " <think>x\ny</think>\n<answer>1</answer>\n",
                 "<answer>36</answer>", "<think>a</think><answer>36</answer> trailing"]
    assert output_format(formatted, [""] * 4, {}) == [1.0, 1.0, 0.0, 0.0]
    assert output_format(["ANSWER: 3"], [""], {"pattern": r"^ANSWER: \d+$"}) == [1.0]
    assert length(["x" * 10, "x" * 5, "", "x" * 20, "x" * 30], [""] * 5, {"target_chars": 10}) == \
        [1.0, 0.5, 0.0, 0.0, 0.0]


def test_trl_wrapper_reads_chat_completions_and_the_solution_column():
    reward = trl_function("exact_answer", {})
    chat = [[{"role": "assistant", "content": "#### 5"}], [{"role": "assistant", "content": "#### 6"}]]
    assert reward(prompts=["p", "p"], completions=chat, solution=["#### 5", "#### 5"]) == [1.0, 0.0]
    assert reward.__name__ == "exact_answer"
    assert {entry["name"] for entry in describe()} == set(REWARDS) == {"exact_answer", "format", "length"}


def test_config_refuses_unknown_keys_rewards_and_parameters():
    with pytest.raises(ValueError, match="extra_forbidden|Extra inputs"):
        GrpoConfig(model="m", dataset="d", cutoff_len=3)
    for values, key in (({"rewards": [{"name": "nope"}]}, "err.grpo.reward_unknown"),
                        ({"rewards": [{"name": "length", "params": {"pattern": "x"}}]}, "err.grpo.reward_param"),
                        ({"rewards": []}, "err.grpo.no_reward")):
        with pytest.raises(InvalidInputError) as refused:
            _build(values)
        assert refused.value.key == key
        assert refused.value.message("zh") != refused.value.message("en")


def _build(values: dict) -> GrpoConfig:
    import pydantic

    from llmops.services.grpo import config_error

    try:
        return GrpoConfig(model="m", dataset="d", **values)
    except pydantic.ValidationError as exc:
        raise config_error(exc) from exc


def test_refusals_before_anything_runs(settings, demo_model_dir, tmp_path):
    service = GrpoService(settings, JobRunner(settings))
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def score(prompts, completions, **kw):\n    return [0.0] * len(completions)\n")
    config = service.build(str(demo_model_dir), "sample_verifiable", reward_file=f"{outside}:score")
    with pytest.raises(LLMOpsError) as refused:
        service.render(config)
    assert refused.value.key == "err.grpo.reward_file_outside" and "允许的目录之外" in refused.value.message("zh")
    with pytest.raises(PermissionError):
        user_reward(settings, f"{outside}:score")  # the engine checks again, for a YAML edited by hand
    inside = settings.home / "rewards.py"
    inside.write_text(outside.read_text())
    with pytest.raises(InvalidInputError) as missing:
        service.render(service.build(str(demo_model_dir), "sample_verifiable", reward_file="rewards.py:other"))
    assert missing.value.key == "err.grpo.reward_function_missing"
    bad = settings.data_dir / "no_solution.jsonl"
    bad.write_text(json.dumps({"prompt": "2+2?", "answer": "4"}) + "\n")
    DatasetRegistry(settings).register_path("no_solution", bad, {"columns": {"prompt": "prompt"}})
    with pytest.raises(InvalidInputError) as shape:
        service.render(service.build(str(demo_model_dir), "no_solution"))
    assert shape.value.key == "err.grpo.dataset_shape" and "solution" in shape.value.message("en")
    with pytest.raises(NotFoundError):
        service.render(service.build(str(demo_model_dir), "nowhere"))
    with pytest.raises(InvalidInputError) as no_model:
        service.render(service.build(str(settings.home / "no-such-model"), "sample_verifiable"))
    assert no_model.value.key == "err.model_missing"
    assert "sample_verifiable" in service.datasets() and "no_solution" not in service.datasets()
    assert not list(settings.generated_configs_dir.glob("grpo_*")) and not list(settings.checkpoints_dir.glob("grpo*"))


def test_real_run_through_cli_and_runner_logs_rewards_and_scores_every_completion(settings, demo_model_dir, capsys):
    calls = settings.home / "calls.jsonl"
    (settings.home / "my_reward.py").write_text(
        "import json\n"
        "def counted(prompts, completions, solution, **kwargs):\n"
        f"    with open({str(calls)!r}, 'a', encoding='utf-8') as fh:\n"
        "        for text in completions:\n"
        "            fh.write(json.dumps({'solution': solution[0]}) + '\\n')\n"
        "    return [0.25] * len(completions)\n")
    sets = {"max_steps": STEPS, "prompts_per_step": PROMPTS, "num_generations": GENERATIONS,
            "max_completion_length": 6, "reward_file": "my_reward.py:counted", "logging_steps": 1,
            "rewards": "[{name: exact_answer}, {name: length, weight: 0.5, params: {target_chars: 12}}]"}
    argv = ["train", "config", "--stage", "grpo", "--model", str(demo_model_dir), "--dataset", "sample_verifiable"]
    for key, value in sets.items():
        argv += ["--set", f"{key}={value}"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    path = printed[0]
    assert "/configs/llmops/grpo_config_" in path and any("python -m llmops.engines.grpo configs/llmops/grpo_config_"
                                                          in line for line in printed)
    saved = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    assert saved["stage"] == "grpo" and saved["engine"] == "trl" and saved["output_dir"].startswith("checkpoints/")

    assert main(["train", "launch", path, "--wait"]) == 0, capsys.readouterr()
    job_id, status = capsys.readouterr().out.split()[-3:-1]
    assert status == "COMPLETED"
    run_dir = settings.home / saved["output_dir"]
    lines = [json.loads(line) for line in (run_dir / "trainer_log.jsonl").read_text().splitlines()]
    assert [line["current_steps"] for line in lines] == [1, 2] and {line["total_steps"] for line in lines} == {2}
    for line in lines:
        assert {"loss", "reward", "kl", "completion_length", "reward_counted", "reward_exact_answer"} <= set(line)
        assert line["reward_counted"] == pytest.approx(0.25) and 0 < line["completion_length"] <= 6
    written = [json.loads(line) for line in calls.read_text().splitlines()]
    assert len(written) == STEPS * PROMPTS * GENERATIONS
    assert all(row["solution"].split("#### ")[-1].strip().isdigit() for row in written)

    progress = read_progress(run_dir)
    assert progress.metrics["reward"] == [(line["current_steps"], line["reward"]) for line in lines]
    assert len(progress.metrics["kl"]) == len(progress.metrics["completion_length"]) == STEPS
    names = {trace.name for trace in loss_figure(progress).data}
    assert {"loss", "reward", "KL", "completion length"} <= names
    version = next(e for e in ModelRegistry(settings).list() if e.lineage.get("job_id") == job_id)
    assert version.kind == "adapter" and version.lineage["stage"] == "grpo" and version.adapter == str(run_dir)
    assert version.lineage["datasets"] == ["sample_verifiable"]
    service = GrpoService(settings, JobRunner(settings))
    with pytest.raises(InvalidInputError) as adapter:
        service.build(version.id, "sample_verifiable")  # a registry version names the model, but GRPO needs full weights
    assert adapter.value.key == "err.grpo.model_adapter"
    assert service.build(version.lineage["parent_id"], "sample_verifiable").model == version.path


def _form(settings, model: str, **changes) -> list:
    """Positional inputs of the GRPO form: its fields, then each reward's use/weight/parameters."""
    from llmops.ui.tabs.training_grpo import field_names, reward_inputs

    defaults = {**GrpoService(settings, JobRunner(settings)).defaults(), **changes}
    chosen = {r["name"]: r for r in defaults["rewards"]}
    rewards = []
    for reward, key, _ in reward_inputs():
        picked = chosen.get(reward)
        rewards.append(picked is not None if key == "use" else
                       (picked or {}).get("weight", 1.0) if key == "weight" else
                       (picked or {}).get("params", {}).get(key, next(p["default"] for s in describe()
                                                                     if s["name"] == reward for p in s["params"]
                                                                     if p["name"] == key)))
    return [model, "sample_verifiable", *[defaults[name] for name in field_names()], *rewards, "en"]


def test_training_tab_grpo_form_previews_saves_and_refuses(app_factory, settings, demo_model_dir, tmp_path):
    from tests.apphelpers import connect

    # Only the model folder is allowed beside the workspace, so a reward file in the test folder lies outside.
    client = connect(app_factory(env={"LLMOPS_ALLOWED_DIRS": str(demo_model_dir.parent)}).url)
    form = _form(settings, str(demo_model_dir), rewards=[{"name": "format", "weight": 0.5}], max_steps=3)
    yaml_text, _, status = client.predict(*form, api_name="/grpo_preview")
    shown = yaml.safe_load(yaml_text)
    assert shown["stage"] == "grpo" and shown["max_steps"] == 3 and "Preview only" in status
    assert shown["rewards"] == [{"name": "format", "weight": 0.5, "params": {"pattern": shown["rewards"][0]["params"]
                                                                           ["pattern"]}}]
    assert not list(settings.generated_configs_dir.glob("grpo_config_*.yaml"))
    yaml_text, command, status = client.predict(*form, api_name="/grpo_save")
    saved = list(settings.generated_configs_dir.glob("grpo_config_*.yaml"))
    assert len(saved) == 1 and saved[0].read_text(encoding="utf-8").strip() == yaml_text.strip()
    assert f"python -m llmops.engines.grpo configs/llmops/{saved[0].name}" in command
    client.predict(*form, api_name="/grpo_save")  # the same settings again name the same file
    assert list(settings.generated_configs_dir.glob("grpo_config_*.yaml")) == saved
    (tmp_path / "out.py").write_text("def f(prompts, completions, **kw):\n    return [1.0] * len(completions)\n")
    with pytest.raises(Exception, match="outside the allowed folders"):
        client.predict(*_form(settings, str(demo_model_dir), reward_file=f"{tmp_path / 'out.py'}:f"),
                       api_name="/grpo_preview")
