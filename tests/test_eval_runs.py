"""Evaluation runs through the real job runner: refused before they start, stopped half-way and resumed without
recomputing an answer, against a real `llamafactory-cli api` and a server too slow to answer in time."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from llmops.cli.main import main
from llmops.errors import InvalidInputError, NotFoundError
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.evaluation.run_folder import list_runs
from llmops.services.evaluation.runs import EvalRuns
from llmops.services.evaluation.summarise import summarise
from llmops.services.models import ModelRegistry
from tests.apphelpers import free_port
from tests.servers import QuietHTTPServer


class ChatHandler(BaseHTTPRequestHandler):
    """A streamed chat completion: prompts containing 'slow' get their first byte after `slow_s` seconds."""

    slow_s = 3.0
    delay_s = 0.0
    calls: ClassVar[Counter] = Counter()

    def log_message(self, *args) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        type(self).calls[prompt] += 1
        time.sleep(self.slow_s if "slow" in prompt else self.delay_s)
        if "fail" in prompt:  # a server error that echoes the request's key back
            reply = json.dumps({"error": {"message": f"refused {self.headers.get('Authorization')}"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ("answer ", "to ", prompt):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def chat_server():
    """A local OpenAI-compatible server on 127.0.0.1 (its handler class is per test)."""
    handler = type("Handler", (ChatHandler,), {"calls": Counter()})
    server = QuietHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, handler
    server.shutdown()
    server.server_close()


def _url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def _write_set(settings, name: str, rows: list[dict]):
    path = settings.home / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _runs(settings) -> tuple[EvalRuns, ModelRegistry]:
    models = ModelRegistry(settings)
    return EvalRuns(settings, JobRunner(settings), models), models


def test_a_run_is_refused_before_anything_runs(settings, chat_server):
    runs, models = _runs(settings)
    endpoint = models.add_endpoint("remote", _url(chat_server[0]), "m")
    labels = _write_set(settings, "labels", [{"prompt": "A or B?", "label": "A"}])
    cases = [({"models": ["ghost@v9"], "set": str(labels)}, NotFoundError, "ghost@v9"),
             ({"models": [endpoint.id], "set": "no-such-set"}, NotFoundError, "no-such-set"),
             ({"models": [endpoint.id], "set": str(labels), "metrics": ["lf_bleu4"]}, InvalidInputError, "reference"),
             ({"models": [endpoint.id], "set": str(labels), "metrics": ["accuracy", "perplexity"]}, InvalidInputError,
              "perplexity"),
             ({"models": [endpoint.id], "set": str(labels), "concurrency": 0}, InvalidInputError, "concurrency")]
    for values, error, named in cases:
        with pytest.raises(error) as info:
            runs.start(values)
        assert named in info.value.message("en") and info.value.message("zh") != info.value.message("en"), values
    assert list_runs(settings) == [] and runs.runner.list() == []
    config, samples = runs.prepare({"models": [endpoint.id], "set": str(labels)})
    assert config.metrics == ["accuracy"] and len(samples) == 1  # a labelled set defaults to accuracy


def test_a_stopped_run_resumes_without_recomputing_an_answer(settings, demo_model_dir, trained_adapter):
    runs, models = _runs(settings)
    base = models.add_base("tiny", str(demo_model_dir))
    adapter = models.add_adapter("tiny", base.id, str(trained_adapter))
    rows = [{"prompt": f"Question {i}: what does inverter {i} report?", "reference": f"Status {i}."} for i in range(24)]
    path = _write_set(settings, "questions", rows)
    folder, job = runs.start({"models": [base.id, adapter.id], "set": str(path), "metrics": ["exact_match"],
                              "generation": {"max_new_tokens": 16}, "local_batch": 1, "name": "half"})
    deadline = time.monotonic() + 120
    while runs.show(folder.run_id).progress.done < 6:
        assert time.monotonic() < deadline and not runs.runner.get(job.id).status.finished, runs.runner.log_tail(job.id)
        time.sleep(0.1)
    stopped_at = time.monotonic()
    assert runs.stop(folder.run_id) is not None
    job = runs.runner.wait(job.id, 60)
    assert job.status is JobStatus.STOPPED and time.monotonic() - stopped_at < 15, runs.runner.log_tail(job.id)
    before = folder.predictions_path.read_bytes().splitlines(keepends=True)
    view = runs.show(folder.run_id)
    assert 6 <= len(before) < 48 and view.summary.status == "partial" and view.summary.done == len(before)
    assert view.status == "partial" and view.progress.counts["live"][base.id]["n"] >= 1

    job = runs.resume(folder.run_id)
    job = runs.runner.wait(job.id, 180)
    assert job.status is JobStatus.COMPLETED, runs.runner.log_tail(job.id, 40)
    after = folder.predictions_path.read_bytes().splitlines(keepends=True)
    assert after[:len(before)] == before  # the answers written before the stop were kept, not asked again
    keys = Counter((json.loads(line)["model"], json.loads(line)["sample"]) for line in after)
    assert len(after) == 48 and set(keys.values()) == {1} and len(keys) == 48
    summary = runs.show(folder.run_id).summary
    assert summary.status == "complete" and set(summary.models) == {base.id, adapter.id}
    assert all(m.errors["truncated"] + m.samples >= 1 and "exact_match" in m.metrics for m in summary.models.values())
    first = folder.predictions()[0]
    assert first.tokens >= 1 and first.latency_s > 0


def test_endpoints_a_real_lf_api_and_one_that_times_out(settings, lf_api, chat_server):
    server, handler = chat_server
    runs, models = _runs(settings)
    real = models.add_endpoint("lf", lf_api.base_url, lf_api.name)
    slow = models.add_endpoint("slow", _url(server), "m")
    rows = [{"prompt": f"{'slow ' if i % 3 == 0 else ''}question {i}", "reference": f"answer to question {i}"}
            for i in range(6)]
    folder, job = runs.start({"models": [real.id, slow.id], "set": str(_write_set(settings, "mixed", rows)),
                              "metrics": ["exact_match", "lf_bleu4"], "timeout_s": 0.8, "retries": 1,
                              "concurrency": 3, "generation": {"max_new_tokens": 8}})
    job = runs.runner.wait(job.id, 120)
    assert job.status is JobStatus.COMPLETED, runs.runner.log_tail(job.id, 40)
    by_model = {p.model: {} for p in folder.predictions()}
    for p in folder.predictions():
        by_model[p.model][p.sample] = p
    assert all(p.error in (None, "empty") and p.tokens <= 8 for p in by_model[real.id].values())
    timed_out = {i for i, p in by_model[slow.id].items() if p.error == "timeout"}
    assert timed_out == {0, 3} and all(by_model[slow.id][i].attempts == 2 for i in timed_out)
    assert {handler.calls["slow question 0"], handler.calls["slow question 3"]} == {2}
    assert by_model[slow.id][1].output == "answer to question 1" and by_model[slow.id][1].error is None
    summary = runs.show(folder.run_id).summary
    slow_row = summary.models[slow.id]
    assert slow_row.errors["timeout"] == 2 and slow_row.samples == 4 and slow_row.metrics["exact_match"] == pytest.approx(400 / 6)
    assert summary.status == "complete" and len(folder.scores()) == 12
    again = summarise(settings, folder)  # callable on its own; unchanged scores are not appended twice
    assert again.models[slow.id].metrics == slow_row.metrics and len(folder.scores_path.read_text().splitlines()) == 12


def test_cli_run_wait_json_prints_the_summary_last(settings, chat_server, capsys):
    server, handler = chat_server
    handler.delay_s = 0.05
    ModelRegistry(settings).add_endpoint("fake", _url(server), "m")
    path = _write_set(settings, "cli", [{"prompt": f"q{i}", "reference": f"answer to q{i}"} for i in range(5)])
    code = main(["eval", "run", "--models", "fake@v1.0", "--set", str(path), "--metrics", "exact_match",
                 "--limit", "4", "--concurrency", "2", "--wait", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out)
    assert summary["status"] == "complete" and summary["done"] == 4 and summary["samples"] == 4
    assert summary["models"]["fake@v1.0"]["metrics"]["exact_match"] == 100.0
    assert main(["eval", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in listed] == [summary["run_id"]] and listed[0]["status"] == "complete"
    assert main(["eval", "resume", summary["run_id"], "--wait", "--json"]) == 0  # nothing left: done at once
    assert json.loads(capsys.readouterr().out)["done"] == 4 and sum(handler.calls.values()) == 4
    assert main(["eval", "stop", summary["run_id"]]) == 0 and "not running" in capsys.readouterr().out
    assert main(["eval", "show", "ev-20000101-000000-abcdef"]) == 2


def test_backend_errors_are_counted_and_the_key_never_written(settings, chat_server, monkeypatch):
    server, handler = chat_server
    key = "sk-test-0123456789abcdefSECRET"
    monkeypatch.setenv("EVAL_TEST_API_KEY", key)
    runs, models = _runs(settings)
    entry = models.add_endpoint("keyed", _url(server), "m", api_key_env="EVAL_TEST_API_KEY")
    rows = [{"prompt": "please fail", "reference": "x"}, {"prompt": "fine", "reference": "answer to fine"}]
    folder, job = runs.start({"models": [entry.id], "set": str(_write_set(settings, "keyed", rows)),
                              "metrics": ["exact_match"], "retries": 2})
    job = runs.runner.wait(job.id, 60)
    assert job.status is JobStatus.COMPLETED, runs.runner.log_tail(job.id, 40)
    failed, fine = sorted(folder.predictions(), key=lambda p: p.sample)
    assert failed.error == "backend" and failed.attempts == 3 and handler.calls["please fail"] == 3
    assert "refused" in failed.error_detail and "***" in failed.error_detail  # the key reached the server only
    assert fine.error is None and fine.output == "answer to fine"
    written = [*folder.path.iterdir(), *Path(job.run_dir).iterdir()]  # the run folder and the job's own
    assert {"predictions.jsonl", "summary.json", "params.json", "job.log"} <= {p.name for p in written}
    for path in written:
        assert key not in path.read_text(encoding="utf-8"), path.name
    summary = runs.show(folder.run_id).summary
    assert summary.models[entry.id].errors["backend"] == 1 and summary.models[entry.id].metrics["exact_match"] == 50.0
