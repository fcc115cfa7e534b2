"""Pipelines: refusals before anything runs, the online round end to end (promoted only through its gate), a failed
stage resumed without redoing the first, and a run continued by a freshly built app on the same home."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from llmops.errors import LLMOpsError
from llmops.services.container import build_services
from llmops.services.evaluation.run_folder import RunFolder
from llmops.services.lineage.service import LineageService
from llmops.services.prefs import Vote
from llmops.settings import Settings

from .test_cli import ROOT, cli

TEMPLATES = ROOT / "configs" / "pipelines"
FAST = {"max_steps": 1, "logging_steps": 1, "gradient_accumulation_steps": 1, "cutoff_len": 128}


def _drive(services, run_id: str, timeout_s: float = 200.0):
    """Reconciler passes (as the app's background thread runs them) until the run is no longer running."""
    deadline = time.monotonic() + timeout_s
    while True:
        services.reconciler.run_once()
        state = services.pipelines.show(run_id)
        if state.status != "running" or time.monotonic() > deadline:
            return state
        time.sleep(0.3)


def _refusal(services, text: str) -> LLMOpsError:
    with pytest.raises(LLMOpsError) as caught:
        services.pipelines.validate(text, "p.yaml")
    return caught.value


def _pipeline(*stages: dict, name: str = "p") -> str:
    return yaml.safe_dump({"name": name, "stages": list(stages)}, allow_unicode=True)


def _base(settings, demo_model_dir):
    services = build_services(settings)
    base = services.models.add_base("demo", str(demo_model_dir), template="chatml")
    services.models.set_default(base.id)
    return services, base


def test_refusals_name_what_is_wrong_in_both_languages(settings, demo_model_dir):
    services, base = _base(settings, demo_model_dir)
    sft = {"id": "sft", "kind": "train", "params": {"stage": "sft", "model": base.id, "datasets": ["sample_sft"]}}
    gate = {"id": "gate", "kind": "gate", "params": {"candidate": "${stages.sft.outputs.model}",
                                                      "previous": "${current}", "set": "s", "metric": "exact_match"}}
    unknown = _refusal(services, _pipeline({**sft, "retries": 3}, gate))
    assert unknown.key == "err.pl_invalid" and "retries" in unknown.message("en")
    assert "不是有效的流水线" in unknown.message("zh") and "retries" in unknown.message("zh")
    missing = _refusal(services, _pipeline(gate))
    assert missing.key == "err.pl_unknown_stage" and missing.params == {"stage": "gate", "ref": "sft"}
    assert "本流水线没有这个阶段" in missing.message("zh")
    bad_output = _refusal(services, _pipeline(sft, {**gate, "params": {**gate["params"],
                                                                         "candidate": "${stages.sft.outputs.run}"}}))
    assert bad_output.key == "err.pl_unknown_output" and "model, output_dir, job" in bad_output.message("en")
    assert "只产出" in bad_output.message("zh")
    cycle = _refusal(services, _pipeline({**sft, "needs": ["gate"]}, gate))
    assert cycle.key == "err.pl_cycle" and cycle.params["cycle"] in ("sft -> gate -> sft", "gate -> sft -> gate")
    assert "形成了环" in cycle.message("zh")
    bad_config = _refusal(services, _pipeline({**sft, "params": {**sft["params"],
                                                                  "config": {"learning_rate": 5.0}}}))
    assert bad_config.key == "err.pl_stage_config" and "Stage sft (train)" in bad_config.message("en")
    assert "learning_rate" in bad_config.message("en") and "阶段 sft（train）" in bad_config.message("zh")
    bad_metric = _refusal(services, _pipeline(sft, {**gate, "params": {**gate["params"], "metric": "nope"}}))
    assert bad_metric.key == "err.pl_stage_config" and "Stage gate" in bad_metric.message("en")
    assert not services.pipelines.list() and not services.runner.list()  # nothing was recorded or queued
    for template, count in (("online_round", 5), ("rlhf", 5), ("demo", 8)):
        path, body = services.pipelines.read_file(template)
        graph, previews = services.pipelines.validate(body, str(path))
        assert [p.id for p in previews] == graph.order and len(previews) == count
    assert previews[0].config["params"]["sources"] == [str(settings.sample_docs_dir)]  # demo: ${install}/data/docs
    for job_kind, why in (("nope", "err.pl_job_kind"), ("train", "err.pl_job_kind"),
                          ("corpus", "err.gen_options_invalid")):  # corpus without its required sources
        bad_job = _refusal(services, _pipeline({"id": "j", "kind": "job", "params": {"job_kind": job_kind}}))
        assert bad_job.key == "err.pl_stage_config" and bad_job.params["reason"].key == why, job_kind
    assert "没有名为 nope 的工作任务类型" in _refusal(services, _pipeline(
        {"id": "j", "kind": "job", "params": {"job_kind": "nope"}})).message("zh")
    done = cli("pipeline", "validate", "online_round", "--json")
    assert done.returncode == 0, done.stderr
    assert [s["id"] for s in json.loads(done.stdout)["stages"]] == ["votes", "dpo", "evaluate", "gate", "promote"]
    (settings.home / "bad.yaml").write_text(_pipeline({**sft, "needs": ["gate"]}, gate), encoding="utf-8")
    refused = cli("pipeline", "validate", str(settings.home / "bad.yaml"), env={"LLMOPS_LANG": "zh"})
    assert refused.returncode == 2 and "形成了环" in refused.stderr
    gate_only = settings.pipelines_dir / "gate_only.yaml"
    gate_only.parent.mkdir(parents=True)
    outside = settings.home.parent / "outside.yaml"  # beside the workspace, reached by climbing out of configs/
    outside.write_text(_pipeline(sft), encoding="utf-8")
    climbed = f"../../../{outside.name}"
    assert (settings.pipelines_dir / climbed).is_file()  # the folder exists: the climb reaches the file
    with pytest.raises(LLMOpsError):
        services.pipelines.read_file(climbed)
    gate_only.write_text(_pipeline(gate, name="gate_only").replace("${stages.sft.outputs.model}", "a@v1.1"),
                         encoding="utf-8")
    before = services.workspace.revision()
    ran = cli("pipeline", "run", "gate_only", "--wait")
    assert "pipelines" in services.workspace.changed(before, services.workspace.revision())
    assert ran.returncode == 1 and re.search(r"gate\s+failed", ran.stdout) and "a@v1.1" in ran.stdout
    listed = json.loads(cli("pipeline", "list", "--json").stdout)
    assert [(r["name"], r["status"]) for r in listed] == [("gate_only", "failed")]


def _online_round(settings, *, lr: float | None = None, eval_set: str | None = None, metric: str = "lf_rougeL"):
    """The shipped online-round template, sized for the tiny model (one DPO step, two samples)."""
    data = yaml.safe_load((TEMPLATES / "online_round.yaml").read_text(encoding="utf-8"))
    stages = {stage["id"]: stage for stage in data["stages"]}
    stages["dpo"]["params"]["config"] = {**FAST, **({"learning_rate": lr, "warmup_ratio": 0.0} if lr else {})}
    stages["evaluate"]["params"].update(limit=2, generation={"max_new_tokens": 8})
    if eval_set:
        stages["evaluate"]["params"].update(set=eval_set, metrics=[metric])
        stages["gate"]["params"].update(set=eval_set, metric=metric)
    return yaml.safe_dump(data, allow_unicode=True)


def test_online_round_promotes_only_through_its_gate(settings, demo_model_dir):
    services, base = _base(settings, demo_model_dir)
    for i in range(4):
        services.prefs.append(Vote(prompt=f"q{i}", model_a=base.id, model_b="other@v1.0", response_a=f"good {i}",
                                   response_b=f"bad {i}", winner="a"))
    state = _drive(services, services.pipelines.start(_online_round(settings), "online_round.yaml").run_id)
    assert state.status == "completed", {sid: services.pipelines.reason(s) for sid, s in state.stages.items()}
    out = {sid: stage.outputs for sid, stage in state.stages.items()}
    new = services.models.get(out["dpo"]["model"])
    assert out["votes"]["pairs"] == 4 and new.lineage["parent_id"] == base.id
    assert new.lineage["datasets"] == [out["votes"]["dataset"]]
    assert out["gate"]["passed"] is True and out["gate"]["run"] == out["evaluate"]["run"]
    assert services.models.default().id == new.id == out["promote"]["model"]
    assert sorted(job.kind for job in services.runner.list()) == ["eval", "train"]
    # Where the promoted version came from, as the services recorded it: the votes, the DPO data, the job, the
    # evaluation that gated it and its parent.
    ancestors = {n.id: n for n in LineageService(settings).ancestors(new.id)}
    batch = next(n for n in ancestors.values() if n.kind == "votes_batch")
    assert batch.details["count"] == 4 and batch.details["file"].endswith(f"{out['votes']['dataset']}.jsonl")
    assert any(n.kind == "dataset_version" and n.id.startswith(out["votes"]["dataset"]) for n in ancestors.values())
    assert ancestors[out["dpo"]["job"]].kind == "job" and ancestors[out["evaluate"]["run"]].kind == "eval_run"
    assert base.id in ancestors
    # The planted regression: a set whose references are what the new version answered, and a round whose one
    # DPO step is taken at learning rate 1.0 — the candidate then no longer says what its parent said.
    said = [p for p in RunFolder(settings, out["evaluate"]["run"]).predictions() if p.model == new.id]
    assert len(said) == 2 and all(p.output for p in said)
    regress = settings.home / "regress.jsonl"
    regress.write_text("".join(json.dumps({"prompt": p.prompt, "reference": p.output}) + "\n" for p in said),
                       encoding="utf-8")
    second = _drive(services, services.pipelines.start(
        _online_round(settings, lr=1.0, eval_set=str(regress), metric="exact_match"), "online_round.yaml").run_id)
    stages = second.stages
    assert second.status == "failed" and second.current == new.id
    assert [stages[s].status for s in second.order] == ["completed", "completed", "completed", "failed", "blocked"]
    verdict = stages["gate"].outputs["verdict"]
    assert verdict["previous_figure"] == 100.0 and verdict["candidate_figure"] < 100.0 and not verdict["passed"]
    reason = services.pipelines.reason(stages["gate"])
    assert stages["dpo"].outputs["model"] in reason and new.id in reason
    assert "gate" in services.pipelines.reason(stages["promote"])
    assert services.models.default().id == new.id  # not promoted
    assert len(services.runner.list()) == 4


def test_a_failed_stage_resumes_and_a_restarted_app_finishes_the_run(settings, demo_model_dir):
    services, base = _base(settings, demo_model_dir)
    dpo_file = settings.data_dir / "pl_dpo.jsonl"
    rows = [{"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(3)]
    services.datasets.register_entry("pl_dpo", {"file_name": dpo_file.name, "ranking": True, "formatting": "alpaca",
                                                "columns": {"prompt": "prompt", "chosen": "chosen",
                                                            "rejected": "rejected"}})
    text = _pipeline({"id": "sft", "kind": "train", "params": {"stage": "sft", "model": base.id,
                                                               "datasets": ["sample_sft"], "config": FAST}},
                     {"id": "dpo", "kind": "train", "params": {"stage": "dpo", "model": "${stages.sft.outputs.model}",
                                                               "datasets": ["pl_dpo"], "config": FAST}})
    state = _drive(services, services.pipelines.start(text, "two.yaml").run_id)  # the DPO data file is missing
    sft, dpo = state.stages["sft"], state.stages["dpo"]
    assert (state.status, sft.status, dpo.status) == ("failed", "completed", "failed")
    assert str(dpo_file) in services.pipelines.reason(dpo) and dpo.jobs == []
    first_job = sft.job_id
    # A finished stage's output deleted: resume refuses and names it.
    moved = Path(sft.outputs["output_dir"]).with_name("moved-away")
    shutil.move(sft.outputs["output_dir"], moved)
    with pytest.raises(LLMOpsError) as gone:
        services.pipelines.resume(state.run_id)
    assert gone.value.key == "err.pl_outputs_gone" and "sft.output_dir" in gone.value.message("en")
    shutil.move(moved, sft.outputs["output_dir"])
    dpo_file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    resumed = services.pipelines.resume(state.run_id)
    assert resumed.stages["dpo"].status == "running" and resumed.stages["sft"].job_id == first_job
    # Stop ends the running job and the run; resume queues the stage again (a new job, the first stage kept).
    stopped = services.pipelines.stop(state.run_id, wait_s=60)
    assert (stopped.status, stopped.stages["dpo"].status) == ("stopped", "stopped")
    assert services.runner.get(stopped.stages["dpo"].job_id).status.value == "STOPPED"
    assert services.pipelines.advance(state.run_id).status == "stopped"  # a stopped run is not advanced
    resumed = services.pipelines.resume(state.run_id)
    assert len(resumed.stages["dpo"].jobs) == 2 and resumed.stages["sft"].job_id == first_job
    # The app goes away mid-pipeline; a fresh one built on the same home picks the run up.
    services.reconciler.stop()
    del services
    fresh = build_services(Settings.from_env())
    done = _drive(fresh, state.run_id)
    assert done.status == "completed", fresh.pipelines.reason(done.stages["dpo"])
    assert done.stages["sft"].job_id == first_job and len(fresh.runner.list()) == 3
    dpo_version = fresh.models.get(done.stages["dpo"].outputs["model"])
    assert dpo_version.lineage["parent_id"] == done.stages["sft"].outputs["model"]
    shown = cli("pipeline", "show", state.run_id)
    assert shown.returncode == 0 and "completed (stage 2 of 2)" in shown.stdout


def test_the_pipelines_tab_validates_saves_runs_and_shows_why_a_stage_failed(settings, app_factory):
    from tests.apphelpers import connect

    client = connect(app_factory(lang="zh").url)
    text, command = client.predict("online_round", api_name="/pipeline_load")
    assert "kind: export_votes" in text and command.endswith("online_round.yaml --wait")
    verdict, preview = client.predict(text, "online_round", "zh", api_name="/pipeline_validate")
    assert verdict == "online_round：5 个阶段，有效。"
    shown = yaml.safe_load(preview)
    assert [s["id"] for s in shown] == ["votes", "dpo", "evaluate", "gate", "promote"]
    assert shown[1]["config"]["datasets"] == ["<votes.dataset>"] and shown[1]["config"]["max_steps"] == 10
    with pytest.raises(Exception, match="不是有效的流水线"):
        client.predict(text.replace("min_pairs: 1", "min_pairs: 1, retries: 2"), "x", "zh",
                       api_name="/pipeline_validate")
    saved, command = client.predict(text, "my_round", "zh", api_name="/pipeline_save")
    assert (settings.pipelines_dir / "my_round.yaml").read_text(encoding="utf-8") == text
    assert command == "python -m llmops pipeline run my_round --wait"
    # A gate with no evaluation to read: the run fails at once, and the stage says why in the page's language.
    gate_only = _pipeline({"id": "gate", "kind": "gate", "params": {"candidate": "a@v1.1", "previous": "a@v1.0",
                                                                    "set": "qa", "metric": "exact_match"}})
    note, run_id, head, stages = client.predict(gate_only, "gate_only", "zh", api_name="/pipeline_run")
    assert run_id in note and "failed" in head and "第 1 / 1 阶段" in head
    row = stages["data"][0]
    assert row[:3] == ["gate", "gate", "failed"] and "qa" in row[5] and row[5] != "" and "a@v1.1" in row[5]
    head, _ = client.predict(run_id, "zh", api_name="/pipeline_show")
    assert "pipeline run gate_only" in head


def test_a_grpo_train_stage_is_checked_then_trains_on_the_second_engine(settings, demo_model_dir):
    services, base = _base(settings, demo_model_dir)
    grpo = {"id": "grpo", "kind": "train", "params": {
        "stage": "grpo", "model": base.id, "datasets": ["sample_verifiable"],
        "config": {"max_steps": 1, "prompts_per_step": 1, "num_generations": 2, "max_completion_length": 4,
                   "logging_steps": 1}}}
    two = _refusal(services, _pipeline({**grpo, "params": {**grpo["params"], "datasets": ["a", "b"]}}))
    assert two.params["reason"].key == "err.pl_grpo_one_dataset" and "只在一个" in two.message("zh")
    no_solution = _refusal(services, _pipeline({**grpo, "params": {**grpo["params"], "datasets": ["sample_sft"]}}))
    assert no_solution.key == "err.pl_stage_config" and "solution" in no_solution.message("en")
    _, previews = services.pipelines.validate(_pipeline(grpo), "p.yaml")
    assert previews[0].config["num_generations"] == 2 and previews[0].config["parent_model_id"] == base.id
    state = _drive(services, services.pipelines.start(_pipeline(grpo, name="grpo_round"), "p.yaml").run_id)
    assert state.status == "completed", services.pipelines.reason(state.stages["grpo"])
    version = services.models.get(state.stages["grpo"].outputs["model"])
    assert version.lineage["stage"] == "grpo" and version.lineage["parent_id"] == base.id
    job = services.runner.get(state.stages["grpo"].outputs["job"])
    assert job.meta["engine"] == "trl" and job.meta["pipeline"]
