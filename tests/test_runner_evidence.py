"""A lost watcher: the job's status comes from the evidence its run folder holds, per job kind."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from llmops.lf.trainer_log import read_progress
from llmops.runner import evidence, procs
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.container import build_services
from llmops.services.device import DeviceInfo
from llmops.services.training import TrainingService
from tests.test_runner import spec, wait_for


@pytest.fixture
def service(settings):
    return TrainingService(settings, JobRunner(settings), device=DeviceInfo())


def _launch_sft(service, demo_model_dir, max_steps: int):
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], max_steps=max_steps, logging_steps=1,
                           gradient_accumulation_steps=1, save_steps=100000, cutoff_len=256)
    return service.launch_config(config)[1]


def test_a_trainer_that_finished_unwatched_is_completed_and_becomes_a_version(settings, service, demo_model_dir):
    runner = service.runner
    job = _launch_sft(service, demo_model_dir, max_steps=4)
    job = wait_for(lambda: (j := runner.get(job.id)).pid and j, timeout=120)
    os.kill(job.sup_pid, signal.SIGKILL)  # the watcher dies right after the trainer started
    assert procs.wait_gone([job.sup_pid], 10)
    assert runner.get(job.id).status is JobStatus.RUNNING  # re-attached: same pid, same start time
    assert procs.wait_gone([job.pid], 240), runner.log_tail(job.id, 30)
    done = runner.wait(job.id, 30)
    assert done.status is JobStatus.COMPLETED, (done.message, runner.log_tail(job.id, 30))
    assert done.exit_code is None and "exit code unknown" in done.message and "step 4/4" in done.message
    assert (Path(done.run_dir) / "adapter_model.safetensors").exists()
    services = build_services(settings)
    services.sync_models()
    versions = [m for m in services.models.list() if m.lineage.get("job_id") == job.id]
    assert len(versions) == 1 and versions[0].kind == "adapter"


def test_a_trainer_killed_mid_way_is_lost_with_its_last_step(service, demo_model_dir):
    runner = service.runner
    job = _launch_sft(service, demo_model_dir, max_steps=100000)
    run_dir = Path(job.run_dir)
    job = wait_for(lambda: (j := runner.get(job.id)).pid and read_progress(run_dir).current_steps >= 2 and j,
                   timeout=180)
    os.kill(job.sup_pid, signal.SIGKILL)
    os.killpg(job.pid, signal.SIGKILL)
    assert procs.wait_gone([job.sup_pid, job.pid], 10)
    lost = runner.wait(job.id, 30)
    last = read_progress(run_dir)
    assert lost.status is JobStatus.LOST and lost.exit_code is None
    assert f"last logged step {last.current_steps}/{last.total_steps}" in lost.message and last.current_steps >= 2
    assert not (run_dir / "all_results.json").exists()


def _fake_results(run_dir: Path, steps: int) -> None:
    """What a finished LLaMA-Factory run leaves: weights, final results and its log (for the rules, not a run)."""
    (run_dir / "adapter_model.safetensors").write_bytes(b"weights")
    for name in ("train_results.json", "all_results.json"):
        (run_dir / name).write_text(json.dumps({"train_loss": 1.0}), encoding="utf-8")
    with open(run_dir / "trainer_log.jsonl", "w", encoding="utf-8") as log:
        for step in range(1, steps + 1):
            log.write(json.dumps({"current_steps": step, "total_steps": steps, "loss": 1.0}) + "\n")


def test_the_rules_per_kind(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    assert evidence.judge("train", run, False).status is JobStatus.LOST
    _fake_results(run, 3)
    assert evidence.judge("train", run, False).status is JobStatus.COMPLETED
    assert evidence.judge("train", run, True).status is JobStatus.STOPPED  # stopped early, yet saved
    (run / "all_results.json").write_text('{"train_loss": 1.', encoding="utf-8")  # cut while being written
    verdict = evidence.judge("train", run, False)
    assert verdict.status is JobStatus.LOST and "last logged step 3/3" in verdict.message
    assert evidence.judge("no-such-kind", run, False).status is JobStatus.LOST
    from llmops.services.jobkinds import kinds

    kinds()  # kinds that bring their own rule register it when they load (build_services loads them all)
    rules = {e.kind: e for e in evidence.entries()}
    assert sorted(rules) == ["benchmark", "corpus", "datagen", "dedup", "eval", "mergekit", "mockprefs", "serve",
                            "surgery_average", "surgery_convert", "surgery_export", "surgery_gguf", "surgery_sweep", "train"]
    assert evidence.judge("serve", run, True).status is JobStatus.STOPPED
    assert evidence.judge("serve", run, False).status is JobStatus.LOST
    assert "all_results.json" in rules["train"].proves_completion
    # A worker job is proven done by the result.json it writes last.
    assert evidence.judge("corpus", run, False).status is JobStatus.LOST
    (run / evidence.RESULT_FILE).write_text("{}", encoding="utf-8")
    assert evidence.judge("corpus", run, False).status is JobStatus.COMPLETED
    assert evidence.judge("datagen", run, True).status is JobStatus.STOPPED


def test_a_kind_adds_its_own_rule_through_the_registry(settings):
    def judge(run_dir: Path, stop_requested: bool) -> evidence.Verdict:
        done = (run_dir / "done.txt").exists()
        return evidence.Verdict(JobStatus.COMPLETED if done else JobStatus.LOST, "judged by done.txt")

    evidence.register(evidence.KindEvidence("test", "done.txt in the run folder", judge))
    try:
        runner = JobRunner(settings)
        done_file = settings.checkpoints_dir / "ev" / "done.txt"
        code = f"import pathlib, time; time.sleep(1.5); pathlib.Path({str(done_file)!r}).write_text('ok')"
        job = runner.submit(spec(settings, "ev", code))
        job = wait_for(lambda: (j := runner.get(job.id)).pid and j)
        os.kill(job.sup_pid, signal.SIGKILL)
        assert procs.wait_gone([job.sup_pid, job.pid], 20)
        time.sleep(0.2)
        ended = runner.get(job.id)
        assert ended.status is JobStatus.COMPLETED and ended.message == "judged by done.txt"
    finally:
        evidence._REGISTRY.pop("test", None)
