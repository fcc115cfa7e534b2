"""`python app.py --demo`: its own workspace filled by running the shipped demo pipeline on the tiny model, and an
app killed in the middle of it that, restarted, carries the same run on to the end."""

from __future__ import annotations

import time

import pytest

from llmops.services.container import build_services
from llmops.settings import Settings

DEMO_STAGES = ["corpus", "cpt", "sft", "votes", "dpo_data", "dpo", "evaluate", "merge"]


def _run_state(home):
    """The demo run as its store holds it (read only: this process applies nothing)."""
    services = build_services(Settings(home=home))
    runs = [run for run in services.pipelines.list() if run.name == "demo"]
    return services, runs


def _wait(home, done, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        services, runs = _run_state(home)
        if runs and done(runs[0]):
            return services, runs
        time.sleep(0.5)
    states = {sid: (s.status, services.pipelines.reason(s)) for sid, s in runs[0].stages.items()} if runs else None
    raise AssertionError(f"demo run never {what}: {states}")


@pytest.mark.timeout(900)
def test_demo_fills_its_own_workspace_and_survives_a_killed_app(settings, tmp_path, app_factory):
    demo_home = tmp_path / "demo"
    env = {"LLMOPS_DEMO_HOME": str(demo_home)}
    started = time.monotonic()
    app = app_factory(env=env, args=("--demo",))
    # Killed once the run is training (a crash: the job's own supervisor keeps the trainer going).
    _wait(demo_home, lambda run: run.stages["cpt"].status == "running", 240, "reached its CPT stage")
    app.kill()
    app = app_factory(env=env, args=("--demo",))
    services, runs = _wait(demo_home, lambda run: run.status != "running", 600, "finished")
    wall_s = time.monotonic() - started
    run = runs[0]
    assert len(runs) == 1, "the restarted app carried the same run on instead of starting another"
    assert run.status == "completed", {sid: services.pipelines.reason(s) for sid, s in run.stages.items()}
    assert run.order == DEMO_STAGES
    # Each stage's job ran once: the kill did not make the restarted app submit a stage again.
    job_ids = [job for stage in run.stages.values() for job in stage.jobs]
    assert len(job_ids) == len(set(job_ids)) == len(services.runner.list()) == 7
    # Every figure the demo shows came from these runs.
    versions = {entry.id: entry for entry in services.models.list()}
    merged = versions[run.stages["merge"].outputs["model"]]
    dpo = versions[run.stages["dpo"].outputs["model"]]
    assert merged.kind == "merged" and dpo.lineage["parent_id"] == run.stages["sft"].outputs["model"]
    summary = services.evals.show(run.stages["evaluate"].outputs["run"]).summary
    assert set(summary.models) == {dpo.id, run.stages["sft"].outputs["model"]}
    assert summary.done == 16 and all(
        isinstance(m.metrics.get("rouge-l"), float) for m in summary.models.values())
    counts = services.dashboard.snapshot().counts
    assert counts.versions == len(versions) >= 5 and counts.jobs_total == 7 and counts.votes_total == 16
    # The normal workspace was never touched.
    normal = build_services(settings)
    assert not normal.runner.list() and not normal.pipelines.list()
    print(f"demo pipeline completed in {wall_s:.0f} s, app killed and restarted once")
