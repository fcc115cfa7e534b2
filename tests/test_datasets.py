"""The dataset registry: formats, validation with line numbers, encodings, versions, concurrency and export."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import threading
from pathlib import Path

import pytest

from llmops.errors import InvalidInputError, NotFoundError
from llmops.lf import dataset_check, dataset_info
from llmops.services.datasets import DatasetRegistry, safe_cell, to_csv_text

SFT = [{"instruction": "What is F012?", "input": "", "output": "Insulation resistance low."},
       {"instruction": "逆变器报警怎么办？", "input": "HX-110", "output": "先查看告警代码，再按规程处理。"}]
SHAREGPT = [{"conversations": [{"from": "system", "value": "You are an O&M assistant."},
                               {"from": "human", "value": "Check string 3."},
                               {"from": "function_call", "value": "{\"name\": \"read_string\", \"arguments\": {}}"},
                               {"from": "observation", "value": "{\"current\": 0.0}"},
                               {"from": "gpt", "value": "String 3 carries no current."}]},
            {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}]
MESSAGES = [{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
                          {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"},
                          {"role": "assistant", "content": "6"}]}]
PREF = [{"prompt": "Is F012 harmless?", "chosen": "No, test the insulation.", "rejected": "Yes, ignore it."}]
PREF_SHAREGPT = [{"conversations": [{"from": "human", "value": "Is F012 harmless?"}],
                  "chosen": {"from": "gpt", "value": "No."}, "rejected": {"from": "gpt", "value": "Yes."}}]


def jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


@pytest.fixture
def reg(settings) -> DatasetRegistry:
    return DatasetRegistry(settings)


@pytest.fixture
def src(tmp_path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


def entries(settings) -> dict:
    return dataset_info.read(settings.dataset_info_path).entries


def assert_nothing_left(settings, name):
    root = settings.work_dir / "datasets"
    assert name not in entries(settings)
    leftovers = [p.name for p in root.iterdir() if p.name != ".locks"] if root.exists() else []
    assert leftovers == [] or all(not p.startswith((name, ".tmp")) for p in leftovers), leftovers


# --- formats ------------------------------------------------------------------------------------------


def _parquet(path: Path, rows) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _csv(rows) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


CASES = [
    ("pt.jsonl", lambda p: write(p, jsonl([{"text": "Sunridge has 10 strings."}, {"text": "第二段文本。"}])), "pt", "pt", 2),
    ("pt.txt", lambda p: write(p, "Para one\nstill one.\n\nPara two\nline b.\n"), "pt", "pt", 2),
    ("sft.json", lambda p: write(p, json.dumps(SFT, ensure_ascii=False, indent=2)), "alpaca", "sft", 2),
    ("sft.csv", lambda p: write(p, _csv(SFT)), "alpaca", "sft", 2),
    ("sft.parquet", lambda p: _parquet(p, SFT), "alpaca", "sft", 2),
    ("chat.jsonl", lambda p: write(p, jsonl(SHAREGPT)), "sharegpt", "sft", 2),
    ("oai.jsonl", lambda p: write(p, jsonl(MESSAGES)), "messages", "sft", 1),
    ("pref.jsonl", lambda p: write(p, jsonl(PREF)), "preference", "dpo", 1),
    ("pref_chat.json", lambda p: write(p, json.dumps(PREF_SHAREGPT)), "preference", "dpo", 1),
]


@pytest.mark.parametrize(("file", "make", "fmt", "stage", "samples"), CASES, ids=[c[0] for c in CASES])
def test_every_format_is_detected_registered_and_fits_its_stage(reg, settings, src, file, make, fmt, stage, samples):
    path = make(src / file)
    report = reg.validate_file(path)
    assert report.ok and report.format == fmt and report.valid_rows == samples, report.errors
    name = "ds_" + file.replace(".", "_")
    row = reg.upload(path, name)
    assert (row.format, row.samples, row.version, row.managed) == (fmt, samples, "v1", True)
    assert row.file.startswith(f"llmops/datasets/{name}/v1.")
    info = entries(settings)
    dataset_check.check(settings.data_dir, name, info, stage)  # the check training runs before launching
    other = "sft" if stage != "sft" else "dpo"
    with pytest.raises(InvalidInputError):
        dataset_check.check(settings.data_dir, name, info, other)
    assert (settings.data_dir / info[name]["file_name"]).is_file()


def test_entries_match_llamafactory_conventions(reg, settings, src):
    reg.upload(write(src / "oai.jsonl", jsonl(MESSAGES)), "oai")
    reg.upload(write(src / "pt.jsonl", jsonl([{"text": "x"}])), "pt")
    reg.upload(write(src / "p.jsonl", jsonl(PREF)), "p")
    reg.upload(write(src / "g.jsonl", jsonl(SHAREGPT)), "g")
    info = entries(settings)
    assert info["oai"]["formatting"] == "sharegpt" and info["oai"]["columns"] == {"messages": "messages"}
    assert {k: info["oai"]["tags"][k] for k in ("role_tag", "content_tag", "user_tag", "assistant_tag",
                                                "system_tag")} == {
        "role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
        "system_tag": "system"}
    assert info["pt"] == {"file_name": "llmops/datasets/pt/v1.jsonl", "columns": {"prompt": "text"}}
    assert info["p"]["ranking"] is True and info["p"]["columns"] == {"prompt": "prompt", "chosen": "chosen",
                                                                     "rejected": "rejected"}
    assert info["g"]["tags"]["role_tag"] == "from" and info["g"]["tags"]["function_tag"] == "function_call"
    assert [dataset_info.entry_kind(info[n]) for n in ("oai", "pt", "p", "g")] == ["sft", "pt", "preference", "sft"]


def test_user_can_force_a_format(reg, src):
    path = write(src / "a.jsonl", jsonl(SFT))
    assert reg.validate_file(path, "alpaca").ok
    forced = reg.validate_file(path, "sharegpt")
    assert not forced.ok and forced.errors[0].startswith(f"{path}:1: missing field 'conversations'")
    with pytest.raises(InvalidInputError) as info:
        reg.validate_file(path, "yaml")
    assert info.value.key == "err.ds_bad_format_name"


# --- bad inputs ---------------------------------------------------------------------------------------


def errors_of(reg, path, fmt="auto") -> list[str]:
    report = reg.validate_file(path, fmt)
    assert not report.ok
    return report.errors


def test_malformed_lines_are_reported_with_their_line_numbers(reg, src):
    path = write(src / "bad.jsonl", '{"text": "ok"}\n{"text": "broken\n\n{"text": "x"},\n{"text": ""}\n7\n')
    report = reg.validate_file(path)
    assert report.valid_rows == 1 and report.total_rows == 5 and report.error_count == 4
    assert report.errors[0].startswith(f"{path}:2: invalid JSON")
    assert report.errors[1] == f"{path}:4: " + "trailing comma (JSON allows no comma before a closing bracket or " \
                                                "at the end of a row)"
    assert report.errors[2] == f"{path}:5: field 'text' is empty"
    assert report.errors[3] == f"{path}:6: the row is a number, not a JSON object"


def test_top_level_array_in_jsonl_suggests_json(reg, src):
    path = write(src / "arr.jsonl", "\n" + json.dumps(SFT, indent=2))
    (error,) = errors_of(reg, path)
    assert error.startswith(f"{path}:2: a JSON array at the top level of a .jsonl file") and "name it .json" in error
    one_line = write(src / "one.jsonl", json.dumps(SFT))
    assert errors_of(reg, one_line)[0].startswith(f"{one_line}:1: a JSON array")


def test_json_array_reports_the_line_of_the_offending_element(reg, src):
    rows = [SFT[0], SFT[1], {"instruction": "q", "input": "", "output": ""}]
    path = write(src / "arr.json", json.dumps(rows, ensure_ascii=False, indent=2))
    text = path.read_text(encoding="utf-8").split("\n")
    third = max(i for i, line in enumerate(text, 1) if line.strip() == "{")
    assert errors_of(reg, path) == [f"{path}:{third}: field 'output' is empty"]
    comma = write(src / "comma.json", '[\n  {"text": "a"},\n  {"text": "b"},\n]\n')
    assert errors_of(reg, comma)[0].startswith(f"{comma}:3: trailing comma")
    inner = write(src / "inner.json", '[\n  {"text": "a",\n  }\n]\n')
    assert errors_of(reg, inner)[0].startswith(f"{inner}:2: trailing comma")
    lines = write(src / "lines.json", jsonl(SFT))
    assert errors_of(reg, lines)[0].startswith(f"{lines}:2: more than one JSON value") and ".jsonl" in \
        errors_of(reg, lines)[0]
    obj = write(src / "obj.json", '{"data": []}')
    assert "must be an array of objects, found an object" in errors_of(reg, obj)[0]


def test_blank_lines_crlf_no_final_newline_and_a_10mb_line_are_fine(reg, src):
    big = "x" * (10 * 2**20)
    path = write(src / "ok.jsonl", '\r\n{"text": "a"}\r\n\r\n   \r\n{"text": "b"}\r\n' + json.dumps({"text": big}))
    report = reg.validate_file(path)
    assert report.ok and report.valid_rows == 3 and report.total_rows == 3
    row = reg.upload(path, "big")
    stored = (Path(row.path)).read_bytes()
    assert b"\r" not in stored and stored.count(b"\n") == 3 and len(stored) > 10 * 2**20


def test_csv_quoted_newlines_and_oversized_fields(settings, reg, src):
    text = 'instruction,input,output\r\n"multi\r\nline\r\nq","","a"\r\nq2,,\r\n'
    path = write(src / "q.csv", text)
    assert errors_of(reg, path) == [f"{path}:5: field 'output' is empty"]
    ok = write(src / "ok.csv", 'instruction,input,output\n"line1\nline2",,"' + "y" * (3 * 2**20) + '"\n')
    assert reg.validate_file(ok).ok
    small = DatasetRegistry(settings, csv_field_limit=2**20)
    errors = small.validate_file(ok).errors
    assert errors == [f"{ok}:2: a field is larger than the 1.0 MB limit"]
    wrong = write(src / "w.csv", "instruction,input,output\nq,i,o,extra\n")
    assert errors_of(reg, wrong) == [f"{wrong}:2: expected 3 fields as in the header, found 4"]
    unclosed = write(src / "u.csv", 'instruction,input,output\nq,i,o\nq,i,"o\n')
    assert errors_of(reg, unclosed) == [f"{unclosed}:3: CSV error: unexpected end of data"]
    nested = write(src / "n.csv", 'conversations\n"[]"\n')
    assert "a CSV file cannot hold nested data" in errors_of(reg, nested)[0]


def test_file_level_problems_are_clear(settings, reg, src):
    empty = write(src / "empty.jsonl", "")
    assert errors_of(reg, empty) == [f"{empty}: the file is empty (no rows)."]
    blank = write(src / "blank.json", "  \n\n")
    assert errors_of(reg, blank) == [f"{blank}: the file is empty (no rows)."]
    capped = DatasetRegistry(settings, max_bytes=100)
    big = write(src / "big.jsonl", jsonl([{"text": "y" * 200}]))
    assert "over the 0.0 MB limit" in capped.validate_file(big).errors[0]
    with pytest.raises(InvalidInputError) as info:
        capped.upload(big, "big")
    assert info.value.key == "err.ds_too_large"
    odd = write(src / "data.xlsx", "x")
    assert "unsupported file type '.xlsx'" in errors_of(reg, odd)[0]
    with pytest.raises(NotFoundError):
        reg.validate_file(src / "missing.jsonl")
    unknown = write(src / "u.jsonl", jsonl([{"question": "q", "answer": "a"}]))
    assert "could not be recognised (fields found: answer, question)" in errors_of(reg, unknown)[0]
    binary = write(src / "b.jsonl", '{"text": "a"}'.encode("utf-16-le"))
    assert "NUL bytes" in errors_of(reg, binary)[0]
    utf16 = reg.validate_file(write(src / "u16.jsonl", '{"text": "a"}'.encode("utf-16")))
    assert utf16.ok and utf16.encoding == "utf-16" and utf16.needs_conversion


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a/b", "..", ""])
def test_unsafe_names_are_refused_and_nothing_is_written(settings, reg, src, name):
    path = write(src / "ok.jsonl", jsonl([{"text": "a"}]))
    with pytest.raises(InvalidInputError) as info:
        reg.upload(path, name)
    assert info.value.key == "err.unsafe_name"
    assert not (settings.work_dir / "datasets").exists() or not any(
        p.suffix != ".lock" and p.name != ".locks" for p in (settings.work_dir / "datasets").iterdir())


def test_sharegpt_role_order_and_empty_messages(reg, src):
    def conv(*turns):
        return {"conversations": [{"from": r, "value": v} for r, v in turns]}

    rows = [conv(("human", "a"), ("gpt", "b")),
            conv(("human", "a"), ("human", "b")),
            conv(("human", "a"), ("gpt", "b"), ("system", "late")),
            conv(("human", "a"), ("function_call", "f"), ("human", "c"), ("gpt", "d")),
            conv(("human", "a"), ("gpt", "b"), ("human", "c")),
            conv(("human", "a"), ("gpt", "  ")),
            conv(("human", "a"), ("robot", "b")),
            conv(("observation", "o"), ("gpt", "b")),
            {"conversations": "not a list"}]
    path = write(src / "c.jsonl", jsonl(rows))
    errors = errors_of(reg, path)
    assert errors == [
        f"{path}:2: message 2: expected 'gpt' / 'function_call', found 'human' (turns must alternate)",
        f"{path}:3: message 3: a system message may only come first",
        f"{path}:4: message 3: a function_call must be followed by an observation, found 'human'",
        f"{path}:5: the conversation must end with 'gpt' / 'function_call', but ends with 'human'",
        f"{path}:6: message 2 (gpt) is empty",
        f"{path}:7: message 2: unknown role 'robot' (allowed: system, human, gpt, function_call, observation)",
        f"{path}:8: message 1: an observation must follow a function_call",
        f"{path}:9: field 'conversations' should be a list, found a string",
    ]
    msgs = write(src / "m.jsonl", jsonl([{"messages": [{"role": "assistant", "content": "hi"}]}]))
    assert errors_of(reg, msgs) == [f"{msgs}:1: message 1: expected 'user', found 'assistant' (turns must alternate)"]
    same = write(src / "s.jsonl", jsonl([{"prompt": "p", "chosen": "x", "rejected": "x"}]))
    assert errors_of(reg, same) == [f"{same}:1: chosen and rejected are identical"]


def test_failed_uploads_leave_nothing_behind(settings, reg, src, monkeypatch):
    bad = write(src / "bad.jsonl", '{"text": "a"}\n{oops}\n')
    with pytest.raises(InvalidInputError) as info:
        reg.upload(bad, "bad")
    assert info.value.key == "err.ds_invalid" and f"{bad.name}:2: invalid JSON" in info.value.message()
    assert_nothing_left(settings, "bad")

    def broken_register(*args, **kwargs):
        raise OSError("disk full")

    good = write(src / "good.jsonl", jsonl([{"text": "a"}]))
    monkeypatch.setattr(dataset_info, "register", broken_register)
    with pytest.raises(OSError):
        reg.upload(good, "good")
    monkeypatch.undo()
    assert_nothing_left(settings, "good")
    assert not (settings.work_dir / "datasets" / "good").exists()
    assert reg.upload(good, "good").samples == 1  # and the name is free again


# --- encodings ----------------------------------------------------------------------------------------


def test_gbk_needs_consent_and_converts_exactly(settings, reg, src):
    rows = [{"instruction": "逆变器报警F012是什么意思？", "input": "", "output": "绝缘阻抗低，请检查组串。"}] * 3
    text = json.dumps(rows, ensure_ascii=False, indent=2)
    path = write(src / "gbk.json", text.encode("gbk"))
    report = reg.validate_file(path)
    assert report.ok and report.encoding == "GBK" and report.needs_conversion
    with pytest.raises(InvalidInputError) as info:
        reg.upload(path, "gbk")
    assert info.value.key == "err.ds_needs_conversion" and info.value.params["encoding"] == "GBK"
    assert_nothing_left(settings, "gbk")
    row = reg.upload(path, "gbk", confirm_conversion=True)
    assert Path(row.path).read_bytes().decode("utf-8") == text
    assert reg.versions("gbk")[0].encoding == "GBK"
    assert reg.preview("gbk").rows[0]["output"] == "绝缘阻抗低，请检查组串。"


def test_undecodable_bytes_never_become_mojibake(reg, src):
    latin = write(src / "fr.jsonl", '{"text": "café crème"}\n'.encode("latin-1"))
    (error,) = errors_of(reg, latin)
    assert error.startswith(f"{latin}:1: byte 13 is neither UTF-8 nor GBK/GB18030")
    korean = "안녕하세요. 인버터 고장 코드를 확인하고 점검을 진행하세요. 안전 규정을 반드시 지켜야 합니다. " * 4
    euc_kr = write(src / "ko.jsonl", ('{"text": "' + korean + '"}\n').encode("euc-kr"))
    assert "neither UTF-8 nor GBK" in errors_of(reg, euc_kr)[0]
    with pytest.raises(InvalidInputError) as info:
        reg.upload(euc_kr, "ko", confirm_conversion=True)
    assert info.value.key == "err.ds_encoding"


def test_utf8_bom_is_accepted(reg, src):
    path = write(src / "bom.csv", "\ufeff" + _csv(SFT))
    report = reg.validate_file(path)
    assert report.ok and report.encoding == "utf-8-sig" and not report.needs_conversion
    row = reg.upload(path, "bom")
    assert not Path(row.path).read_bytes().startswith(b"\xef\xbb\xbf")
    assert reg.preview("bom").columns == ["instruction", "input", "output"]
    jsonl_bom = write(src / "bom.jsonl", "\ufeff" + jsonl(SFT))
    assert reg.validate_file(jsonl_bom).ok


def test_messages_in_chinese(settings, src):
    zh = DatasetRegistry(dataclasses.replace(settings, lang="zh"))
    path = write(src / "e.jsonl", jsonl([{"text": ""}]))
    assert zh.validate_file(path).lines("zh") == [f"{path}:1: 字段“text”为空"]


# --- table, preview, stats, versions, delete, export -------------------------------------------------


def test_table_shows_every_dataset_and_problems_never_hide_the_rest(settings, reg, src):
    reg.upload(write(src / "a.jsonl", jsonl(SFT)), "mine", note="first")
    names = {row.name: row for row in reg.table()}
    assert {"sample_pt", "sample_sft", "sample_dpo", "mine"} <= set(names)
    assert names["sample_sft"].samples == 80 and not names["sample_sft"].managed and names["sample_sft"].size_bytes
    assert names["mine"].version == "v1" and names["mine"].created and names["mine"].samples == 2
    raw = json.loads(settings.dataset_info_path.read_text(encoding="utf-8"))
    raw["broken"] = {"columns": {"prompt": "text"}}
    raw["gone"] = {"file_name": "nowhere.jsonl"}
    settings.dataset_info_path.write_text(json.dumps(raw), encoding="utf-8")
    rows = {row.name: row for row in reg.table()}
    assert rows["broken"].problem and "no file_name" in rows["broken"].problem.render("en")
    assert rows["gone"].problem.render("en").startswith("file missing")
    assert rows["mine"].problem is None and rows["sample_pt"].samples == 67
    assert len(reg.problems()) == 2


def test_preview_pages_and_stats(reg, src):
    rows = [{"text": f"row {i} 文本"} for i in range(45)] + [{"text": "row 0 文本"}]
    path = write(src / "p.jsonl", jsonl(rows))
    reg.upload(path, "p")
    page = reg.preview("p", page=3, page_size=20)
    assert (page.page, page.pages, page.total, len(page.rows)) == (3, 3, 46, 6) and page.columns == ["text"]
    assert reg.preview("p", page=99, page_size=20).page == 3
    stats = reg.stats("p")
    assert stats.samples == 46 and stats.duplicates == 1 and stats.tokens["min"] == 5  # "row", "N" ~ 3 + 2 CJK
    assert sum(stats.histogram["counts"]) == 46 and stats.empty_fields == {"text": 0}


def test_dedup_makes_new_versions_and_keeps_old_ones(settings, reg, src):
    words = ["inverter", "string", "combiner", "fuse", "breaker", "meter", "panel", "cable", "relay", "sensor",
             "alarm", "fault", "module", "tracker"]
    base = [{"instruction": f"Question {i}: " + " ".join(words[(i * k) % 14] for k in range(1, 9)) + f" {i * 7919}",
             "input": "", "output": f"Answer {i}: check " + " and ".join(words[(i + k * 3) % 14] for k in range(4))}
            for i in range(30)]
    near = dict(base[3], output=base[3]["output"] + "!")
    rows = base + [base[0], base[1], near]
    reg.upload(write(src / "d.jsonl", jsonl(rows)), "d")
    v1 = settings.data_dir / "llmops/datasets/d/v1.jsonl"
    v1_bytes = v1.read_bytes()
    exact = reg.dedup("d", near=False, note="exact only")
    assert (exact.before, exact.after, exact.exact_removed, exact.near_removed, exact.version) == (33, 31, 2, 0, "v2")
    assert entries(settings)["d"]["file_name"] == "llmops/datasets/d/v2.jsonl"
    near_result = reg.dedup("d", near=True, threshold=0.8)
    assert (near_result.after, near_result.near_removed, near_result.version) == (30, 1, "v3")
    versions = reg.versions("d")
    assert [(v.version, v.parent, v.samples) for v in versions] == [("v1", None, 33), ("v2", "v1", 31), ("v3", "v2", 30)]
    assert versions[1].note == "exact only" and versions[1].note_text("en") == "dedup: 2 exact and 0 near duplicate(s) removed exact only"
    assert "1 near" in versions[2].note_text("en") and versions[2].message["key"] == "ds.note_dedup"
    assert v1.read_bytes() == v1_bytes and reg.preview("d", version="v1").total == 33
    row = next(r for r in reg.table() if r.name == "d")
    assert (row.version, row.versions, row.samples) == ("v3", 3, 30)
    again = reg.dedup("d")
    assert again.version is None and again.after == 30
    dataset_check.check(settings.data_dir, "d", entries(settings), "sft")
    with pytest.raises(InvalidInputError):
        reg.dedup("d", threshold=0.1)


def test_dedup_adopts_a_hand_registered_dataset(settings, reg, src):
    path = write(settings.data_dir / "own.jsonl", jsonl([{"text": "a"}, {"text": "a"}, {"text": "b"}]))
    dataset_info.register(dataset_info.ensure(settings), "own", {"file_name": "own.jsonl",
                                                                 "columns": {"prompt": "text"}})
    result = reg.dedup("own", near=False)
    assert result.version == "v2" and result.after == 2 and path.exists()
    assert [v.file for v in reg.versions("own")] == ["own.jsonl", "llmops/datasets/own/v2.jsonl"]


def test_delete_keeps_files_unless_asked(settings, reg, src):
    path = write(src / "a.jsonl", jsonl(SFT))
    row = reg.upload(path, "gone")
    reg.delete("gone")
    assert "gone" not in entries(settings) and Path(row.path).exists()
    with pytest.raises(InvalidInputError) as info:
        reg.upload(path, "gone")
    assert info.value.key == "err.ds_folder_exists"
    removed = reg.delete("gone", delete_files=True)
    assert not Path(row.path).exists() and removed
    reg.upload(path, "gone")
    with pytest.raises(NotFoundError):
        reg.delete("never")
    reg.delete("sample_pt", delete_files=True)  # shipped files are never deleted
    assert settings.sample_datasets_dir.joinpath("pt.jsonl").exists()


def test_register_file_in_place_for_generators(settings, reg, src):
    out = write(settings.work_dir / "generated" / "sft_gen.jsonl", jsonl(SFT))
    row = reg.register_file(out, "gen", "alpaca", note="from sft-gen", copy=False)
    assert row.file == "llmops/generated/sft_gen.jsonl" and row.samples == 2 and row.managed
    with pytest.raises(InvalidInputError) as info:
        reg.register_file(write(src / "x.jsonl", jsonl(SFT)), "outside", copy=False)
    assert info.value.key == "err.ds_outside_data"
    assert_nothing_left(settings, "outside")
    with pytest.raises(InvalidInputError) as info:
        reg.register_file(out, "gen")
    assert info.value.key == "err.ds_exists"


def test_concurrent_registrations_all_survive(settings, reg, src):
    paths = [write(src / f"t{i}.jsonl", jsonl([{"text": f"row {i}"}])) for i in range(8)]
    errors = []

    def work(i):
        try:
            DatasetRegistry(settings).upload(paths[i], f"t{i}")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert {f"t{i}" for i in range(8)} <= set(entries(settings))
    clash = [threading.Thread(target=work, args=(0,)) for _ in range(2)]
    for thread in clash:
        thread.start()
    for thread in clash:
        thread.join()
    assert len(errors) == 2 and all(getattr(e, "key", "") in ("err.ds_exists", "err.ds_folder_exists")
                                    for e in errors)


def test_csv_export_is_formula_safe(settings, reg, src, tmp_path):
    rows = [{"instruction": "=HYPERLINK(\"http://x\")", "input": "+1", "output": "-2"},
            {"instruction": "@SUM(A1)", "input": "\tTab", "output": "\rCR"},
            {"instruction": "plain 文本", "input": "", "output": "a=b"}]
    reg.upload(write(src / "f.jsonl", jsonl(rows)), "f")
    out = reg.export_csv("f", tmp_path / "out" / "f.csv")
    text = out.read_bytes().decode("utf-8-sig")
    back = list(csv.reader(io.StringIO(text, newline="")))
    assert back[0] == ["instruction", "input", "output"]
    assert back[1] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2"]
    assert back[2] == ["'@SUM(A1)", "'\tTab", "'\rCR"]
    assert back[3] == ["plain 文本", "", "a=b"]
    assert safe_cell(["=x"]) == '["=x"]' and safe_cell(None) == ""
    assert to_csv_text([{"a": {"k": 1}}]).splitlines()[1] == '"{""k"": 1}"'
