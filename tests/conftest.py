"""Every test runs in its own LLMOPS_HOME, so no test ever touches real data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmops.settings import Settings  # noqa: E402


@pytest.fixture(autouse=True)
def llmops_home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty home for each test; any job a test leaves behind is killed, even when it failed."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LLMOPS_HOME", str(home))
    monkeypatch.setenv("LLMOPS_LANG", "en")
    monkeypatch.setenv("LLMOPS_STOP_GRACE_S", "10")
    monkeypatch.setenv("LLMOPS_STRICT_I18N", "1")  # a missing string key fails the test
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield home
    _kill_leftover_jobs(home)


def _kill_leftover_jobs(home: Path) -> None:
    from llmops.runner import procs
    from llmops.runner.store import JobStore
    from llmops.schemas.jobs import JobStatus

    db = Settings(home=home).jobs_db_path
    if not db.exists():
        return
    for job in JobStore(db).list(1000, (JobStatus.PENDING, JobStatus.RUNNING)):
        for pid, started in ((job.sup_pid, job.sup_start), (job.pid, job.pid_start)):
            if procs.is_alive(pid, started):
                procs.kill_tree(pid, pgid=pid if pid == job.pid else None)


@pytest.fixture
def settings(llmops_home) -> Settings:
    """Settings pointing at the test's home, folders created."""
    s = Settings.from_env()
    s.ensure_dirs()
    return s


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory) -> Path:
    """The tiny local model, built once per test session."""
    from llmops.services import demo_model

    out = tmp_path_factory.mktemp("models") / "demo"
    return demo_model.build(out, [ROOT / "data" / "docs", ROOT / "data" / "samples"])


def pytest_configure(config):
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def lf_api(demo_model_dir, tmp_path_factory):
    """One `llamafactory-cli api` server on 127.0.0.1 serving the tiny model, shared by the session."""
    from tests.servers import LFApiServer

    server = LFApiServer(demo_model_dir, tmp_path_factory.mktemp("api")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lf_parser(tmp_path_factory):
    """LLaMA-Factory's own train-argument parser in one worker process shared by the session (its import is the cost)."""
    from tests.lfparser import LFParser

    parser = LFParser(tmp_path_factory.mktemp("lf_parser") / "parser.log")
    yield parser
    parser.close()


# The fast tier (`make test-fast`): no training, no tiny model, no app process, no browser.
SLOW_FIXTURES = {"demo_model_dir", "lf_api", "app_factory", "module_app_factory", "trained_adapter", "adapter_dir",
                 "tiny_run", "lora_run_with_eval", "lf_parser"}
SLOW_SOURCE_MARKS = ("AppProcess", "app_page(", "sync_playwright", "llamafactory-cli", "LFApiServer")


def pytest_collection_modifyitems(config, items):
    """Mark as slow every test that trains, serves, starts the app or drives a browser."""
    slow_modules: dict[str, bool] = {}
    for item in items:
        path = str(item.fspath)
        if path not in slow_modules:
            text = Path(path).read_text(encoding="utf-8")
            slow_modules[path] = any(mark in text for mark in SLOW_SOURCE_MARKS)
        if slow_modules[path] or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def app_factory(settings):
    """Start the real app (`python app.py`) as often as a test needs; every one still running is stopped after."""
    from tests.apphelpers import AppStarter

    starter = AppStarter(settings.home)
    yield starter
    starter.stop_all()


@pytest.fixture(scope="module")
def module_app_factory():
    """The same for an app a whole module shares (its home is the module's own, so it is always passed)."""
    from tests.apphelpers import AppStarter

    starter = AppStarter()
    yield starter
    starter.stop_all()



@pytest.fixture(scope="session")
def trained_adapter(demo_model_dir, tmp_path_factory) -> Path:
    """A LoRA adapter from one real 2-step LLaMA-Factory SFT run on the tiny model (checkpoint-1 and -2 saved too),
    shared by the session."""
    from llmops.runner.runner import JobRunner
    from llmops.schemas.jobs import JobStatus
    from llmops.services.device import DeviceInfo
    from llmops.services.training import TrainingService

    home = tmp_path_factory.mktemp("adapter_home")
    settings = Settings(home=home)
    settings.ensure_dirs()
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], run_name="adapter", max_steps=2,
                           save_steps=1, logging_steps=1, gradient_accumulation_steps=1, cutoff_len=128,
                           warmup_ratio=0.0)
    _, job = service.launch_config(config)
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    out = Path(job.run_dir)
    assert (out / "adapter_model.safetensors").is_file()
    return out


@pytest.fixture(scope="session")
def perturbed_model(demo_model_dir, tmp_path_factory) -> Path:
    """A second tiny model of the same shapes (the demo model with seeded noise), shared by the merge tests."""
    from tests.surgeryruns import perturbed_copy

    return perturbed_copy(demo_model_dir, tmp_path_factory.mktemp("perturbed") / "b", scale=0.05)


@pytest.fixture(scope="session")
def lora_run_with_eval(demo_model_dir, tmp_path_factory):
    """(settings, job id, run folder) of one real 6-step LoRA SFT run with eval and checkpoint-2/4/6, shared by the
    session (tests copy the run before changing anything in it)."""
    from tests.surgeryruns import train_lora_run

    return train_lora_run(demo_model_dir, tmp_path_factory.mktemp("lora_eval_home"))
