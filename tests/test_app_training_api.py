"""The Training tab's endpoints driven through gradio_client against the real app; the app is killed mid-run."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from llmops.lf.trainer_log import read_progress
from llmops.runner import procs
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.training import TrainingService
from llmops.ui.tabs.training import _planner_split, form_fields

from .apphelpers import connect, finished


def form(settings, stage: str, model: str, dataset: str, **changes) -> list:
    """Positional inputs of a stage form, from the stage defaults plus `changes`."""
    defaults = TrainingService(settings, JobRunner(settings)).form_defaults(stage)
    values = []
    for spec in form_fields(stage):
        value = changes.get(spec.name, defaults.get(spec.name))
        if spec.kind == "choice" and spec.optional:
            value = "none" if value is None else str(value)
        elif value is None:
            value = "" if spec.kind in ("text", "source") else 0
        values.append(value)
    return [model, "chatml", [dataset], *values]


@pytest.fixture
def app(app_factory):
    return app_factory()


def test_preview_save_and_errors_through_the_api(app, settings, demo_model_dir):
    client = connect(app.url)
    yaml_text, _, status = client.predict(*form(settings, "sft", str(demo_model_dir), "sample_sft"),
                                          api_name="/sft_preview")
    assert "stage: sft" in yaml_text and "checkpoints/" in status
    yaml_text, command, status = client.predict(*form(settings, "dpo", str(demo_model_dir), "sample_dpo"),
                                                api_name="/dpo_save")
    assert "llamafactory-cli train configs/llmops/dpo_config_" in command
    assert len(list(settings.generated_configs_dir.glob("dpo_config_*.yaml"))) == 1
    inputs, split = form(settings, "sft", "Qwen/Qwen2.5-7B-Instruct", "sample_sft"), 3 + _planner_split("sft")
    advice = client.predict(*inputs[:split], 1, 24, 0, *inputs[split:], api_name="/sft_plan")
    assert "GB" in advice and "DeepSpeed" in advice
    with pytest.raises(Exception, match="learning_rate"):
        client.predict(*form(settings, "sft", str(demo_model_dir), "sample_sft", learning_rate=-1),
                       api_name="/sft_preview")
    with pytest.raises(Exception, match="preference"):
        client.predict(*form(settings, "dpo", str(demo_model_dir), "sample_sft"), api_name="/dpo_preview")


def test_app_killed_mid_run_shows_true_state_after_restart(app, settings, demo_model_dir):
    client = connect(app.url)
    short_run = form(settings, "pt", str(demo_model_dir), "sample_pt", max_steps=12, logging_steps=1, cutoff_len=256,
                     gradient_accumulation_steps=1, save_steps=100000, run_name="short")
    *_, short_id = client.predict(*short_run, api_name="/pt_launch")
    long_run = form(settings, "sft", str(demo_model_dir), "sample_sft", max_steps=100000, logging_steps=1,
                    gradient_accumulation_steps=1, save_steps=100000, run_name="long")
    *_, long_id = client.predict(*long_run, api_name="/sft_launch")
    runner = JobRunner(settings)
    deadline = time.monotonic() + 120
    while runner.get(short_id).status is not JobStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runner.get(long_id).status is JobStatus.PENDING  # one job at a time on one device set
    app.kill()  # the app dies; its jobs must not

    # With no app running, the first job completes and the queued one starts by itself.
    finished(runner, short_id, 180)
    deadline = time.monotonic() + 120
    while read_progress(Path(runner.get(long_id).run_dir)).current_steps < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runner.get(long_id).status is JobStatus.RUNNING
    app.start()
    client = connect(app.url)
    rows, _, status, _, log = client.predict(long_id, api_name="/refresh_jobs")
    states = {row[0]: row[3] for row in rows["data"]}
    assert states[long_id] == "RUNNING" and states[short_id] == "COMPLETED"
    assert "RUNNING" in status and log

    job = runner.get(long_id)
    tree = [p.pid for p in procs.tree(job.pid)]
    rows, _, status, _, _ = client.predict(long_id, api_name="/stop_job")
    assert runner.wait(long_id, 60).status is JobStatus.STOPPED
    assert procs.wait_gone(tree, 10)


def test_job_killed_while_app_was_down_shows_lost(app, settings, demo_model_dir):
    client = connect(app.url)
    run = form(settings, "sft", str(demo_model_dir), "sample_sft", max_steps=100000, logging_steps=1,
               gradient_accumulation_steps=1, save_steps=100000, run_name="doomed")
    *_, job_id = client.predict(*run, api_name="/sft_launch")
    runner = JobRunner(settings)
    deadline = time.monotonic() + 60
    while not runner.get(job_id).pid and time.monotonic() < deadline:
        time.sleep(0.2)
    app.kill()
    job = runner.store.get(job_id)
    os.kill(job.sup_pid, signal.SIGKILL)
    os.killpg(job.pid, signal.SIGKILL)  # as if the machine had rebooted
    procs.wait_gone([job.sup_pid, job.pid], 10)
    app.start()
    rows, *_ = connect(app.url).predict(job_id, api_name="/refresh_jobs")
    assert {row[0]: row[3] for row in rows["data"]}[job_id] == "LOST"


def test_copy_command_load_and_dataset_preview_through_the_api(app, settings, demo_model_dir):
    client = connect(app.url)
    inputs = form(settings, "sft", str(demo_model_dir), "sample_sft", learning_rate=3e-4)
    _, first, _ = client.predict(*inputs, api_name="/sft_command")
    _, second, status = client.predict(*inputs, api_name="/sft_command")
    assert first == second and "reusing" in status
    saved = list(settings.generated_configs_dir.glob("sft_config_*.yaml"))
    text = saved[0].read_text(encoding="utf-8")
    assert len(saved) == 1 and "\ntrust_remote_code" not in text and "# trust_remote_code: off" in text
    loaded = client.predict(saved[0].name, api_name="/sft_load_config")
    assert loaded[0] == str(demo_model_dir) and loaded[2] == ["sample_sft"] and len(loaded) == 4 + len(
        form_fields("sft"))
    names = [spec.name for spec in form_fields("sft")]
    assert loaded[3 + names.index("learning_rate")] == 3e-4
    with pytest.raises(Exception, match="sft"):
        client.predict(saved[0].name, api_name="/dpo_load_config")
    table, shown = client.predict(["sample_sft"], api_name="/sft_dataset_preview")
    rows = table["value"]["data"]
    assert table["headers"] and len(rows) == 5 and "sample_sft" in shown, table
    client.predict("tiny", str(demo_model_dir), api_name="/models_add_local")
    client.predict("tiny@v1.0", True, False, api_name="/models_set_load_options")
    yaml_text, _, _ = client.predict(*inputs, api_name="/sft_preview")
    assert "\ntrust_remote_code: true" in yaml_text and "# trust_remote_code: ON for" in yaml_text


def test_named_json_api_previews_saves_and_refuses_unknown_keys_in_chinese(settings, demo_model_dir, app_factory):
    proc = app_factory(lang="zh")
    client = connect(proc.url)
    request = {"stage": "sft", "model": str(demo_model_dir), "datasets": ["sample_sft"],
               "config": {"learning_rate": 3e-4, "max_steps": 2, "run_name": "named"},
               "target": {"gpus_per_node": 4, "nnodes": 3}}
    shown = client.predict(request, api_name="/train_preview")
    assert "stage: sft" in shown["yaml"] and "learning_rate: 0.0003" in shown["yaml"]
    assert shown["output_dir"].endswith("checkpoints/named")
    assert not list(settings.generated_configs_dir.glob("*.yaml"))  # a preview writes nothing
    saved = client.predict(request, "en", api_name="/train_save")
    files = list(settings.generated_configs_dir.glob("sft_config_*.yaml"))
    assert len(files) == 1 and saved["config_path"].endswith(files[0].name)
    assert "NPROC_PER_NODE=4 " in saved["command"] and "NNODES=3 " in saved["command"]
    with pytest.raises(Exception, match="未知键：lerning_rate") as refused:
        client.predict({**request, "config": {"lerning_rate": 1e-4}}, api_name="/train_save")
    assert "learning_rate" in str(refused.value)  # the message lists what is accepted
    assert len(list(settings.generated_configs_dir.glob("*.yaml"))) == 1
