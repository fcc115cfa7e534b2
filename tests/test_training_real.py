"""Real LLaMA-Factory trainings of the tiny local model, through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.lf.trainer_log import read_progress
from llmops.runner import procs
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.device import DeviceInfo
from llmops.services.training import TrainingService

QUICK = {"max_steps": 6, "logging_steps": 1, "gradient_accumulation_steps": 1, "save_steps": 1000, "cutoff_len": 256}


@pytest.fixture
def service(settings):
    return TrainingService(settings, JobRunner(settings), device=DeviceInfo())


@pytest.mark.parametrize("stage, dataset, finetuning, artifact", [
    ("pt", "sample_pt", "full", "model.safetensors"),
    ("sft", "sample_sft", "lora", "adapter_model.safetensors"),
    ("dpo", "sample_dpo", "lora", "adapter_model.safetensors"),
])
def test_stage_trains_to_completion(service, demo_model_dir, stage, dataset, finetuning, artifact):
    config = service.build(stage, str(demo_model_dir), [dataset], finetuning_type=finetuning,
                           val_size=0.1, eval_steps=3, **QUICK)
    saved, job = service.launch_config(config)
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    out = Path(job.run_dir)
    assert (out / artifact).exists() and (out / "train_config.yaml").exists() and (out / "run.json").exists()
    assert (out / "train_config.yaml").read_text() == saved.path.read_text()
    progress = read_progress(out)
    assert progress.total_steps == 6 and progress.current_steps == 6
    assert len([x for x in progress.loss if x is not None]) >= 5
    assert progress.eval_loss, "eval_loss must be recorded when val_size > 0"
    if stage == "dpo":
        assert any(a is not None for a in progress.accuracy)
    assert json.loads((out / "run.json").read_text())["stage"] == stage


def test_running_training_is_stopped_and_nothing_survives(service, demo_model_dir):
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], max_steps=100000, logging_steps=1,
                           gradient_accumulation_steps=1, save_steps=100000)
    _, job = service.launch_config(config)
    runner = service.runner
    deadline_job = runner.wait(job.id, 0)
    for _ in range(600):
        deadline_job = runner.get(job.id)
        if read_progress(Path(deadline_job.run_dir)).current_steps >= 3:
            break
        import time
        time.sleep(0.1)
    assert read_progress(Path(deadline_job.run_dir)).current_steps >= 3, runner.log_tail(job.id, 30)
    tree = [p.pid for p in procs.tree(deadline_job.pid)]
    stopped = runner.stop(job.id, wait_s=60)
    assert stopped.status is JobStatus.STOPPED
    assert procs.wait_gone(tree + [stopped.sup_pid], 10)
    # LLaMA-Factory stopped gracefully on SIGABRT and still saved the adapter.
    assert (Path(stopped.run_dir) / "adapter_model.safetensors").exists()
