"""The CLI face: train config / launch --wait, jobs list/show/logs/stop, errors in the user's language."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.apphelpers import ROOT


def cli(*args, env=None, timeout=240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmops", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_config_launch_wait_and_jobs(settings, demo_model_dir):
    made = cli("train", "config", "--stage", "sft", "--model", str(demo_model_dir), "--dataset", "sample_sft",
               "--set", "max_steps=3", "--set", "logging_steps=1", "--set", "cutoff_len=256",
               "--set", "gradient_accumulation_steps=1")
    assert made.returncode == 0, made.stderr
    path = made.stdout.splitlines()[0]
    assert path.startswith(str(settings.generated_configs_dir)) and "llamafactory-cli train configs/llmops/sft_config_" \
        in made.stdout and "NNODES=" in made.stdout
    launched = cli("train", "launch", path, "--wait")
    assert launched.returncode == 0, launched.stdout + launched.stderr
    job_id = launched.stdout.split()[0]
    listed = json.loads(cli("jobs", "list", "--json").stdout)
    assert listed[0]["id"] == job_id and listed[0]["status"] == "COMPLETED"
    shown = json.loads(cli("jobs", "show", job_id, "--json").stdout)
    assert shown["exit_code"] == 0 and shown["meta"]["stage"] == "sft"
    assert "train_loss" in cli("jobs", "logs", job_id).stdout
    assert json.loads(cli("jobs", "stop", job_id, "--json").stdout)["status"] == "COMPLETED"


def test_failed_job_makes_launch_wait_exit_nonzero(settings, demo_model_dir):
    made = cli("train", "config", "--stage", "pt", "--model", str(demo_model_dir), "--dataset", "sample_pt",
               "--set", "max_steps=2", "--set", "template=chatml")
    path = made.stdout.splitlines()[0]
    # Make the model folder unusable after validation, so LLaMA-Factory itself fails.
    text = open(path, encoding="utf-8").read().replace(str(demo_model_dir), str(settings.home / "gone"))
    broken = settings.generated_configs_dir / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    result = cli("train", "launch", str(broken), "--wait")
    assert result.returncode == 1 and "FAILED" in result.stdout


def test_errors_are_clear_and_localised(settings, demo_model_dir):
    bad = cli("train", "config", "--stage", "sft", "--model", str(demo_model_dir), "--dataset", "sample_sft",
              "--set", "learning_rat=1")
    assert bad.returncode == 2 and "Unknown setting 'learning_rat'" in bad.stderr
    zh = cli("train", "config", "--stage", "dpo", "--model", str(demo_model_dir), "--dataset", "sample_sft",
             env={"LLMOPS_LANG": "zh"})
    assert zh.returncode == 2 and "偏好" not in zh.stderr and "数据集“sample_sft”" in zh.stderr
    escape = cli("train", "launch", "/etc/passwd")
    assert escape.returncode == 2
    assert cli("jobs", "show", "nope").returncode == 2


def test_dataset_dir_import_registers_the_dataset(settings, demo_model_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.json").write_text(json.dumps([{"instruction": "q", "input": "", "output": "a"}]), encoding="utf-8")
    (other / "dataset_info.json").write_text(json.dumps({"mine": {"file_name": "mine.json"}}), encoding="utf-8")
    made = cli("train", "config", "--stage", "sft", "--model", str(demo_model_dir), "--dataset", "mine",
               "--dataset-dir", str(other))
    assert made.returncode == 0, made.stderr
    info = json.loads(settings.dataset_info_path.read_text(encoding="utf-8"))
    assert info["mine"]["file_name"] == str(other / "mine.json")


def test_demo_model_command(tmp_path):
    out = tmp_path / "tiny"
    result = cli("demo-model", str(out))
    assert result.returncode == 0 and (out / "config.json").exists() and (out / "chat_template.jinja").exists()
