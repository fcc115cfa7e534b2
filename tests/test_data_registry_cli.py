"""`python -m llmops data validate|list|stats|register…`: exit codes, line numbers, --json, concurrent processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.apphelpers import ROOT

SFT = [{"instruction": "What is F012?", "input": "", "output": "Insulation resistance low."},
       {"instruction": "逆变器报警怎么办？", "input": "", "output": "先查看告警代码。"}]


def cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmops", "data", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})}, check=False)


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "llmops", "data", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_validate_exit_codes_line_numbers_and_json(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl(SFT), encoding="utf-8")
    ok = cli("validate", str(good))
    assert ok.returncode == 0 and "alpaca, 2/2 rows valid, 0 problem(s)" in ok.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl(SFT) + '{"instruction": "q", "output": ""}\n{nope\n', encoding="utf-8")
    result = cli("validate", str(bad))
    assert result.returncode == 1
    assert f"{bad}:3: field 'output' is empty" in result.stdout and f"{bad}:4: invalid JSON" in result.stdout
    report = json.loads(cli("validate", str(bad), "--json").stdout)
    assert (report["ok"], report["valid_rows"], report["total_rows"], report["error_count"]) == (False, 2, 4, 2)
    forced = cli("validate", str(good), "--format", "preference", "--json")
    assert forced.returncode == 1 and json.loads(forced.stdout)["format"] == "preference"
    missing = cli("validate", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_register_list_stats_and_errors(settings, tmp_path):
    path = tmp_path / "sft.json"
    path.write_text(json.dumps(SFT + [SFT[0]], ensure_ascii=False), encoding="utf-8")
    made = cli("register", str(path), "--name", "mine", "--note", "first", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["file"] == "llmops/datasets/mine/v1.json"
    listed = json.loads(cli("list", "--json").stdout)
    mine = next(row for row in listed if row["name"] == "mine")
    assert (mine["samples"], mine["version"], mine["kind"]) == (3, "v1", "sft")
    assert {"sample_pt", "sample_sft", "sample_dpo"} <= {row["name"] for row in listed}
    assert "mine" in cli("list").stdout
    stats = json.loads(cli("stats", "mine", "--json").stdout)
    assert stats["samples"] == 3 and stats["duplicates"] == 1 and stats["empty_fields"]["input"] == 3
    again = cli("register", str(path), "--name", "mine")
    assert again.returncode == 2 and "already exists" in again.stderr
    escape = cli("register", str(path), "--name", "../../etc")
    assert escape.returncode == 2 and "Invalid dataset name" in escape.stderr
    assert cli("stats", "nope").returncode == 2
    deduped = json.loads(cli("dedup", "mine", "--exact-only", "--json").stdout)
    assert deduped["version"] == "v2" and deduped["after"] == 2
    assert [v["version"] for v in json.loads(cli("versions", "mine", "--json").stdout)] == ["v1", "v2"]
    out = tmp_path / "mine.csv"
    assert cli("export-csv", "mine", str(out)).returncode == 0 and out.exists()
    assert cli("delete", "mine").returncode == 0
    assert "mine" not in {row["name"] for row in json.loads(cli("list", "--json").stdout)}


def test_gbk_needs_the_confirm_flag(settings, tmp_path):
    text = jsonl([{"text": "光伏电站巡检记录：逆变器运行正常，组串电流一致。"}] * 2)
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(text.encode("gbk"))
    refused = cli("register", str(path), "--name", "gbk")
    assert refused.returncode == 2 and "GBK" in refused.stderr and "--confirm-conversion" in refused.stderr
    zh = cli("register", str(path), "--name", "gbk", env={"LLMOPS_LANG": "zh"})
    assert zh.returncode == 2 and "编码是 GBK" in zh.stderr
    done = cli("register", str(path), "--name", "gbk", "--confirm-conversion", "--json")
    assert done.returncode == 0, done.stderr
    stored = settings.data_dir / json.loads(done.stdout)["file"]
    assert stored.read_bytes().decode("utf-8") == text


def test_two_processes_registering_at_once_both_survive(settings, tmp_path):
    procs = []
    for i in range(2):
        path = tmp_path / f"p{i}.jsonl"
        path.write_text(jsonl([{"text": f"process {i}"}]), encoding="utf-8")
        procs.append(start("register", str(path), "--name", f"proc{i}"))
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    info = json.loads(settings.dataset_info_path.read_text(encoding="utf-8"))
    assert {"proc0", "proc1", "sample_pt"} <= set(info)
