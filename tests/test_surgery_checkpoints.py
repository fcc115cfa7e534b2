"""A run's checkpoints as a table to choose from: losses from the real trainer log, overfitting flags, the pick and
why, half-written ones refused, registration as versions, and pruning only with the plan's own token."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from llmops.cli.main import main
from llmops.errors import ConflictError, InvalidInputError
from llmops.i18n import t
from llmops.schemas.eval_runs import EvalRunConfig, ModelSummary, RunSummary
from llmops.schemas.evaluation import EvalSample
from llmops.services.evaluation.run_folder import RunFolder, new_run_id
from llmops.services.models import ModelRegistry
from llmops.services.surgery.checkpoints import (
    EVAL_RISING,
    INCOMPLETE,
    OVERFITTING,
    REGISTERED,
    SCORE_FALLING,
    checkpoint_table,
    prune,
    prune_plan,
    register_checkpoint,
    resolve_run,
)
from tests.surgeryruns import STEPS, copy_run, rewrite_log


@pytest.fixture
def lora_run(lora_run_with_eval):
    """The session's LoRA run with eval (tests/conftest.py)."""
    return lora_run_with_eval


@pytest.fixture
def run(lora_run, settings) -> Path:
    return copy_run(lora_run[2], settings)


def _logged(run: Path, key: str) -> dict[int, float]:
    lines = [json.loads(line) for line in (run / "trainer_log.jsonl").read_text().splitlines()]
    return {line["current_steps"]: line[key] for line in lines if key in line}


def test_the_table_reads_the_real_trainer_log_and_a_job_id_names_the_run(lora_run, run, settings):
    module_settings, job_id, original = lora_run
    assert resolve_run(module_settings, job_id).path == original.resolve()
    table = checkpoint_table(settings, str(run))
    assert [row.step for row in table.rows] == list(STEPS)
    evals, losses = _logged(run, "eval_loss"), _logged(run, "loss")
    assert [row.eval_loss for row in table.rows] == [evals[s] for s in STEPS]
    assert [row.train_loss for row in table.rows] == [losses[s] for s in STEPS]
    assert all(row.complete and row.kind == "adapter" and row.bytes > 60_000 for row in table.rows)
    assert table.recommended == min(table.rows, key=lambda row: (row.eval_loss, row.step)).name


