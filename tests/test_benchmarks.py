"""Standard benchmarks: lm-eval's hf backend on the tiny model through the `benchmark` job, local tasks only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmops.errors import LLMOpsError
from llmops.schemas.jobs import JobStatus
from llmops.services.container import build_services
from llmops.services.evaluation import benchmarks
from llmops.services.evaluation.run_folder import RunFolder, list_runs
from llmops.services.models import ModelRegistry

from .test_cli import ROOT, cli

TASKS = {"llmops_gsm_zh_mini": "exact_match,first_number", "llmops_ceval_zh_mini": "acc,none"}


def error_key(call) -> str:
    with pytest.raises(LLMOpsError) as info:
        call()
    return info.value.key


def _lora_adapter(base: Path, out: Path) -> Path:
    """A real (random) LoRA adapter on the tiny model, saved by peft."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base)
    get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
                   ).save_pretrained(out)
    return out


def test_both_example_tasks_run_through_the_job_with_exact_counts(settings, demo_model_dir):
    registry = ModelRegistry(settings)
    base = registry.add_base("tiny", str(demo_model_dir))
    examples = benchmarks.example_tasks(settings)
    assert sorted(path.name for path in examples) == ["ceval_zh_mini.yaml", "gsm_zh_mini.yaml"]
    done = cli("eval", "benchmark", "--model", base.id, "--tasks", "gsm_zh_mini.yaml,ceval_zh_mini.yaml", "--wait",
               "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data["tasks"]) == set(TASKS) and data["model"] == base.id and data["lm_eval_version"] == "0.4.13"
    for name, metric in TASKS.items():
        task = data["tasks"][name]
        assert (task["samples"], task["effective"], task["original"]) == (5, 5, 5)
        assert 0.0 <= task["metrics"][metric] <= 1.0  # any value: the tiny model answers at random
    folder = RunFolder(settings, data["run_id"])
    assert [run.run_id for run in list_runs(settings)] == [folder.run_id]
    assert folder.config().set == "benchmark:llmops_gsm_zh_mini,llmops_ceval_zh_mini" and folder.config().models == [
        base.id]
    summary = folder.summary()
    assert summary.kind == "benchmark" and summary.status == "complete" and summary.samples == 10
    assert summary.models[base.id].metrics["llmops_ceval_zh_mini/acc,none"] == data["tasks"][
        "llmops_ceval_zh_mini"]["metrics"]["acc,none"]
    lines = [json.loads(line) for line in (folder.path / benchmarks.SAMPLES_FILE).read_text().splitlines()]
    assert [line["task"] for line in lines].count("llmops_gsm_zh_mini") == 5 and len(lines) == 10
    frozen = folder.path / "tasks" / "llmops_ceval_zh_mini" / "test-ceval_zh_mini.jsonl"
    assert frozen.read_bytes() == (settings.benchmarks_dir / "ceval_zh_mini.jsonl").read_bytes()
    assert not (folder.path / ".cache").exists()


def test_an_adapter_version_runs_with_a_limit(settings, demo_model_dir, tmp_path):
    registry = ModelRegistry(settings)
    base = registry.add_base("tiny", str(demo_model_dir))
    adapter = registry.add_adapter("tiny", base.id, str(_lora_adapter(demo_model_dir, settings.home / "lora")))
    services = build_services(settings)
    folder, job = benchmarks.start_benchmark(settings, services.runner, adapter.id,
                                             [settings.benchmarks_dir / "ceval_zh_mini.yaml"], limit=2)
    job = services.reconciler.wait_applied(job.id, timeout_s=240)
    assert job.status is JobStatus.COMPLETED, services.runner.log_tail(job.id, 40)
    assert job.apply_result["tasks"]["llmops_ceval_zh_mini"]["samples"] == 2
    data = benchmarks.read_results(settings, folder.run_id)
    assert data["limit"] == 2 and data["tasks"]["llmops_ceval_zh_mini"]["effective"] == 2
    assert folder.summary().models[adapter.id].samples == 2


def test_tasks_that_reach_beyond_local_files_and_endpoints_are_refused(settings, demo_model_dir, tmp_path):
    registry = ModelRegistry(settings)
    base = registry.add_base("tiny", str(demo_model_dir))
    endpoint = registry.add_endpoint("api", "http://127.0.0.1:9/v1", "tiny")
    good = settings.benchmarks_dir / "gsm_zh_mini.yaml"
    assert error_key(lambda: benchmarks.prepare_run(settings, endpoint.id, [good])) == "err.bench.needs_local"
    tasks = settings.home / "tasks"
    tasks.mkdir()
    (tasks / "hub.yaml").write_text("task: hub\ndataset_path: gsm8k\n", encoding="utf-8")
    (tasks / "code.yaml").write_text("task: code\ndataset_path: json\nprocess_docs: !function utils.p\n",
                                     encoding="utf-8")
    (tasks / "nodata.yaml").write_text("task: nodata\ndataset_path: json\ndataset_kwargs:\n  data_files:\n"
                                       "    test: missing.jsonl\n", encoding="utf-8")
    (tasks / "include.yaml").write_text("include: other.yaml\ntask: inc\ndataset_path: json\n", encoding="utf-8")
    for name, key in (("hub", "err.bench.task_not_local"), ("code", "err.bench.task_invalid"),
                      ("nodata", "err.bench.task_missing"), ("include", "err.bench.task_not_local")):
        assert error_key(lambda n=name: benchmarks.prepare_run(settings, base.id, [tasks / f"{n}.yaml"])) == key, name
    assert error_key(lambda: benchmarks.prepare_run(settings, base.id, [good, good])) == "err.bench.duplicate_task"
    assert error_key(lambda: benchmarks.prepare_run(settings, base.id, [])) == "err.bench.no_tasks"
    assert list_runs(settings) == []  # nothing refused left a folder behind


def test_the_app_never_imports_lm_eval():
    probe = ("import sys, app, llmops.cli.main, llmops.services.container, llmops.services.jobkinds.registry as r; "
             "r.kinds(); print('lm_eval' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr
