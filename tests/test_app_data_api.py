"""The Data tab's endpoints driven through gradio_client against the real app."""

from __future__ import annotations

import csv
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from gradio_client import Client, handle_file

from llmops.lf import dataset_info
from llmops.runner.store import JobStore

from .apphelpers import connect
from .servers import QuietHTTPServer

KEY = "sk-test-secret-123"


class _SlowChat(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint that takes 0.2 s per answer and records the Authorization header."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.auth.add(self.headers.get("Authorization", ""))
        time.sleep(0.2)
        n = time.monotonic_ns()
        pairs = [{"instruction": f"Question {n} {x}?", "output": f"Answer {x}."} for x in "ab"]
        body = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "slow",
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": json.dumps(pairs)}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def slow_llm():
    server = QuietHTTPServer(("127.0.0.1", 0), _SlowChat)
    server.daemon_threads, server.auth = True, set()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(app_factory):
    return app_factory()


def registered(settings) -> dict:
    return dataset_info.read(settings.dataset_info_path).entries


def table_names(client: Client) -> list[str]:
    table, _problems, _choices = client.predict(api_name="/data_list")[2:]
    return [row[0] for row in table["data"]]


def build_corpus_and_rules(client: Client, settings) -> str:
    """Corpus from the shipped documents, then rule-based SFT data from it; returns the SFT dataset's name."""
    summary, name, path, counts, _hist, _removed, command, _ = client.predict(
        True, [], "text", "text", 512, 0.8, 20, ["zh", "en"], "", api_name="/data_corpus_build")
    assert name.startswith("domain_corpus_") and name in registered(settings)
    rows = {row[0]: row[1] for row in counts["data"]}
    assert rows["Documents"] >= 12 and rows["Chunks"] >= rows["Records kept"] > 50 and rows["Tokens"] > 1000
    with open(path, encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == rows["Records kept"]
    assert name in summary and command.startswith("python -m llmops data corpus --source preset")

    status, stats, preview, command, _ = client.predict(name, "rules", 0, "", "", "", "", 3, 4, 0,
                                                        api_name="/data_generate")
    assert stats["pairs"] > 0 and len(preview["data"]) == min(20, stats["pairs"])
    sft = re.search(r"registered as '([^']+)'", status).group(1)
    assert registered(settings)[sft]["formatting"] == "alpaca" and sft in table_names(client)
    assert command == f"python -m llmops data sft-gen --corpus {name} --mode rules --seed 0"
    return sft


def test_generate_data_through_the_api(app, settings):
    with urllib.request.urlopen(app.url, timeout=10) as response:
        assert response.status == 200
    client = connect(app.url)
    sft = build_corpus_and_rules(client, settings)

    # Each sub-tab's job widget follows the job this session started: done, its result applied, its log.
    status, log = client.predict(api_name="/data_corpus_job_poll")
    assert "Corpus build" in status and "COMPLETED" in status and "Result applied" in status
    assert "result.json written" in log

    text, count, command = client.predict(sft, 5, 0, api_name="/data_mock_prefs")
    assert count == 5 and "prefs.jsonl" in text and f"--sft {sft}" in command
    votes = [json.loads(line) for line in settings.prefs_path.read_text(encoding="utf-8").splitlines()]
    assert len(votes) == 5 and {v["source"] for v in votes} == {"synthetic"}

    # The typed key is refused with the bad URL and never echoed back.
    with pytest.raises(Exception, match="not-a-url") as failure:
        client.predict(sft, "llm", 0, "not-a-url", "m", KEY, "", 3, 4, 0, api_name="/data_generate")
    assert KEY not in str(failure.value)
    assert "No generation" in client.predict(api_name="/data_gen_stop")


def test_llm_generation_streams_and_stops(app, settings, slow_llm, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"Passage {i} about inverter maintenance, long enough to send."})
                              + "\n" for i in range(60)), encoding="utf-8")
    client = connect(app.url)
    base_url = f"http://127.0.0.1:{slow_llm.server_address[1]}/v1"
    job = client.submit(str(corpus), "llm", 0, base_url, "slow", KEY, "", 2, 1, 0, api_name="/data_generate")
    deadline = time.monotonic() + 30
    while not any("chunks:" in str(out[0]) and not str(out[0]).startswith("0/") for out in job.outputs()):
        assert time.monotonic() < deadline and not job.done()
        time.sleep(0.1)
    assert "Stopping" in client.predict(api_name="/data_gen_stop")
    status, stats, preview, command, _ = job.result(timeout=30)
    assert stats["stopped"] and 0 < stats["ok"] < 60 and stats["pairs"] == 2 * stats["ok"]
    assert "Stopped early" in status and len(preview["data"]) == min(20, stats["pairs"])
    assert slow_llm.auth == {f"Bearer {KEY}"}
    assert f"--base-url {base_url} --model slow" in command and KEY not in command
    for path in settings.home.rglob("*"):  # the key went to the server and nowhere else
        assert not path.is_file() or KEY.encode() not in path.read_bytes(), path
    # It ran as a job: stopped, its partial pairs registered once by the reconciler.
    (job_row,) = [j for j in JobStore(settings.jobs_db_path).list() if j.kind == "datagen"]
    assert job_row.status.value == "STOPPED" and job_row.applied_at and not job_row.apply_error
    assert job_row.apply_result["dataset_name"] in registered(settings)


def test_dataset_registry_through_the_api(app, settings, tmp_path):
    client = connect(app.url)
    rows = [{"instruction": "Sum the cells", "input": "", "output": "=SUM(A1:A3)"},
            {"instruction": "What is PR?", "input": "", "output": "Performance ratio."},
            {"instruction": "What is PR?", "input": "", "output": "Performance ratio."}]
    good = tmp_path / "mini.jsonl"
    good.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "ok", "output": "fine"}\n{"instruction": "x", \n{"output": "no prompt"}\n',
                      encoding="utf-8")
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes(json.dumps({"instruction": "逆变器报警怎么办？", "output": "先检查直流侧绝缘。"},
                               ensure_ascii=False).encode("gbk") + b"\n")

    report = client.predict(handle_file(str(broken)), "auto", api_name="/data_validate")
    assert "❌" in report and "broken.jsonl:2" in report and "broken.jsonl:3" in report
    with pytest.raises(Exception, match="UTF-8"):
        client.predict(handle_file(str(gbk)), "gbk_set", "auto", "", False, api_name="/data_upload")
    assert "gbk_set" not in registered(settings)
    assert "gbk_set" in client.predict(handle_file(str(gbk)), "gbk_set", "auto", "", True, api_name="/data_upload")[0]

    message, _ = client.predict(handle_file(str(good)), "mini", "auto", "three rows", False, api_name="/data_upload")
    assert "'mini'" in message and "mini" in table_names(client)
    info, grid, page = client.predict("mini", 1, 20, api_name="/data_preview")
    assert page == 1 and "1 of 1" in info and len(grid["data"]) == 3 and grid["headers"][0] == "instruction"
    stats_md, plot = client.predict("mini", api_name="/data_stats")
    assert "| Samples | 3 |" in stats_md and "| Exact duplicate rows | 1 |" in stats_md and plot is not None

    text, versions, _ = client.predict("mini", "exact", 0.8, "drop the repeat", api_name="/data_dedup")
    assert "v2" in text and [row[0] for row in versions["data"]] == ["v1", "v2"]
    assert client.predict("mini", api_name="/data_versions")["data"][1][1] == 2

    exported = client.predict("mini", api_name="/data_export_csv")
    with open(exported, encoding="utf-8", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert "'=SUM(A1:A3)" in cells and "=SUM(A1:A3)" not in cells

    message, _ = client.predict("mini", True, api_name="/data_delete")
    assert "unregistered" in message and "mini" not in table_names(client)
    assert "mini" not in registered(settings) and not (settings.work_dir / "datasets" / "mini").exists()

    # The language switch relabels the page and the Data tab's messages follow it.
    updates = client.predict("zh", api_name="/set_language")
    texts = {u.get("label") or u.get("value") for u in updates if isinstance(u, dict)}
    assert {"### 来源", "保留的语言", "API 密钥", "校验报告", "数据集"} <= texts
    with pytest.raises(Exception, match="请先选择一个数据集"):
        client.predict("", 1, 20, api_name="/data_preview")
