"""Surgery and benchmark jobs on an SSH box (a real throwaway `sshd` on 127.0.0.1): a ratio sweep, a checkpoint
average, an lm-eval benchmark and the scoring of every checkpoint each run there through the same job-worker, their inputs shipped or found on the
box, and come back to be registered or read here; a box that cannot run them is refused before anything exists."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import pytest
import yaml

from llmops.errors import InvalidInputError
from llmops.schemas.jobs import JobStatus
from llmops.services.container import build_services
from llmops.services.evaluation import benchmarks
from llmops.services.evaluation.run_folder import list_runs
from llmops.services.surgery import sweep as sw
from llmops.services.surgery.averaging import start_average
from tests.surgeryruns import copy_run
from tests.test_targets import _remote
from tests.test_targets_ssh import sshd  # noqa: F401  (the module's own sshd on loopback)

SAMPLES = [{"prompt": "What is LLaMA-Factory?", "reference": "A framework for fine-tuning language models."},
           {"prompt": "什么是模型合并？", "reference": "把多个模型的参数合成一个模型。"}]


def test_sweep_average_and_benchmark_run_on_the_box(sshd, settings, demo_model_dir, perturbed_model,  # noqa: F811
                                                    lora_run_with_eval, tmp_path):
    port, good, _, _ = sshd
    services = build_services(settings)
    box = {"type": "ssh", "user_host": f"{getpass.getuser()}@127.0.0.1", "port": port, "key_file": str(good),
           "remote_dir": str(tmp_path / "remote")}
    services.targets.add({**box, "name": "box", "python": sys.executable})
    services.targets.add({**box, "name": "bare", "python": "/usr/bin/python3"})  # no pydantic, mergekit or lm_eval
    base = services.models.add_base("tiny", str(demo_model_dir))
    other = services.models.add_base("tiny-b", str(perturbed_model))
    settings.eval_sets_dir.mkdir(parents=True, exist_ok=True)
    (settings.eval_sets_dir / "two.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in SAMPLES),
                                                      encoding="utf-8")
    run = copy_run(lora_run_with_eval[2], settings)
    task = settings.benchmarks_dir / "ceval_zh_mini.yaml"

    # Refused before any job, sweep folder or run folder exists, in both languages.
    plan = sw.plan_sweep(settings, "linear", [base.id, other.id], "two", grid="0,1", name="far-sweep")
    with pytest.raises(InvalidInputError, match="cannot import") as caught:
        sw.start_sweep(services.jobs, plan, "bare")
    assert "无法导入" in caught.value.message("zh") and not plan.folder.exists()
    with pytest.raises(InvalidInputError, match="lm_eval"):
        benchmarks.start_benchmark(settings, services.runner, base.id, [task], limit=2, target="bare")
    assert list_runs(settings) == [] and services.runner.list() == []

    sweep_job = sw.start_sweep(services.jobs, plan, "box")
    average_job = start_average(settings, services.runner, str(run), ["checkpoint-2", "checkpoint-4"],
                                name="far-swa", target="box")
    folder, bench_job = benchmarks.start_benchmark(settings, services.runner, base.id, [task], limit=2, target="box")
    assert {job.meta["target"] for job in (sweep_job, average_job, bench_job)} == {"box"}

    swept = services.reconciler.wait_applied(sweep_job.id, 240)
    assert swept.status is JobStatus.COMPLETED, services.runner.log_tail(swept.id, 60)
    result = swept.apply_result
    kept = Path(result["path"])
    assert kept == settings.models_dir / "far-sweep" and (kept / "model.safetensors").is_file()  # back here
    points = sw.read_points(plan.folder)  # the points scored over there came back into the sweep's folder
    assert [p["ratio"] for p in points] == [0.0, 1.0] and all(p["score"] > 1 for p in points)
    assert result["best"]["ratio"] == min(points, key=lambda p: p["score"])["ratio"]
    entry = services.models.get(result["model_id"])
    assert Path(entry.path) == kept and entry.lineage["operation"] == "sweep"
    there = Path(_remote(swept)["root"])
    assert (there / "sweep" / sw.POINTS_FILE).is_file()  # scored in the far side's own copy of the folder

    averaged = services.reconciler.wait_applied(average_job.id, 240)
    assert averaged.status is JobStatus.COMPLETED, services.runner.log_tail(averaged.id, 60)
    result = averaged.apply_result
    assert result["path"] == str(settings.models_dir / "far-swa") and Path(result["path"], "config.json").is_file()
    entry = services.models.get(result["model_id"])
    assert entry.lineage["checkpoints"] == ["checkpoint-2", "checkpoint-4"] and entry.lineage["run"] == str(run)
    there = Path(_remote(averaged)["root"])
    assert sorted(p.name for p in (there / "checkpoints").iterdir()) == ["checkpoint-2", "checkpoint-4"]  # shipped

    done = services.reconciler.wait_applied(bench_job.id, 240)
    assert done.status is JobStatus.COMPLETED, services.runner.log_tail(done.id, 60)
    assert done.apply_result["tasks"]["llmops_ceval_zh_mini"]["samples"] == 2
    assert benchmarks.read_results(settings, folder.run_id)["tasks"]["llmops_ceval_zh_mini"]["effective"] == 2
    there = Path(_remote(done)["root"]) / "home" / folder.path.relative_to(settings.home)
    frozen = yaml.safe_load((there / "tasks" / "llmops_ceval_zh_mini" / "llmops_ceval_zh_mini.yaml").read_text())
    assert all(path.startswith(str(there)) for path in frozen["dataset_kwargs"]["data_files"].values())
    # Every checkpoint of a run scored there in one evaluation: each checkpoint is read at its path on the box.
    tuned = services.models.add_adapter("tuned", base.id, str(run))
    scored_folder, scored_job = services.evals.score_checkpoints(
        tuned.id, {"set": "two", "metrics": ["exact_match"], "generation": {"max_new_tokens": 4}}, target="box")
    scored = services.reconciler.wait_applied(scored_job.id, 240)
    assert scored.status is JobStatus.COMPLETED, services.runner.log_tail(scored.id, 60)
    summary = services.evals.show(scored_folder.run_id).summary
    assert sorted(summary.models) == sorted([*(f"{tuned.id}#checkpoint-{n}" for n in (2, 4, 6)), tuned.id])
    assert summary.done == 8 == summary.total
    for job in (swept, averaged, done, scored):
        assert "[target] remote exit status 0" in services.runner.log_tail(job.id, 400)
