"""Real tiny trainings that continue from a checkpoint-N of an earlier run, and resume an interrupted one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmops.errors import LLMOpsError
from llmops.lf.trainer_log import read_progress
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.device import DeviceInfo
from llmops.services.training import TrainingService
from llmops.settings import Settings

QUICK = {"logging_steps": 1, "gradient_accumulation_steps": 1, "cutoff_len": 128, "warmup_ratio": 0.0}


@pytest.fixture(scope="module")
def first_run(demo_model_dir, tmp_path_factory) -> Path:
    """One 4-step LoRA SFT run saving checkpoint-2 and checkpoint-4, shared by the module."""
    settings = Settings(home=tmp_path_factory.mktemp("first_home"))
    settings.ensure_dirs()
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], run_name="first", max_steps=4, save_steps=2,
                           **QUICK)
    _, job = service.launch_config(config)
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    return Path(job.run_dir)


@pytest.fixture
def service(settings):
    return TrainingService(settings, JobRunner(settings), device=DeviceInfo())


def test_continue_from_a_checkpoint_of_a_finished_run(service, settings, demo_model_dir, first_run):
    shutil.copytree(first_run, settings.checkpoints_dir / "first")
    sources = dict(service.continue_sources())
    assert list(sources)[:2] == ["first/checkpoint-2", "first/checkpoint-4"]
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], adapter_name_or_path=sources["first/checkpoint-2"],
                           run_name="second", max_steps=2, save_steps=1000, **QUICK)
    saved, job = service.launch_config(config)
    assert "adapter_name_or_path: checkpoints/first/checkpoint-2" in saved.path.read_text(encoding="utf-8")
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    out = Path(job.run_dir)
    assert (out / "adapter_model.safetensors").is_file() and read_progress(out).current_steps == 2
    assert "Loaded adapter(s): checkpoints/first/checkpoint-2" in (out / "job.log").read_text(encoding="utf-8")


def test_resume_an_interrupted_run_in_its_own_folder(service, settings, demo_model_dir, first_run):
    run = settings.checkpoints_dir / "first"
    shutil.copytree(first_run, run)
    # What an interrupted run looks like: checkpoints, no final results, progress logged up to step 2.
    shutil.rmtree(run / "checkpoint-4")
    for name in ("train_results.json", "all_results.json", "adapter_model.safetensors"):
        (run / name).unlink()
    log = run / "trainer_log.jsonl"
    log.write_text("".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    assert [label for label, _ in service.resume_sources()] == ["first/checkpoint-2"]
    assert all(not label.startswith("first/") for label, _ in service.continue_sources())
    other = service.build("sft", str(demo_model_dir), ["sample_sft"], resume_from_checkpoint=str(run / "checkpoint-2"),
                          run_name="elsewhere", max_steps=4, save_steps=2, **QUICK)
    with pytest.raises(LLMOpsError) as info:
        service.render(other)
    assert info.value.key == "err.train.resume_other_run" and "first" in info.value.message("zh")
    config = other.model_copy(update={"run_name": None})
    saved, job = service.launch_config(config)
    assert saved.output_dir == run
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    # Steps 3 and 4 follow the two logged before the interruption: training picked up at step 2, not at 0.
    assert read_progress(run).steps == [1, 2, 3, 4] and (run / "adapter_model.safetensors").is_file()
    assert (run / "train_config.yaml").is_file() and list(run.glob("train_config_resume_*.yaml"))


def test_resume_refuses_what_is_not_a_checkpoint(service, settings, demo_model_dir):
    cases = [("checkpoints/none/checkpoint-9", "err.train.resume_missing")]
    stray = settings.checkpoints_dir / "run" / "notes"
    stray.mkdir(parents=True)
    cases.append((str(stray), "err.train.resume_not_checkpoint"))
    outside = settings.home / "elsewhere" / "checkpoint-1"
    outside.mkdir(parents=True)
    (outside / "trainer_state.json").write_text("{}", encoding="utf-8")
    cases.append((str(outside), "err.train.resume_not_checkpoint"))
    for path, key in cases:
        config = service.build("sft", str(demo_model_dir), ["sample_sft"], resume_from_checkpoint=path)
        with pytest.raises(LLMOpsError) as info:
            service.render(config)
        assert info.value.key == key, (path, info.value.key)
        assert info.value.message("zh") != info.value.message("en")
