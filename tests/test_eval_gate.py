"""The regression gate: verdicts from run summaries, its stored setting, and the refusals it puts on promotion."""

from __future__ import annotations

import json

import pytest

from llmops.errors import ConflictError, LLMOpsError
from llmops.runner.runner import JobRunner
from llmops.schemas.eval_runs import EvalRunConfig, ModelSummary, RunSummary
from llmops.schemas.evaluation import EvalSample
from llmops.services.device import DeviceInfo
from llmops.services.evaluation import gate
from llmops.services.evaluation.run_folder import RunFolder
from llmops.services.loop import LoopService
from llmops.services.models import ModelRegistry
from llmops.services.prefs import PrefsStore
from llmops.services.training import TrainingService

from .test_cli import cli
from .test_models import fake_adapter

OLD, NEW = "tiny@v1.0", "tiny@v1.1"


def write_run(settings, run_id: str, figures: dict[str, dict[str, float | None]], *, set_name: str = "qa",
              status: str = "complete") -> RunFolder:
    """A run folder with a summary holding `figures` (model -> metric column -> value)."""
    folder = RunFolder(settings, run_id)
    folder.create(EvalRunConfig(run_id=run_id, models=list(figures), set=set_name, metrics=["bleu-4"]),
                  [EvalSample(prompt="p", reference="r")])
    models = {model: ModelSummary(samples=1, metrics=values) for model, values in figures.items()}
    folder.write_summary(RunSummary(run_id=run_id, set=set_name, samples=1, done=len(figures), total=len(figures),
                                    status=status, metrics=["bleu-4"], models=models))
    return folder


@pytest.fixture
def registry(settings):
    models = ModelRegistry(settings)
    models.add_base("tiny", "Qwen/Qwen2.5-0.5B", version="v1.0")
    models.add_base("tiny", "Qwen/Qwen2.5-0.5B-Instruct", version="v1.1")
    return models


def test_verdict_comes_from_the_newest_complete_run_holding_both(settings):
    write_run(settings, "ev-20260101-000000-aaaaaa", {NEW: {"bleu-4": 10.0}, OLD: {"bleu-4": 40.0}})
    write_run(settings, "ev-20260102-000000-bbbbbb", {NEW: {"bleu-4": 31.0}, OLD: {"bleu-4": 30.0}})
    # Newer, but not evidence: unfinished, another set, a figure missing, the other model absent.
    write_run(settings, "ev-20260103-000000-cccccc", {NEW: {"bleu-4": 0.0}, OLD: {"bleu-4": 99.0}}, status="partial")
    write_run(settings, "ev-20260104-000000-dddddd", {NEW: {"bleu-4": 0.0}, OLD: {"bleu-4": 99.0}}, set_name="other")
    write_run(settings, "ev-20260105-000000-eeeeee", {NEW: {"bleu-4": None}, OLD: {"bleu-4": 99.0}})
    write_run(settings, "ev-20260106-000000-ffffff", {NEW: {"bleu-4": 0.0}})
    result = gate.check(settings, NEW, OLD, set_name="qa", metric="lf_bleu4", threshold=0.0)
    assert (result.passed, result.run_id, result.candidate_figure, result.previous_figure) == (
        True, "ev-20260102-000000-bbbbbb", 31.0, 30.0)
    assert result.delta == pytest.approx(1.0) and result.higher_is_better and result.key == "bleu-4"
    assert result.reason is None and "31" in result.message("en") and "30" in result.message("zh")
    # The same run, the roles swapped: 1 point worse fails at threshold 0.5 and passes at threshold 1.
    worse = gate.check(settings, OLD, NEW, set_name="qa", metric="bleu-4", threshold=0.5)
    assert not worse.passed and worse.delta == pytest.approx(-1.0)
    assert gate.check(settings, OLD, NEW, set_name="qa", metric="bleu-4", threshold=1.0).passed


def test_lower_is_better_flips_the_direction_and_no_run_says_why(settings):
    write_run(settings, "ev-20260101-000000-aaaaaa", {NEW: {"perplexity": 12.0}, OLD: {"perplexity": 10.0}})
    result = gate.check(settings, NEW, OLD, set_name="qa", metric="perplexity", threshold=1.5)
    assert not result.higher_is_better and not result.passed and result.delta == pytest.approx(2.0)
    assert gate.check(settings, OLD, NEW, set_name="qa", metric="perplexity", threshold=0.0).passed
    missing = gate.check(settings, NEW, OLD, set_name="elsewhere", metric="perplexity", threshold=0.0)
    assert not missing.passed and missing.reason == gate.REASON_NO_RUN and missing.run_id is None
    assert missing.candidate_figure is None and "elsewhere" in missing.message("en") and NEW in missing.message("zh")
    with pytest.raises(LLMOpsError) as info:
        gate.check(settings, NEW, OLD, set_name="qa", metric="nonsense", threshold=0.0)
    assert info.value.key == "err.ev_unknown_metric"


