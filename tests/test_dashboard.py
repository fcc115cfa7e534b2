"""The dashboard's figures are the workspace's own: counts from each registry, disk from the filesystem, GPUs
from NVML (or why there are none), in the service, the CLI, the API and the page."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llmops.cli.main import main as cli_main
from llmops.schemas.eval_runs import EvalRunConfig, ModelSummary, RunSummary
from llmops.schemas.evaluation import EvalSample
from llmops.schemas.jobs import JobSpec, JobStatus
from llmops.schemas.votes import Vote
from llmops.services import jobkinds
from llmops.services.container import build_services
from llmops.services.datasets import DatasetRegistry
from llmops.services.evaluation.run_folder import RunFolder, new_run_id
from llmops.services.jobs import ProgressView
from llmops.services.sysinfo import GpuProbe
from llmops.ui.tabs.dashboard import running_html, system_html

from .test_browser import pytestmark as needs_browser

NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")  # the driver's own list of boards, independent of NVML


def expected_gpus() -> int:
    return len(list(NVIDIA_PROC.iterdir())) if NVIDIA_PROC.is_dir() else 0


def _vote(days_ago: float, winner: str = "a") -> Vote:
    ts = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="milliseconds")
    return Vote(prompt="q", model_a="m@v1", model_b="m@v2", response_a="x", response_b="y", winner=winner, ts=ts)


def _write_sft(path: Path, rows: list[dict]) -> Path:
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def _model_folder(settings, name: str) -> Path:
    folder = settings.models_dir / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    return folder


def _eval_run(settings, models: list[str], figure: float) -> str:
    """A run folder written through its owner, with a summary, as an evaluation job leaves it."""
    run_id = new_run_id()
    folder = RunFolder(settings, run_id)
    folder.create(EvalRunConfig(run_id=run_id, models=models, set="smoke", name="smoke run"),
                  [EvalSample(prompt="p", reference="r")])
    folder.write_summary(RunSummary(run_id=run_id, set="smoke", samples=1, done=len(models), total=len(models),
                                    status="complete", metrics=["exact_match"],
                                    models={m: ModelSummary(samples=1, metrics={"exact_match": figure})
                                            for m in models}))
    return run_id


def test_snapshot_figures_match_the_workspace(settings, tmp_path, capsys):
    services = build_services(settings)
    dash = services.dashboard
    empty = [dash.snapshot() for _ in range(5)]
    assert min(s.took_ms for s in empty) < 100, [s.took_ms for s in empty]  # an empty workspace is instant
    first = empty[-1]
    assert first.counts.datasets == len(services.datasets.entries())
    assert (first.counts.versions, first.counts.jobs_total, first.counts.votes_total) == (0, 0, 0)
    assert set(first.counts.jobs) == {s.value for s in JobStatus} and first.current is None

    rows = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(4)]
    services.datasets.upload(str(_write_sft(tmp_path / "dup.json", rows + rows[:2])), "dupset", "auto")
    job = jobkinds.submit(settings, services.runner, "dedup", {"name": "dupset", "near": False}, "dedup for dash")
    seen = dash.snapshot()
    assert job.id in {j.id for j in seen.running} | {j.id for j in seen.recent_jobs}
    done = services.reconciler.wait_applied(job.id, timeout_s=120)
    assert done.status is JobStatus.COMPLETED, services.runner.log_tail(job.id, 40)
    assert services.jobs.progress_view(done) == ProgressView("1/1", 100.0, "0:00:00")  # the worker's progress.json

    # A queued training whose folder already holds LLaMA-Factory's log (as a re-attached run's does).
    run_dir = settings.checkpoints_dir / "queued-train"
    run_dir.mkdir(parents=True)
    (run_dir / "trainer_log.jsonl").write_text(json.dumps({
        "current_steps": 3, "total_steps": 10, "loss": 1.5, "percentage": 30.0, "elapsed_time": "0:00:03",
        "remaining_time": "0:00:07"}) + "\n", encoding="utf-8")
    queued = services.runner.store.create(JobSpec(kind="train", name="queued", argv=["-"], cwd=str(settings.home),
                                                  run_dir=str(run_dir)), str(run_dir / "job.log"))
    running = {j.id: j for j in dash.running()}
    assert (running[queued.id].progress, running[queued.id].percent, running[queued.id].eta) == ("3/10", 30.0,
                                                                                                 "0:00:07")
    assert "width:30.0%" in running_html(list(running.values()), "en")
    services.runner.store.finish(queued.id, JobStatus.STOPPED, None, "test row")

    endpoint = services.models.add_endpoint("served", "http://127.0.0.1:9/v1", "tiny")
    merged = services.models.add_merged("blend", str(_model_folder(settings, "blend")),
                                        lineage={"operation": "linear", "inputs": [endpoint.id, "other@v1.0"]})
    services.models.set_default(merged.id, force=True)
    older = _eval_run(settings, [merged.id], 0.25)
    time.sleep(1.1)  # run ids are stamped to the second
    newest = _eval_run(settings, [merged.id, endpoint.id], 0.5)
    for days_ago in (0, 3, 6.5, 10, 30):
        services.prefs.append(_vote(days_ago))

    snap = dash.snapshot()
    counts = snap.counts
    assert counts.datasets == len(services.datasets.entries()) == len(DatasetRegistry(settings).table())
    assert counts.versions == len(services.models.list()) == 2
    assert counts.jobs == {s.value: len([j for j in services.runner.list(1000) if j.status is s]) for s in JobStatus}
    assert (counts.jobs["COMPLETED"], counts.jobs["STOPPED"]) == (1, 1) and not snap.running
    today = datetime.now(UTC).date()
    by_ts = [v for v in services.prefs.read().votes
             if (today - datetime.fromisoformat(v.ts).astimezone(UTC).date()).days < 7]
    assert (counts.votes_week, counts.votes_total) == (len(by_ts), services.prefs.aggregates().total()) == (3, 5)
    assert [j.id for j in snap.recent_jobs] == [queued.id, job.id] and snap.recent_jobs[1].status == "COMPLETED"
    assert [r.run_id for r in snap.recent_evals] == [newest, older]
    assert snap.recent_merges[0].id == merged.id and snap.recent_merges[0].operation == "linear"
    assert snap.recent_merges[0].inputs == [endpoint.id, "other@v1.0"]
    assert snap.current.id == merged.id and snap.current.last_eval.run_id == newest
    assert snap.current.last_eval.metrics[merged.id] == {"exact_match": 0.5}

    disk = shutil.disk_usage(settings.home)
    system = snap.system
    assert system.disk_total == disk.total and system.disk_path == str(settings.home)
    assert abs(system.disk_free - disk.free) < 256 << 20  # other writers share the filesystem
    assert 0 < system.memory_used < system.memory_total and 0.0 <= system.cpu_percent <= 100.0
    assert len(system.gpu.gpus) == expected_gpus()
    if not expected_gpus():
        assert not system.gpu.present and system.gpu.reason  # says why, shows no zeros
        page = system_html(system, "en")
        assert "No GPU: NVML" in page and "dash-gpu0" not in page
    for gpu in system.gpu.gpus:
        assert gpu.name and 0 < gpu.memory_total and 0 <= gpu.memory_used <= gpu.memory_total

    assert cli_main(["dashboard", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["counts"] == {**snap.to_dict()["counts"]} and printed["current"]["id"] == merged.id
    assert printed["system"]["gpu"]["present"] is system.gpu.present
    assert cli_main(["dashboard"]) == 0
    text = capsys.readouterr().out
    assert "versions 2" in text and "votes 3 this week" in text and f"current: {merged.id}" in text


def test_machines_without_nvml_say_no_gpu():
    if expected_gpus():
        pytest.skip("this machine has an NVIDIA driver; the snapshot test checks its boards")
    status = GpuProbe().status()  # the real binding: no shared library here, so NVMLError_LibraryNotFound
    assert not status.present and "NVML" in status.reason and status.gpus == ()
    assert GpuProbe().status() == status  # the same answer every time, not a flicker of zeros
    missing = GpuProbe("llmops_no_such_nvml_binding").status()
    assert not missing.present and "not installed" in missing.reason


@needs_browser
def test_dashboard_is_the_first_tab_and_follows_new_datasets(settings, app_factory, tmp_path):
    from tests.apphelpers import connect

    from .test_browser import app_page

    registry = DatasetRegistry(settings)
    services = build_services(settings)
    services.prefs.append(_vote(1))
    app = app_factory()
    outputs = connect(app.url).predict(api_name="/dashboard_refresh")
    raw = outputs[6]
    assert raw["counts"]["datasets"] == len(registry.entries()) and raw["counts"]["votes_total"] == 1
    assert "No GPU" in outputs[-1] or expected_gpus()
    with app_page(app) as page:
        page.get_by_role("tab", name="Dashboard", selected=True).wait_for(timeout=10000)
        value = page.locator("#dash-datasets .dash-value")
        value.wait_for(timeout=15000)
        assert value.inner_text() == str(len(registry.entries()))
        assert page.locator("#dash-votes .dash-value").inner_text() == "1"
        registry.register_file(_write_sft(tmp_path / "fresh.json", [{"instruction": "q", "output": "a"}]),
                               "fresh_set", "auto")  # another writer; the page is not reloaded
        expected = str(len(registry.entries()))
        page.wait_for_function("([sel, want]) => document.querySelector(sel)?.innerText === want",
                               arg=["#dash-datasets .dash-value", expected], timeout=30000)
        page.get_by_text("Disk (workspace)").wait_for(timeout=10000)  # the system panel filled with the page