def test_eval_loss_made_to_rise_picks_the_checkpoint_before_the_rise(run, settings, capsys):
    # The scenario "eval loss made to rise": the real run's logged eval losses are rewritten to fall, then rise,
    # while train loss keeps falling (rewritten too, so the overfitting flag does not hang on a noisy real loss).
    rewrite_log(run, eval_loss={2: 2.0, 4: 1.5, 6: 1.8}, loss={2: 3.0, 4: 2.5, 6: 2.0})
    table = checkpoint_table(settings, str(run))
    assert table.recommended == "checkpoint-4"
    flags = {row.name: row.flags for row in table.rows}
    assert flags == {"checkpoint-2": [], "checkpoint-4": [], "checkpoint-6": [EVAL_RISING, OVERFITTING]}
    assert "before it started rising" in table.reason.render("en") and "第 4 步" in table.reason.render("zh")
    assert main(["surgery", "checkpoints", str(run), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recommended"] == "checkpoint-4"
    assert [(c["name"], c["step"], c["eval_loss"], c["complete"]) for c in data["checkpoints"]] == [
        ("checkpoint-2", 2, 2.0, True), ("checkpoint-4", 4, 1.5, True), ("checkpoint-6", 6, 1.8, True)]
    assert set(data["checkpoints"][0]) >= {"name", "step", "train_loss", "eval_loss", "score", "flags", "complete",
                                           "bytes"}
    # Without any eval signal the last complete checkpoint is the pick, and the reason says so.
    for line in ("eval_loss",):
        text = "\n".join(l for l in (run / "trainer_log.jsonl").read_text().splitlines() if line not in l)
        (run / "trainer_log.jsonl").write_text(text + "\n")
    table = checkpoint_table(settings, str(run))
    assert table.recommended == "checkpoint-6" and table.reason.key == "sgc.reason.last"


def test_a_half_written_checkpoint_is_flagged_and_never_used(run, settings, demo_model_dir):
    rewrite_log(run, eval_loss={2: 2.0, 4: 1.0, 6: 1.8})
    (run / "checkpoint-4" / "adapter_model.safetensors").unlink()
    table = checkpoint_table(settings, str(run))
    broken = table.row("4")
    assert not broken.complete and broken.missing == ["weights"] and INCOMPLETE in broken.flags
    assert table.recommended == "checkpoint-6"  # checkpoint-4's low loss counts for nothing
    assert EVAL_RISING not in table.row("6").flags  # compared with checkpoint-2, the one before it that is whole
    ModelRegistry(settings).add_base("demo", str(demo_model_dir))
    with pytest.raises(InvalidInputError) as caught:
        register_checkpoint(settings, str(run), "checkpoint-4")
    assert "weights" in caught.value.message("en") and "未写完" in caught.value.message("zh")
    from llmops.services.surgery.averaging import describe

    with pytest.raises(InvalidInputError):
        describe(settings, str(run), ["2", "4", "6"])
    (run / "checkpoint-2" / "trainer_state.json").unlink()
    assert checkpoint_table(settings, str(run)).row("2").missing == ["trainer_state.json"]


def test_a_checkpoint_registers_as_an_adapter_of_the_same_base(run, settings, demo_model_dir, capsys):
    registry = ModelRegistry(settings)
    base = registry.add_base("demo", str(demo_model_dir))
    assert main(["surgery", "register-checkpoint", str(run), "checkpoint-4", "--as", "picked", "--json"]) == 0
    entry = registry.get(json.loads(capsys.readouterr().out)["id"])
    assert entry.kind == "adapter" and entry.path == base.path and entry.parent_id == base.id
    assert Path(entry.adapter) == (run / "checkpoint-4").resolve() and entry.lineage["step"] == 4
    assert register_checkpoint(settings, str(run), "4").id == entry.id  # twice: the same version
    assert REGISTERED in checkpoint_table(settings, str(run)).row("4").flags


def test_prune_plans_first_and_deletes_only_with_that_plans_token(run, settings, demo_model_dir, capsys):
    rewrite_log(run, eval_loss={2: 2.0, 4: 1.5, 6: 1.8})  # recommended: checkpoint-4
    ModelRegistry(settings).add_base("demo", str(demo_model_dir))
    register_checkpoint(settings, str(run), "2")
    plan = prune_plan(settings, str(run))
    assert [name for name, _ in plan.delete] == ["checkpoint-6"] and plan.keep == ["checkpoint-2", "checkpoint-4"]
    size = sum(p.stat().st_size for p in (run / "checkpoint-6").rglob("*") if p.is_file())
    assert plan.bytes == size
    assert main(["surgery", "prune", str(run)]) == 0
    out = capsys.readouterr().out
    assert plan.token in out and (run / "checkpoint-6").is_dir()  # a plan deletes nothing
    with pytest.raises(ConflictError):
        prune(settings, str(run), "not-the-token")
    assert (run / "checkpoint-6").is_dir()
    assert main(["surgery", "prune", str(run), "--confirm", plan.token, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bytes"] == size
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert (run / "adapter_model.safetensors").is_file() and (run / "trainer_log.jsonl").is_file()
    assert main(["surgery", "prune", str(run), "--confirm", plan.token]) == 2  # a plan is used once


def test_eval_scores_come_from_the_newest_complete_checkpoint_run(run, settings, demo_model_dir):
    registry = ModelRegistry(settings)
    base = registry.add_base("demo", str(demo_model_dir))
    version = registry.add_adapter("demo", base.id, str(run))
    refs = [f"{version.id}#checkpoint-{s}" for s in STEPS]

    def scored(figures: list[float], status: str = "complete") -> str:
        folder = RunFolder(settings, new_run_id())
        config = EvalRunConfig(run_id=folder.run_id, models=[*refs, version.id], set="s.jsonl")
        folder.create(config, [EvalSample(prompt="p", reference="r")])
        models = {ref: ModelSummary(samples=1, metrics={"bleu-4": f, "rouge-1": 50.0}) for ref, f in zip(refs, figures)}
        folder.write_summary(RunSummary(run_id=folder.run_id, set="s.jsonl", samples=1, done=4, total=4,
                                        status=status, metrics=["bleu-4", "rouge-1"], models=models))
        return folder.run_id

    scored([10.0, 12.0, 11.0])
    time.sleep(1.1)  # run ids sort by their second
    newest = scored([30.0, 20.0, 10.0])
    time.sleep(1.1)  # a partial run, newer still, is passed over
    scored([1.0, 2.0, 3.0], status="partial")
    table = checkpoint_table(settings, str(run))
    assert table.run.version.id == version.id and table.eval_run == newest and table.metric == "bleu-4"
    assert [row.score for row in table.rows] == [30.0, 20.0, 10.0]
    assert SCORE_FALLING in table.row("6").flags and SCORE_FALLING not in table.row("4").flags  # twice in a row
    assert table.recommended == "checkpoint-2" and table.reason.key == "sgc.reason.score"
    assert t("sgc.reason.score", "zh", metric="bleu-4", score="30", step=2).startswith("评测分数最佳")
    assert [row.score for row in checkpoint_table(settings, version.id, metric="lf_rouge1").rows] == [50.0] * 3