def test_setting_is_stored_and_refuses_bad_values(settings):
    assert gate.read_setting(settings).enabled is False
    setting = gate.configure(settings, set_name=" qa ", metric="bleu-4", threshold=0.5)
    stored = json.loads((settings.configs_dir / "gate.json").read_text(encoding="utf-8"))
    assert stored == {"enabled": True, "set": "qa", "metric": "lf_bleu4", "threshold": 0.5} == setting.model_dump()
    assert gate.disable(settings).model_dump() == {**stored, "enabled": False}
    for kwargs, key in (({"set_name": "qa", "metric": "bleu-4", "threshold": -1}, "err.gate.bad_threshold"),
                        ({"set_name": " ", "metric": "bleu-4"}, "err.gate.no_set"),
                        ({"set_name": "qa", "metric": "nope"}, "err.ev_unknown_metric")):
        with pytest.raises(LLMOpsError) as info:
            gate.configure(settings, **kwargs)
        assert info.value.key == key
    (settings.configs_dir / "gate.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(LLMOpsError) as info:
        gate.read_setting(settings)
    assert info.value.key == "err.gate.corrupt"


def test_set_default_refuses_a_regression_names_the_figures_and_records_a_forced_override(settings, registry):
    registry.set_default(OLD)
    registry.set_default(NEW)  # gate off: anything goes
    registry.set_default(OLD)
    gate.configure(settings, set_name="qa", metric="lf_bleu4", threshold=0.5)
    with pytest.raises(ConflictError) as no_run:
        registry.set_default(NEW)
    assert no_run.value.key == "err.gate.no_evidence" and "'qa'" in no_run.value.message("en")
    write_run(settings, "ev-20260101-000000-aaaaaa", {NEW: {"bleu-4": 20.0}, OLD: {"bleu-4": 25.0}})
    with pytest.raises(ConflictError) as refused:
        registry.set_default(NEW)
    message = refused.value.message("en")
    assert refused.value.key == "err.gate.refused" and "20" in message and "25" in message and "-5" in message
    assert "ev-20260101-000000-aaaaaa" in refused.value.message("zh")
    assert registry.default().id == OLD and "gate_overrides" not in registry.get(NEW).lineage
    forced = registry.set_default(NEW, force=True)
    assert registry.default().id == NEW
    (override,) = forced.lineage["gate_overrides"]
    assert (override["passed"], override["candidate_figure"], override["previous_figure"], override["run_id"]) == (
        False, 20.0, 25.0, "ev-20260101-000000-aaaaaa")
    assert override["previous"] == OLD and override["forced_at"]
    # Going back to the better version passes the gate on the same run and records nothing.
    assert "gate_overrides" not in registry.set_default(OLD).lineage
    assert registry.set_default(None) is None


def test_loop_make_current_compares_with_the_version_it_was_trained_from(settings, registry, tmp_path):
    training = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    loop = LoopService(settings, registry, training, training.runner, PrefsStore(settings.prefs_path))
    child = registry.add_adapter("tiny", OLD, str(fake_adapter(tmp_path / "round1")))  # tiny@v1.2, parent v1.0
    registry.set_default(NEW)  # the default is not what the round is compared with
    gate.configure(settings, set_name="qa", metric="exact_match", threshold=0.0)
    write_run(settings, "ev-20260101-000000-aaaaaa", {child.id: {"exact_match": 0.4}, OLD: {"exact_match": 0.5},
                                                      NEW: {"exact_match": 0.1}})
    with pytest.raises(ConflictError) as refused:
        loop.make_current(child.id)
    assert refused.value.params["previous"] == OLD and refused.value.params["candidate_figure"] == "0.4"
    assert loop.make_current(child.id, force=True).lineage["gate_overrides"][0]["previous"] == OLD
    with pytest.raises(LLMOpsError) as info:
        loop.make_current()
    assert info.value.key == "err.loop_no_round"


def test_cli_show_set_check_off(settings):
    write_run(settings, "ev-20260101-000000-aaaaaa", {NEW: {"bleu-4": 20.0}, OLD: {"bleu-4": 25.0}})
    assert cli("gate", "show").stdout.strip() == "The regression gate is off."
    assert cli("gate", "check", NEW, OLD).returncode == 2  # never set, and no --set/--metric named
    made = cli("gate", "set", "--set", "qa", "--metric", "bleu-4", "--threshold", "6", "--json")
    assert made.returncode == 0 and json.loads(made.stdout)["metric"] == "lf_bleu4"
    passed = cli("gate", "check", NEW, OLD, "--json")
    verdict = json.loads(passed.stdout)
    assert passed.returncode == 0 and verdict["passed"] and verdict["delta"] == -5.0 and verdict["threshold"] == 6.0
    failed = cli("gate", "check", NEW, OLD, "--threshold", "1")
    assert failed.returncode == 1 and "Gate failed" in failed.stdout and "25" in failed.stdout
    assert cli("gate", "set", "--set", "qa", "--metric", "bleu-4", "--threshold", "-1").returncode == 2
    assert cli("gate", "off").returncode == 0 and not json.loads(cli("gate", "show", "--json").stdout)["enabled"]
    # Off keeps its set and metric: an explicit check still reads them; the models service no longer refuses.
    assert cli("gate", "check", NEW, OLD).returncode == 0
    assert cli("gate", "check", NEW, OLD, "--set", "qa", "--metric", "lf_bleu4", "--threshold", "0").returncode == 1
