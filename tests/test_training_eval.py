"""Evaluation while training: an eval dataset scored every N steps, its loss in the trainer log and the live chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.i18n import t
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.device import DeviceInfo
from llmops.services.jobs import JobsService
from llmops.services.training import TrainingService
from llmops.ui.charts import loss_figure

QUICK = {"max_steps": 4, "logging_steps": 1, "gradient_accumulation_steps": 1, "save_steps": 1000, "cutoff_len": 128}


@pytest.fixture
def service(settings):
    return TrainingService(settings, JobRunner(settings), device=DeviceInfo())


def test_sft_with_an_eval_dataset_logs_eval_loss_into_the_chart(service, demo_model_dir):
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], eval_dataset="sample_sft", eval_steps=2,
                           **QUICK)
    saved, job = service.launch_config(config)
    assert "eval_dataset: sample_sft" in saved.path.read_text(encoding="utf-8")
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    lines = [json.loads(line) for line in (Path(job.run_dir) / "trainer_log.jsonl").read_text().splitlines()]
    evals = [line for line in lines if "eval_loss" in line]
    assert [line["current_steps"] for line in evals] == [2, 4]  # every eval_steps, nothing else
    details = JobsService(service.runner).details(job.id)
    assert details.progress.eval_steps == [2, 4]
    assert details.progress.eval_loss == [line["eval_loss"] for line in evals]
    figure = loss_figure(details.progress, job.name, "en")
    traces = {trace.name: trace for trace in figure.data}
    eval_trace = traces[t("ui.chart.eval_loss", "en")]
    assert list(eval_trace.x) == [2, 4] and list(eval_trace.y) == details.progress.eval_loss
    assert len(traces[t("ui.chart.loss", "en")].x) == 4


def test_a_loaded_yaml_keeps_its_eval_dataset(service, demo_model_dir):
    config = service.build("dpo", str(demo_model_dir), ["sample_dpo"], eval_dataset="sample_dpo", eval_steps=5)
    saved = service.save(config)
    (saved.path.with_suffix(".llmops.json")).unlink()  # read back from the YAML alone
    loaded = service.load_config(saved.path)
    assert loaded.eval_dataset == "sample_dpo" and loaded.eval_steps == 5 and loaded.val_size == 0.0
    plain = service.build("sft", str(demo_model_dir), ["sample_sft"])
    assert service.render(plain).args["eval_strategy"] == "no" and "eval_dataset" not in service.render(plain).args
