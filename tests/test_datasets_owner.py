"""The dataset registry as the one owner of dataset_info.json, and its messages rendered by the reader."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from llmops.errors import LLMOpsError, NotFoundError, InvalidInputError
from llmops.i18n import Message, render
from llmops.lf import dataset_info
from llmops.services.datasets import DatasetRegistry
from llmops.services.evaluation.sets import EvalSets
from tests.apphelpers import ROOT

SFT = [{"instruction": f"What is F0{i}?", "input": "", "output": f"Code {i} means check the panel."}
       for i in range(10)]
HAN = re.compile(r"[\u4e00-\u9fff]")
# Three English words in a row: a sentence the string tables should have said in Chinese.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")


def jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.fixture
def reg(settings) -> DatasetRegistry:
    assert settings.lang == "en"  # the start language; readers below ask for Chinese
    return DatasetRegistry(settings)


def _file(settings, name: str, rows) -> Path:
    path = settings.data_dir / "mine" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonl(rows), encoding="utf-8")
    return path


def test_register_entry_writes_only_on_change_and_refuses_a_different_one(settings, reg):
    path = _file(settings, "a.jsonl", SFT)
    assert reg.register_path("a", path, {"formatting": "alpaca"}) == "a"
    info = settings.dataset_info_path
    assert reg.entries()["a"] == {"file_name": "mine/a.jsonl", "formatting": "alpaca"}
    before = info.stat().st_mtime_ns, info.stat().st_ino
    reg.register_path("a", path, {"formatting": "alpaca"})  # the same entry: the file is not rewritten
    assert (info.stat().st_mtime_ns, info.stat().st_ino) == before
    with pytest.raises(InvalidInputError) as refused:
        reg.register_entry("a", {"file_name": "mine/b.jsonl"})
    assert refused.value.key == "err.dataset_exists"
    reg.register_entry("a", {"file_name": "mine/a.jsonl"}, replace=True)
    assert reg.entries()["a"] == {"file_name": "mine/a.jsonl"}
    assert reg.file_of("a") == path.resolve()
    assert reg.unregister("a") == {"file_name": "mine/a.jsonl"} and "a" not in reg.entries()
    with pytest.raises(NotFoundError):
        reg.unregister("a")


def test_ensure_samples_creates_the_file_once(settings, reg):
    assert not settings.dataset_info_path.exists()
    path = reg.ensure_samples()
    assert set(dataset_info.read(path).entries) == {"sample_pt", "sample_sft", "sample_dpo", "sample_verifiable"}
    stamp = path.stat().st_mtime_ns
    assert reg.ensure_samples() == path and path.stat().st_mtime_ns == stamp


def test_add_versions_adopts_writes_and_registers_the_chosen_one(settings, reg):
    reg.register_path("h", _file(settings, "h.jsonl", SFT), {"formatting": "alpaca"})
    with reg.locked("h"):
        target = reg.resolve("h")
        made = reg.add_versions(target, [(SFT[:3], Message("ds.note_dedup", {"exact": 1, "near": 0}), "a"),
                                         (SFT[3:], Message("ds.note_dedup", {"exact": 2, "near": 0}), "")], current=0)
    assert made == ["v2", "v3"]  # v1 adopts the hand-registered file, untouched
    versions = reg.versions("h")
    assert [(v.version, v.parent, v.samples) for v in versions] == [("v1", None, 10), ("v2", "v1", 3), ("v3", "v1", 7)]
    assert reg.entries()["h"]["file_name"] == "llmops/datasets/h/v2.jsonl"
    assert len(reg.rows(reg.file_of("h", "v3"))) == 7 and len(reg.rows(reg.file_of("h"))) == 3
    assert versions[0].note_text("en") == "registered outside the studio" and HAN.search(versions[0].note_text("zh"))
    assert versions[1].note_text("en").endswith(" a") and versions[2].message["params"] == {"exact": 2, "near": 0}


def test_an_old_manifest_with_plain_text_notes_still_loads(settings, reg):
    path = _file(settings, "old.jsonl", SFT)
    reg.register_path("old", path, {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input",
                                                                        "response": "output"}})
    folder = reg.root / "old"
    folder.mkdir(parents=True)
    old = {"name": "old", "current": "v1", "versions": [
        {"version": "v1", "file": "mine/old.jsonl", "parent": None, "note": "adopted", "samples": 10,
         "created": "2026-01-01T00:00:00+00:00", "format": "alpaca", "shape": {}, "source": "old.jsonl"}]}
    (folder / "manifest.json").write_text(json.dumps(old), encoding="utf-8")
    (found,) = reg.versions("old")
    assert found.note == "adopted" and found.note_text("zh") == "adopted" and found.message == {}
    assert reg.row("old").managed and reg.row("old").version == "v1"


def _zh_texts(settings, reg, tmp_path) -> list[str]:
    """Every error and note the registry produces, rendered for a Chinese reader."""
    texts = []
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl(SFT[:2]) + '{"instruction": "q", "output": ""}\n{nope\n[1]\n', encoding="utf-8")
    texts += reg.validate_file(bad).lines("zh")
    for call in (lambda: reg.upload(bad, "bad"), lambda: reg.upload(tmp_path / "none.jsonl", "x"),
                 lambda: reg.row("nobody"), lambda: reg.dedup("sample_sft", threshold=0.1),
                 lambda: reg.versions("sample_sft") and reg.file_of("sample_sft", "v9")):
        with pytest.raises(LLMOpsError) as caught:
            call()
        texts.append(caught.value.message("zh"))
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl(SFT + SFT[:2]), encoding="utf-8")
    reg.upload(good, "good")
    with pytest.raises(LLMOpsError) as caught:
        reg.upload(good, "good")
    texts.append(caught.value.message("zh"))
    reg.dedup("good", near=False)
    reg.dedup("sample_sft", near=True)  # adopts the hand-registered sample first
    EvalSets(settings, reg).split("good", 0.2)
    texts += [v.note_text("zh") for name in ("good", "sample_sft") for v in reg.versions(name) if v.message]
    raw = json.loads(settings.dataset_info_path.read_text(encoding="utf-8"))
    raw.update(broken={"columns": {"prompt": "text"}}, gone={"file_name": "nowhere.jsonl"}, odd=[1],
               cols={"file_name": "x.jsonl", "columns": "text"}, unreadable={"file_name": "mine/u.jsonl"})
    (settings.data_dir / "mine").mkdir(exist_ok=True)
    (settings.data_dir / "mine" / "u.jsonl").write_bytes(b"\x00\x01\x02 binary \x00" * 50)
    settings.dataset_info_path.write_text(json.dumps(raw), encoding="utf-8")
    texts += [p.render("zh") for p in reg.problems()]
    return texts


def test_every_registry_error_and_note_reaches_a_chinese_reader_in_chinese(settings, reg, tmp_path):
    texts = _zh_texts(settings, reg, tmp_path)
    assert len(texts) == 18
    for text in texts:
        assert HAN.search(text), text
        assert not ENGLISH.search(text), text
    from llmops.ui.tabs.data_registry import report_text, table_outputs

    data, problems, _ = table_outputs(SimpleNamespace(datasets=reg), "zh")
    shown = [row[-1] for row in data if row[-1]] + problems.splitlines()
    assert len(shown) == 10
    assert all(HAN.search(line) and not ENGLISH.search(line) for line in shown), shown
    report = report_text(reg.validate_file(tmp_path / "bad.jsonl"), "zh")
    assert HAN.search(report) and not ENGLISH.search(report), report


def test_the_cli_renders_in_its_own_language(settings, tmp_path):
    raw = {"broken": {"columns": {"prompt": "text"}}, "gone": {"file_name": "nowhere.jsonl"}}
    settings.dataset_info_path.write_text(json.dumps(raw), encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "q", "output": ""}\n', encoding="utf-8")
    env = {**os.environ, "LLMOPS_LANG": "zh"}
    for args in (("list",), ("validate", str(bad))):
        out = subprocess.run([sys.executable, "-m", "llmops", "data", *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env=env, check=False).stdout
        head, *lines = out.splitlines()
        if args == ("list",):  # names, kinds and formats are identifiers; the problem column is words
            lines = [line[head.index("PROBLEM"):] for line in lines]
        else:
            lines = [head, *lines]
        assert lines and all(HAN.search(line) for line in lines), out
        assert not any(ENGLISH.search(line) for line in lines), out


def test_messages_render_nested_and_round_trip():
    message = Message("ds.problem_unreadable", {"reason": Message("err.ds_empty", {"path": "a.jsonl"})})
    assert Message.from_dict(json.loads(json.dumps(message.to_dict()))) == message
    assert "a.jsonl" in message.render("zh") and HAN.search(message.render("zh"))
    assert render("plain text", "zh") == "plain text" and render(None) == ""
