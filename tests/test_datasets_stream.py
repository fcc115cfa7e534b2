"""Datasets read as streams: the same report at any chunk size, long rows refused by line, bounded memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.services.datasets import DatasetRegistry, encoding, inspect
from bench import upload_memory
from tests.test_datasets import CASES, SFT, _csv, jsonl, write

ZH = [{"instruction": "逆变器报警F012是什么意思？", "input": "", "output": "绝缘阻抗低，请检查组串。"}] * 5
# Files whose reading crosses chunk boundaries in every way that matters: multi-byte characters, numbers and
# literals, CRLF, BOMs, quoted CSV newlines, paragraphs, errors and their line numbers.
FILES = {
    "zh.jsonl": jsonl(ZH).encode("utf-8"),
    "zh_crlf.jsonl": jsonl(ZH).replace("\n", "\r\n").encode("utf-8"),
    "gbk.json": json.dumps(ZH, ensure_ascii=False, indent=2).encode("gbk"),
    "gbk.jsonl": jsonl(ZH).encode("gbk"),
    "u16le.jsonl": jsonl(ZH).encode("utf-16"),
    "u16be.jsonl": b"\xfe\xff" + jsonl(ZH).encode("utf-16-be"),
    "bom.csv": ("\ufeff" + _csv(SFT)).encode("utf-8"),
    "quoted.csv": 'instruction,input,output\r\n"multi\r\nline\r\nq","","a"\r\nq2,,\r\n'.encode(),
    "numbers.json": b'[{"text": "a"}, 12345678, true, null, {"text": "b"}, 3.25e10]',
    "trailing.json": b'[\n  {"text": "a"},\n  {"text": "b"},\n]\n',
    "inner.json": b'[\n  {"text": "a",\n  }\n]\n',
    "lines.json": jsonl(SFT).encode("utf-8"),
    "obj.json": b'{"data": []}',
    "extra.json": b'[{"text": "a"}] [',
    "cut.json": b'[{"text": "a"}, {"text": "b"',
    "bad.jsonl": b'{"text": "ok"}\n{"text": "broken\n\n{"text": "x"},\n{"text": ""}\n7\n',
    "arr.jsonl": ("\n" + json.dumps(SFT, indent=2)).encode("utf-8"),
    "para.txt": "第一段\n仍是第一段。\n\n第二段\r\nline b.\r\n".encode("utf-8"),
    "lines.txt": b"one\ntwo\n\nthree",
    "latin.jsonl": '{"text": "ok"}\n{"text": "café crème"}\n'.encode("latin-1"),
    "late_bad.jsonl": jsonl([{"text": "x" * 50}] * 30).encode("utf-8") + b'{"text": "\xff"}\n',
    "nul.jsonl": '{"text": "a"}'.encode("utf-16-le"),
}


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    out = {name: write(tmp_path / name, data) for name, data in FILES.items()}
    for name, make, *_ in CASES:
        out[f"case-{name}"] = make(tmp_path / "cases" / name)
    return out


def _report(path: Path) -> dict:
    return inspect(path, label=path.name).report.to_dict()


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_reports_do_not_depend_on_the_chunk_size(files, monkeypatch, chunk):
    expected = {name: _report(path) for name, path in files.items()}
    monkeypatch.setattr(encoding, "CHUNK_BYTES", chunk)
    assert {name: _report(path) for name, path in files.items()} == expected


def test_stored_files_do_not_depend_on_the_chunk_size(settings, files, monkeypatch):
    registry = DatasetRegistry(settings)
    wanted = [n for n in files if n.startswith("case-") or n in ("zh_crlf.jsonl", "bom.csv", "para.txt", "gbk.json")]
    big = {n: Path(registry.upload(files[n], f"a{i}", confirm_conversion=True).path).read_bytes()
           for i, n in enumerate(wanted)}
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 5)
    small = {n: Path(registry.upload(files[n], f"b{i}", confirm_conversion=True).path).read_bytes()
             for i, n in enumerate(wanted)}
    assert small == big
    assert big["gbk.json"].decode("utf-8") == json.dumps(ZH, ensure_ascii=False, indent=2)


def test_expected_errors_at_small_chunks(files, monkeypatch):
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 3)
    numbers = inspect(files["numbers.json"], label="n.json").report
    assert numbers.valid_rows == 2 and numbers.errors == [
        "n.json:1: the row is a number, not a JSON object", "n.json:1: the row is a boolean, not a JSON object",
        "n.json:1: the row is null, not a JSON object", "n.json:1: the row is a number, not a JSON object"]
    late = inspect(files["late_bad.jsonl"], label="late.jsonl").report
    assert late.errors[0].startswith("late.jsonl:31: byte ")
    assert inspect(files["cut.json"], label="c.json").report.errors[0].startswith("c.json:1: invalid JSON")
    u16 = inspect(files["u16be.jsonl"]).report
    assert u16.ok and u16.valid_rows == 5 and u16.encoding == "utf-16"


def test_a_row_over_the_limit_is_reported_by_line_and_the_rest_is_read(tmp_path):
    long = "y" * 500
    path = write(tmp_path / "long.jsonl", jsonl([{"text": "a"}, {"text": long}, {"text": "c"}]))
    report = inspect(path, label="long.jsonl", max_chars=100).report
    assert (report.valid_rows, report.total_rows, report.error_count) == (2, 3, 1)
    assert report.errors == ["long.jsonl:2: the row is longer than the 0.0 MB limit for one row "
                             "(skipped without being read whole)"]
    txt = write(tmp_path / "p.txt", f"a\nb\n\n{long}\nmore\n\nc\nd\n")
    assert inspect(txt, label="p.txt", max_chars=100).report.errors[0].startswith("p.txt:4: the row is longer")
    array = write(tmp_path / "a.json", json.dumps([{"text": "a"}, {"text": long}, {"text": "c"}]))
    report = inspect(array, label="a.json", max_chars=100).report
    assert report.valid_rows == 1 and report.errors[0].startswith("a.json:1: the row is longer")
    table = write(tmp_path / "t.csv", f"instruction,input,output\nq,,a\nq,,{long}\nq,,b\n")
    report = inspect(table, label="t.csv", max_chars=100).report
    assert report.valid_rows == 1 and report.errors == [
        "t.csv:3: the row is longer than the 0.0 MB limit for one row (skipped without being read whole)"]
    ok = inspect(array, label="a.json", max_chars=10_000).report
    assert ok.ok and ok.valid_rows == 3


def test_memory_stays_bounded_for_a_20mb_single_line_json(tmp_path, llmops_home):
    path = tmp_path / "one_line.json"
    count = upload_memory.write_single_line_json(path, 20)
    measured = upload_memory.measure(path, llmops_home, timeout=240)
    assert measured["valid_rows"] == measured["registered_rows"] == count
    assert measured["grew_mb"] < 10, measured  # the file is 20 MB on one line; reading it whole would add more


def test_a_single_20mb_row_is_refused_without_being_held(tmp_path, llmops_home, monkeypatch):
    path = tmp_path / "one_line.jsonl"
    upload_memory.write_single_line_jsonl(path, 20)
    measured = upload_memory.measure(path, llmops_home, timeout=240)
    assert measured["valid_rows"] == 0 and measured["refused"] == "err.ds_invalid"
    assert measured["errors"][0].endswith(":1: the row is longer than the 16.0 MB limit for one row "
                                          "(skipped without being read whole)")
    assert measured["grew_mb"] < 19, measured  # at most the 16 MB limit is ever held, never the whole row
