"""Jobs for real use: the log viewer's levels and search, runs compared, restart (fresh and resumed), delete."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from llmops.cli.main import main
from llmops.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from llmops.schemas.jobs import JobSpec, JobStatus
from llmops.services import jobs_logs
from llmops.services.container import build_services
from llmops.services.jobs_admin import plan_text
from llmops.settings import Settings
from tests.apphelpers import finished

LOG = """[INFO|2026-01-01 10:00:00] llamafactory.cli:12 >> starting
plain progress line
[WARNING|2026-01-01 10:00:01] transformers:3 >> deprecated <thing> & co
/x/y.py:7: UserWarning: slow path
  warnings.warn(
Traceback (most recent call last):
  File "train.py", line 3, in <module>
    main()
ValueError: bad <value>
after the traceback
ERROR:root:lost connection
DEBUG something
error rate fell to 0.1
RuntimeError: boom again
"""
LEVELS = ["INFO", "INFO", "WARNING", "WARNING", "WARNING", "ERROR", "ERROR", "ERROR", "ERROR", "INFO", "ERROR", "DEBUG",
          "INFO", "ERROR"]


def test_levels_filters_search_and_highlight_on_a_written_log(tmp_path):
    path = tmp_path / "job.log"
    path.write_text(LOG, encoding="utf-8")
    assert [line.level for line in jobs_logs.classify(LOG.splitlines())] == LEVELS
    counts = {level: len(jobs_logs.view(path, level=level).lines) for level in jobs_logs.FILTERS}
    assert counts == {"ALL": 14, "INFO": 13, "WARNING": 9, "ERROR": 6}
    errors = jobs_logs.view(path, level="error")
    assert [line.text for line in errors.lines][-3:] == ["ValueError: bad <value>", "ERROR:root:lost connection",
                                                         "RuntimeError: boom again"]
    found = jobs_logs.view(path, query="VALUE")
    assert found.matches == 1 and [line.text for line in found.lines] == ["ValueError: bad <value>"]
    assert jobs_logs.to_html(found.lines, "VALUE") == ('<pre class="llmops-log"><span class="log-error"><mark>Value'
                                                        '</mark>Error: bad &lt;<mark>value</mark>&gt;</span></pre>')
    angle = jobs_logs.view(path, query="<", level="WARNING")
    assert angle.matches == 3 and len(angle.lines) == 3  # all three '<' lines are warnings or errors
    assert "<mark>&lt;</mark>thing&gt; &amp; co" in jobs_logs.to_html(angle.lines, "<")
    with pytest.raises(Exception, match="Unknown log level"):
        jobs_logs.view(path, level="LOUD")


def test_big_log_reads_only_its_tail_and_a_follower_only_new_lines(tmp_path):
    path = tmp_path / "big.log"
    row = "x" * 99 + "\n"
    path.write_text(row * 30_000 + "[ERROR] last one\n", encoding="utf-8")  # about 3 MB
    tail = jobs_logs.view(path, window_bytes=1024 * 1024)
    assert tail.truncated and tail.scanned == (1024 * 1024 - 17) // 100 + 1 and tail.lines[-1].text == "[ERROR] last one"
    assert all(line.text == row.strip() for line in tail.lines[:-1])  # the cut first line was skipped
    assert [line.text for line in jobs_logs.view(path, level="ERROR", window_bytes=None).lines] == ["[ERROR] last one"]
    cursor = jobs_logs.start_cursor(path)
    assert len(jobs_logs.read_new(path, cursor)) == (64 * 1024 - 17) // 100 + 1  # whole rows, then the last
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("step 1\rstep 2\nhalf a li")
    assert [(line.text, line.level) for line in jobs_logs.read_new(path, cursor)] == [("step 2", "INFO")]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("ne\n")
    assert [line.text for line in jobs_logs.read_new(path, cursor)] == ["half a line"]
    assert jobs_logs.read_new(path, cursor) == []


@pytest.fixture(scope="module")
def studio(demo_model_dir, tmp_path_factory):
    """(settings, services, a finished 1-step LoRA SFT job with checkpoint-1, a finished corpus job), one home."""
    settings = Settings(home=tmp_path_factory.mktemp("jobs_admin_home"), stop_grace_s=5.0)
    services = build_services(settings)
    config = services.training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="once", max_steps=1,
                                     save_steps=1, logging_steps=1, gradient_accumulation_steps=1, cutoff_len=64,
                                     warmup_ratio=0.0)
    _, train = services.training.launch_config(config)
    corpus = services.jobs.submit("corpus", {"sources": ["preset"], "options": {"max_tokens": 256}}, "corpus a")
    # Neither is finished yet: restart and delete refuse both, and nothing is touched.
    for job in (train, corpus):
        with pytest.raises(ConflictError, match="only a finished job can be restarted"):
            services.jobs_admin.restart(job.id)
        with pytest.raises(ConflictError, match="never deleted"):
            services.jobs_admin.delete(job.id)
    assert Path(train.run_dir).is_dir() and services.runner.get(train.id)
    return (settings, services, finished(services.runner, train.id, 240), finished(services.runner, corpus.id, 240))


def _cli(monkeypatch, capsys, settings, *args) -> tuple[int, str]:
    monkeypatch.setenv("LLMOPS_HOME", str(settings.home))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def _allocated(folder: Path) -> int:
    paths = [folder, *folder.rglob("*")]
    return sum(os.lstat(path).st_blocks * 512 for path in paths)


def test_restart_resume_and_fresh_compare_and_delete_a_real_training(studio, monkeypatch, capsys):
    settings, services, train, _ = studio
    run_dir = Path(train.run_dir)
    resumed = services.jobs_admin.restart(train.id, resume=True)
    assert resumed.mode == "resume" and resumed.checkpoint == str(run_dir / "checkpoint-1")
    assert resumed.job.run_dir == str(run_dir) and resumed.job.meta["restarted_from"] == train.id
    finished(services.runner, resumed.job.id, 240)
    assert list(run_dir.glob("train_config_resume_*.yaml"))
    assert any("Resuming training from checkpoint" in line.text
               for line in jobs_logs.view(resumed.job.log_path, query="resuming", level="INFO").lines)

    # A fresh restart: same config in a new folder, compared while it starts, then stopped (so a stopped run is
    # what gets deleted, and the suite pays for one training less).
    code, out = _cli(monkeypatch, capsys, settings, "jobs", "restart", train.id, "--json")
    assert code == 0, out
    fresh = services.runner.get(json.loads(out)["job_id"])
    assert Path(fresh.run_dir) == settings.checkpoints_dir / "once-r2" and fresh.meta["restart_mode"] == "fresh"
    comparison = services.jobs_admin.compare([train.id, fresh.id, train.id])
    assert [job.id for job in comparison.jobs] == [train.id, fresh.id] and comparison.differing == ["run_name"]
    assert [row.values for row in comparison.rows if row.key == "run_name"] == [["once", "once-r2"]]
    # The run's curve (the resumed job appended to the same trainer log); the fresh one has logged nothing yet.
    assert comparison.curves[0].series["loss"][0][0] == 1 and sorted(comparison.curves[0].series) == ["loss"]
    code, out = _cli(monkeypatch, capsys, settings, "jobs", "compare", train.id, fresh.id, "--json")
    assert code == 0 and json.loads(out)["differing"] == ["run_name"]
    services.runner.stop(fresh.id)
    fresh = finished(services.runner, fresh.id, 120, expect=None)
    assert fresh.status in (JobStatus.STOPPED, JobStatus.FAILED)
    with pytest.raises(InvalidInputError, match="no complete checkpoint"):
        services.jobs_admin.restart(fresh.id, resume=True)
    code, out = _cli(monkeypatch, capsys, settings, "jobs", "logs", train.id, "--grep", "train_loss", "--level", "INFO")
    assert code == 0 and out.strip() and all("train_loss" in line for line in out.strip().splitlines())

    expected = _allocated(Path(fresh.run_dir))
    code, out = _cli(monkeypatch, capsys, settings, "jobs", "delete", fresh.id)
    assert code == 1 and "--yes" in out and Path(fresh.run_dir).is_dir()  # nothing happens without --yes
    code, out = _cli(monkeypatch, capsys, settings, "jobs", "delete", fresh.id, "--yes", "--json")
    deleted = json.loads(out)
    assert code == 0 and deleted["freed_bytes"] == expected > 0 and deleted["job_ids"] == [fresh.id]
    assert not Path(fresh.run_dir).exists() and run_dir.is_dir()
    with pytest.raises(NotFoundError):
        services.runner.get(fresh.id)
    # The first run's folder is shared with the resumed job: deleting one removes both rows with the folder.
    # What the reconciler registers for a finished training: its base (no files in the run) and the adapter version.
    version = next(entry for entry in services.models.sync_jobs([train]) if entry.adapter)
    plan = services.jobs_admin.plan_delete(train.id)
    assert plan.job_ids == [train.id, resumed.job.id] and plan.folders == [run_dir.resolve()]
    assert plan.versions == [version.id] and version.id in plan_text(plan, "en")
    assert services.jobs_admin.delete(train.id).freed_bytes == plan.bytes
    assert not run_dir.exists() and {job.id for job in services.runner.list()} == {studio[3].id}


def test_delete_refuses_folders_that_are_not_a_jobs_own(settings, tmp_path):
    services = build_services(settings)
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine", encoding="utf-8")
    link = settings.checkpoints_dir / "link-run"
    link.symlink_to(outside)
    for run_dir in (outside, settings.checkpoints_dir / "jobs", settings.checkpoints_dir, link):
        job = services.runner.store.create(JobSpec(kind="corpus", name="odd", argv=["x"], cwd=str(tmp_path),
                                                   run_dir=str(run_dir)), str(Path(run_dir) / "job.log"))
        services.runner.store.finish(job.id, JobStatus.FAILED, 1)
        with pytest.raises(PermissionDeniedError, match="not a job's own folder"):
            services.jobs_admin.delete(job.id)
        assert services.runner.get(job.id).status is JobStatus.FAILED
    assert (outside / "keep.txt").read_text(encoding="utf-8") == "mine" and link.is_symlink()


@pytest.fixture(scope="module")
def jobs_app(studio, module_app_factory):
    """The app on the module's home, its corpus job's log extended by the known lines."""
    with open(studio[3].log_path, "a", encoding="utf-8") as handle:
        handle.write(LOG)  # the worker's own line, then the known one
    return module_app_factory(studio[0].home)


def test_jobs_tab_apis_over_gradio_client(studio, jobs_app, monkeypatch, capsys):
    from tests.apphelpers import connect

    _, services, _, corpus = studio
    client = connect(jobs_app.url)
    summary, body, download = client.predict(corpus.id, "VALUE", "ALL", api_name="/jobs_log")
    assert summary.startswith("1 of 15 lines shown") and "1 match(es)" in summary
    assert "<mark>Value</mark>Error: bad &lt;<mark>value</mark>&gt;" in body
    assert Path(download).read_bytes() == Path(corpus.log_path).read_bytes()
    summary, body, _ = client.predict(corpus.id, "", "ERROR", api_name="/jobs_log_level")
    assert summary.startswith("6 of 15 lines shown (level ERROR)") and "log-info" not in body
    summary, body = client.predict(corpus.id, "", "WARNING", True, api_name="/jobs_log_follow")
    assert summary.startswith("9 of 15 lines shown") and body.count('class="log-warning"') == 3
    for api in ("/jobs_log_search", "/jobs_log_pick"):
        assert client.predict(corpus.id, "boom", "ERROR", api_name=api)[0].startswith("1 of 15 lines shown")
    # The CLI follows a finished job's log to its end, then exits.
    code, out = _cli(monkeypatch, capsys, studio[0], "jobs", "logs", corpus.id, "--follow", "--level", "ERROR")
    assert code == 0 and out.splitlines() == LOG.splitlines()[5:9] + [LOG.splitlines()[10], LOG.splitlines()[13]]
    restarted = client.predict(corpus.id, False, api_name="/jobs_restart")
    new_id = restarted.split("as job ")[1].split(" ")[0]
    assert restarted.startswith(f"Restarted {corpus.id} as job ") and "same config" in restarted
    with pytest.raises(Exception, match="only a training resumes"):
        client.predict(corpus.id, True, api_name="/jobs_restart")
    summary, table, _ = client.predict([corpus.id, new_id], False, api_name="/jobs_compare")
    assert summary.startswith("2 runs; 0 of ") and len(table["data"]) > 3
    finished(services.runner, new_id, 240)
    plan, pending = client.predict(new_id, api_name="/jobs_delete_plan")
    assert pending == new_id and "Confirm" in plan and Path(services.runner.get(new_id).run_dir).is_dir()
    assert client.predict(api_name="/jobs_delete_cancel")[0] == "Nothing was deleted."
    folder = Path(services.runner.get(new_id).run_dir)
    expected = _allocated(folder)
    done, _ = client.predict(new_id, api_name="/jobs_delete")
    assert f"({expected:,} bytes) freed" in done and not folder.exists()
    assert new_id not in {job.id for job in services.runner.list()}


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")
def test_jobs_tab_in_browser(studio, jobs_app):
    from playwright.sync_api import expect

    from tests.test_browser import app_page

    with app_page(jobs_app) as page:
        page.get_by_role("tab", name="Jobs", exact=True).click()
        # The picker is filled by the live refresh after the page loaded: the newest job is preselected.
        picker = page.get_by_label("Job", exact=True).filter(visible=True)
        expect(picker).to_have_value(re.compile(studio[3].id), timeout=60000)
        search = page.get_by_label("Search", exact=True).filter(visible=True)
        search.fill("VALUE")
        search.press("Enter")
        page.get_by_text("1 match(es)").wait_for(timeout=60000)
        assert page.locator(".llmops-log mark").count() == 2
        assert page.locator(".llmops-log .log-error").count() == 1
        page.get_by_role("button", name="Delete…").click()
        page.get_by_role("button", name="Yes, delete it and its folder").wait_for(timeout=30000)
        page.get_by_role("button", name="Cancel", exact=True).click()
        page.get_by_text("Nothing was deleted.").wait_for(timeout=30000)
    assert Path(studio[3].run_dir).is_dir()
