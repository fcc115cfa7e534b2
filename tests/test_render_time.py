"""Text a service keeps is a key and its parameters, rendered by each reader in its own language."""

from __future__ import annotations

import json
import signal
import threading

import pytest

from llmops.errors import InvalidInputError
from llmops.i18n import Lines, Message
from llmops.services.evaluation import EvalSets
from llmops.services.jobkinds import registry, worker
from llmops.settings import Settings
from tests.test_cli_errors import run_cli


def _broken_set(settings: Settings) -> None:
    settings.eval_sets_dir.mkdir(parents=True, exist_ok=True)
    (settings.eval_sets_dir / "half.jsonl").write_text('{"prompt": "ok"}\n{"prompt": ""}\n{oops\n', encoding="utf-8")


def test_a_set_problem_is_rendered_in_the_readers_language(monkeypatch, llmops_home):
    monkeypatch.setenv("LLMOPS_LANG", "zh")  # the workspace starts in Chinese; an English reader still reads English
    settings = Settings.from_env()
    settings.ensure_dirs()
    _broken_set(settings)
    info = next(i for i in EvalSets(settings).list() if i.name == "half")
    assert isinstance(info.problem, Message) and info.samples == 1
    english, chinese = info.problem.render("en"), info.problem.render("zh")
    assert english.startswith("2 problem(s); the first: half.jsonl:2:") and "个问题" in chinese
    assert type(info).model_validate_json(info.model_dump_json()).problem == info.problem
    code, out, _ = run_cli(["eval", "sets", "list", "--json"])
    listed = {row["name"]: row for row in json.loads(out)}
    assert code == 0 and listed["half"]["problem"] == chinese  # JSON for scripts: text in the CLI's language
    assert listed["sample_sft"]["problem"] == ""
    code, out, _ = run_cli(["eval", "sets", "list"])
    assert code == 0 and f"! {chinese}" in out


@pytest.fixture
def failing_kind():
    """A worker kind that fails with a message holding nested messages, registered only for the test."""
    def run(ctx, params):
        raise InvalidInputError("err.ev_set_invalid", path="x.jsonl", count=2,
                                errors=Lines((Message("ds.more_errors", {"count": 1}),)))

    kind = registry.register(registry.JobKind("test_failing", "ui.jobs.title", None, run, lambda ctx, job: {}))
    yield kind
    registry._KINDS.pop(kind.name)


def test_the_worker_logs_for_operators_and_records_the_error_for_readers(failing_kind, monkeypatch, tmp_path,
                                                                         capsys):
    monkeypatch.setenv("LLMOPS_LANG", "zh")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / registry.PARAMS_FILE).write_text(json.dumps({"kind": "test_failing", "params": {}}), encoding="utf-8")
    monkeypatch.setattr(worker, "parse_params", lambda kind, values: None)  # the kind takes no parameters
    # The worker installs its stop handlers (only the main thread may); the test process gets its own back.
    assert threading.current_thread() is threading.main_thread()
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGABRT, signal.SIGTERM, signal.SIGINT)}
    try:
        assert worker.run(run_dir, Settings.from_env()) == 2
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    log = capsys.readouterr().out
    assert log.startswith("failed (err.ev_set_invalid): x.jsonl is not a usable evaluation set")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in log)
    recorded = registry.read_json(run_dir / registry.ERROR_FILE)
    message = registry.recorded_message(recorded)
    assert message.render("zh").endswith("……另有 1 个问题") and message.render("en").endswith("… and 1 more problem(s)")

    from llmops.cli.jobs import WorkerError

    assert WorkerError(recorded).message("zh") == message.render("zh")
