"""Data generation: corpus build + registration, rule-based and LLM instruction data, mock preferences, CLI.

The LLM generator is exercised against a small OpenAI-compatible HTTP server on 127.0.0.1 that answers with
well-formed pairs, 429-then-success, 5xx, slow replies and garbage, so retries, timeouts, malformed counting,
dedup and stop-with-partial-results are proven on the wire (the real LLaMA-Factory server is in test_data_real).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from llmops.errors import ConflictError, InvalidInputError, NotFoundError
from llmops.lf import dataset_info
from llmops.services.corpus import CorpusOptions
from llmops.services.datagen import (
    DEGRADED,
    REFERENCE,
    CorpusChunk,
    EmptyGeneration,
    Endpoint,
    RulesOptions,
    Secret,
    build_corpus,
    degrade,
    generate_llm,
    generate_rules,
    instruction_key,
    mock_prefs,
    parse_pairs,
    rule_pairs,
    trim_answer,
)
from llmops.services.prefs import PrefsStore, export_dpo
from tests.apphelpers import ROOT, free_port
from tests.servers import QuietHTTPServer

KEY = "sk-test-5ecret-do-not-leak-4242"


def _entries(settings) -> dict:
    return dataset_info.read(settings.dataset_info_path).entries


# --- corpus build -------------------------------------------------------------------------------------------


def test_corpus_build_writes_timestamped_jsonl_and_registers_pt(settings):
    first = build_corpus(settings, ["preset"])
    second = build_corpus(settings, [settings.sample_docs_dir])
    assert first.path != second.path  # same second: create_unique picked another name, nothing overwritten
    for built in (first, second):
        assert built.path.parent == settings.work_dir and re.fullmatch(r"domain_corpus_\d{8}_\d{6}(_\d+)?\.jsonl",
                                                                         built.path.name)
        assert built.dataset_name == built.path.stem
        assert _entries(settings)[built.dataset_name] == {"file_name": f"llmops/{built.path.name}",
                                                          "columns": {"prompt": "text"}}
        assert dataset_info.entry_kind(_entries(settings)[built.dataset_name]) == "pt"
    rows = [json.loads(line) for line in first.path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == first.stats.records > 50
    assert {"text", "source", "section", "lang", "tokens"} <= set(rows[0])
    assert {r["lang"] for r in rows} == {"zh", "en"} and any("逆变器" in r["text"] for r in rows)


def test_corpus_build_refuses_bad_input_and_registers_nothing(settings, tmp_path):
    with pytest.raises(NotFoundError) as missing:
        build_corpus(settings, [tmp_path / "nope"])
    assert missing.value.key == "err.corpus_source_missing"
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("hi", encoding="utf-8")
    with pytest.raises(InvalidInputError) as empty:
        build_corpus(settings, [tiny])
    assert empty.value.key == "err.gen_corpus_empty"
    out = tmp_path / "mine.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    with pytest.raises(ConflictError) as exists:
        build_corpus(settings, ["preset"], CorpusOptions(max_tokens=128), out=out)
    assert exists.value.key == "err.gen_out_exists" and out.read_text() == "keep me\n"
    assert not settings.dataset_info_path.exists() or not any(n.startswith(("domain", "mine"))
                                                              for n in _entries(settings))


# --- rule-based generation ----------------------------------------------------------------------------------


def test_rules_turn_the_shipped_docs_into_registered_alpaca_data(settings):
    corpus = build_corpus(settings, ["preset"])
    result = generate_rules(settings, corpus.path)
    assert re.fullmatch(r"sft_data_\d{8}_\d{6}(_\d+)?\.json", result.path.name)
    assert _entries(settings)[result.dataset_name] == {
        "file_name": f"llmops/{result.path.name}", "formatting": "alpaca",
        "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
    raw = result.path.read_text(encoding="utf-8")
    assert "\\u" not in raw and "逆变器" in raw  # ensure_ascii=False
    rows = json.loads(raw)
    assert len(rows) == len(result.pairs) == result.stats["pairs"] > 100
    assert all(set(r) == {"instruction", "input", "output"} and r["output"] for r in rows)
    keys = [instruction_key(r["instruction"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert result.stats["by_lang"]["zh"] > 30 and result.stats["by_lang"]["en"] > 30
    assert {"overview", "howto", "steps", "points"} <= set(result.stats["by_kind"])
    questions = {r["instruction"] for r in rows}
    assert any(q.endswith("isolate an HX-110 inverter?") for q in questions)
    assert "积灰损失怎么测？" in questions
    assert any(q.startswith("What are the steps for") for q in questions)
    assert all(len(r["output"]) <= 601 for r in rows)
    # Answers end at a sentence or line end, never inside a word.
    assert all(r["output"][-1] in ".。!?！？;；)）|%" or r["output"][-1].isalnum() for r in rows)


def test_rules_are_deterministic_and_skip_what_cannot_be_asked(settings):
    code = "```python\nprint('x')\n```"
    chunks = [
        CorpusChunk("Guide\n\nThis guide explains how to operate the pump station safely and well.", "Guide", "en"),
        CorpusChunk("Only code\n\n" + code, "Guide > Only code", "en"),
        CorpusChunk("Empty", "Guide > Empty", "en"),
        CorpusChunk("Replacing a Fan\n\nA worn fan overheats the unit.\n\n1. Stop the unit and lock it out.\n2. Remove the cover.\n3. Swap the fan.",
                    "Guide > Replacing a Fan", "en"),
        CorpusChunk("No heading at all, just a long paragraph of text for the corpus.", "", "en"),
        CorpusChunk("更换风扇\n\n先停机并挂牌上锁。然后拆下外壳，更换风扇模块。最后复测转速。", "指南 > 更换风扇", "zh"),
        CorpusChunk("Guide\n\nThis guide explains how to operate the pump station safely and well.", "Guide", "en"),
    ]
    pairs, stats = rule_pairs(chunks, RulesOptions(seed=3))
    assert stats["skipped"] == {"empty": 1, "code_only": 1, "short": 0, "no_section": 1}
    assert stats["duplicates"] >= 1  # the repeated "Guide" section
    questions = [p["instruction"] for p in pairs]
    assert any("replace a fan" in q for q in questions) and any(
        q.startswith(("List the steps", "What are the steps")) for q in questions)
    assert any(q.startswith(("如何更换风扇", "更换风扇应该")) for q in questions)
    assert rule_pairs(chunks, RulesOptions(seed=3)) == (pairs, stats)
    seeds = {tuple(p["instruction"] for p in rule_pairs(chunks, RulesOptions(seed=s))[0]) for s in range(8)}
    assert len(seeds) > 1  # the seed picks among templates


def test_trim_answer_stops_at_sentence_ends_and_never_inside_code():
    text = "First sentence here. Second one is longer than the first. Third."
    assert trim_answer(text, 40) == "First sentence here."
    assert trim_answer("甲乙丙丁。戊己庚辛壬癸。子丑寅卯。", 12) == "甲乙丙丁。戊己庚辛壬癸。"
    steps = "Do this:\n1. Open the box.\n2. Read the label.\n3. Close it again."
    assert trim_answer(steps, 50) == "Do this:\n1. Open the box.\n2. Read the label."
    code = "Intro line here that is long.\n\n```\nx = 1. y = 2. z = 3.\nmore code\n```\n\nAfter."
    assert trim_answer(code, 60) == "Intro line here that is long."


def test_rules_with_no_usable_section_register_nothing(settings, tmp_path):
    corpus = tmp_path / "flat.jsonl"
    corpus.write_text(json.dumps({"text": "a plain text record with no heading path at all"}) + "\n", encoding="utf-8")
    with pytest.raises(EmptyGeneration) as caught:
        generate_rules(settings, corpus)
    assert caught.value.key == "err.gen_no_pairs_rules" and caught.value.result.stats["skipped"]["no_section"] == 1
    assert not list(settings.work_dir.glob("sft_data_*"))


# --- LLM generation: parsing and secrets ------------------------------------------------------------------


def test_parse_pairs_is_lenient():
    fenced = 'Sure!\n```json\n[{"instruction": "Q1?", "output": "A1."}, {"instruction": "Q2?", "output": "A2."}]\n```'
    assert [p["instruction"] for p in parse_pairs(fenced)] == ["Q1?", "Q2?"]
    prose = 'Here you go: [{"question": "Q?", "answer": "A."}] hope it helps [1]'
    assert parse_pairs(prose) == [{"instruction": "Q?", "input": "", "output": "A."}]
    wrapped = '{"pairs": [{"instruction": "Q?", "output": "A."}, {"instruction": "", "output": "x"}, 3]}'
    assert len(parse_pairs(wrapped)) == 1
    assert parse_pairs('{"instruction": "Only one?", "output": "Yes."}')[0]["output"] == "Yes."
    assert parse_pairs('[1, 2] then [{"instruction": "late?", "output": "found"}]')[0]["instruction"] == "late?"
    assert parse_pairs(json.dumps([{"instruction": f"Q{i}", "output": "A"} for i in range(5)]), limit=2)[1] == \
        {"instruction": "Q1", "input": "", "output": "A"}
    for garbage in ("", "no json here", "[[[[", '{"instruction": 3, "output": []}', "ĠtheĠ{ĠofĠ[Ġand"):
        assert parse_pairs(garbage) == []


def test_api_key_is_never_shown_or_serialised(monkeypatch):
    monkeypatch.setenv("MY_KEY", KEY)
    endpoint = Endpoint.from_env("http://127.0.0.1:1/v1/", "m", "MY_KEY")
    assert endpoint.base_url == "http://127.0.0.1:1/v1" and endpoint.api_key.reveal() == KEY
    for shown in (repr(endpoint), str(endpoint), repr(endpoint.api_key), json.dumps(endpoint.public())):
        assert KEY not in shown
    with pytest.raises(TypeError):
        pickle.dumps(endpoint.api_key)
    assert Secret(KEY).redact(f"bad key {KEY}!") == "bad key ***!"
    with pytest.raises(InvalidInputError) as unset:
        Endpoint.from_env("http://x/v1", "m", "NOT_SET_ANYWHERE")
    assert "NOT_SET_ANYWHERE" in unset.value.message()
    with pytest.raises(InvalidInputError) as bad_url:
        Endpoint("ftp://x", "m")
    assert bad_url.value.key == "err.gen_bad_base_url"


# --- LLM generation against an OpenAI-compatible server on loopback -----------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        server: FakeLLM = self.server  # type: ignore[assignment]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        tag = re.search(r"\[(\w+)-(\d+)\]", body["messages"][-1]["content"])
        with server.lock:
            kind, n = (tag.group(1), int(tag.group(2))) if tag else ("ok", 1000 + sum(server.calls.values()))
            server.calls[f"{kind}-{n}"] += 1
            calls = server.calls[f"{kind}-{n}"]
            server.auth.add(self.headers.get("Authorization", ""))
            server.max_tokens.add(body.get("max_tokens"))
        try:
            self._answer(kind, n, calls)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before we answered

    def _answer(self, kind: str, n: int, calls: int) -> None:
        if kind == "auth":
            return self._send(401, {"error": {"message": f"Incorrect API key provided: {KEY}"}})
        if kind == "down" or (kind == "flaky" and calls == 1):
            return self._send(500 if kind == "down" else 503, {"error": {"message": "overloaded"}})
        if kind == "rate" and calls == 1:
            return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
        if kind == "stuck" or (kind == "slow" and calls == 1):
            time.sleep(1.6)
        if kind == "bad":
            content = "I am a tiny model and this is not JSON at all."
        elif kind == "dup":  # the same questions as ok-1, differently cased and punctuated
            content = json.dumps([{"instruction": f"question ok 1 {x}", "output": "again"} for x in "ab"])
        else:
            pairs = [{"instruction": f"Question {kind} {n} {x}?", "output": f"Answer {x}."} for x in "ab"]
            content = f"```json\n{json.dumps(pairs)}\n```" if n % 2 == 0 else f"Here: {json.dumps(pairs)} done."
        self._send(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": "fake",
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": content}}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    def _send(self, code: int, obj: dict, headers: dict | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeLLM(QuietHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.calls: Counter = Counter()
        self.auth: set[str] = set()
        self.max_tokens: set = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture
def fake_llm():
    server = FakeLLM()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _corpus(tmp_path: Path, tags: list[str]) -> Path:
    path = tmp_path / "corpus.jsonl"
    lines = [json.dumps({"text": f"[{tag}] A passage about the pump station, long enough to be sent.",
                         "section": f"Doc > {tag}", "lang": "en", "source": "doc.md"}) for tag in tags]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


FAST = {"pairs_per_chunk": 2, "max_workers": 4, "timeout_s": 0.8, "max_retries": 2, "backoff_s": 0.01,
        "backoff_max_s": 0.05, "max_tokens": 200}


def test_llm_generation_retries_times_out_counts_malformed_and_dedups(settings, fake_llm, tmp_path):
    tags = ["ok-1", "ok-2", "dup-1", "rate-1", "flaky-1", "slow-1", "stuck-1", "down-1", "bad-1"]
    seen = []
    result = generate_llm(settings, _corpus(tmp_path, tags), Endpoint(fake_llm.base_url, "fake", Secret(KEY)),
                          FAST, progress=lambda *counts: seen.append(counts))
    stats = result.stats
    assert fake_llm.calls == Counter({"ok-1": 1, "ok-2": 1, "dup-1": 1, "bad-1": 1, "rate-1": 2, "flaky-1": 2,
                                      "slow-1": 2, "stuck-1": 3, "down-1": 3})
    assert (stats["ok"], stats["malformed"], stats["failed"], stats["skipped"]) == (6, 1, 2, 0)
    assert stats["requests"] == 16 and stats["retries"] == 7 and stats["timeouts"] == 4
    assert stats["errors"] == {"http_429": 1, "http_503": 1, "http_500": 3, "timeout": 4}
    assert stats["pairs_raw"] == 12 and stats["duplicates"] == 2 and stats["pairs"] == 10
    assert seen[0] == (0, 9, 0, 0, 0) and seen[-1] == (9, 9, 6, 1, 2)
    assert fake_llm.auth == {f"Bearer {KEY}"} and fake_llm.max_tokens == {200}
    rows = json.loads(result.path.read_text(encoding="utf-8"))
    assert [r["instruction"] for r in rows][:2] == ["Question ok 1 a?", "Question ok 1 b?"]  # chunk order kept
    assert len(rows) == 10 and _entries(settings)[result.dataset_name]["formatting"] == "alpaca"
    # The key reached the server and nowhere else: not the files, the stats, or the result's repr.
    leaked = [p for p in settings.home.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not leaked and KEY not in json.dumps(stats) and KEY not in repr(result)


def test_stop_keeps_partial_results(settings, fake_llm, tmp_path):
    stop = threading.Event()

    def progress(done, total, ok, malformed, failed):
        if done >= 2:
            stop.set()

    result = generate_llm(settings, _corpus(tmp_path, [f"ok-{i}" for i in range(1, 9)]),
                          Endpoint(fake_llm.base_url, "fake"), {**FAST, "max_workers": 1},
                          stop_event=stop, progress=progress)
    stats = result.stats
    assert stats["stopped"] and 2 <= stats["ok"] <= 3 and stats["skipped"] == 8 - stats["ok"]
    assert sum(fake_llm.calls.values()) == stats["ok"]
    assert len(json.loads(result.path.read_text(encoding="utf-8"))) == 2 * stats["ok"]
    assert result.dataset_name in _entries(settings)


def test_refused_or_unreachable_endpoint_aborts_without_registering(settings, fake_llm, tmp_path):
    with pytest.raises(EmptyGeneration) as refused:
        generate_llm(settings, _corpus(tmp_path, [f"auth-{i}" for i in range(5)]),
                     Endpoint(fake_llm.base_url, "fake", Secret(KEY)), {**FAST, "max_workers": 1})
    assert refused.value.key == "err.gen_llm_aborted" and "http_401" in refused.value.message()
    assert KEY not in refused.value.message() and KEY not in json.dumps(refused.value.result.stats)
    assert sum(fake_llm.calls.values()) == 1 and refused.value.result.stats["skipped"] == 4

    started = time.monotonic()
    with pytest.raises(EmptyGeneration) as unreachable:
        generate_llm(settings, _corpus(tmp_path, [f"ok-{i}" for i in range(20)]),
                     Endpoint(f"http://127.0.0.1:{free_port()}/v1", "fake"), {**FAST, "max_workers": 1})
    stats = unreachable.value.result.stats
    assert unreachable.value.key == "err.gen_llm_aborted" and stats["failed"] == 3 and stats["skipped"] == 17
    assert time.monotonic() - started < 10
    assert not list(settings.work_dir.glob("sft_data_*"))

    with pytest.raises(EmptyGeneration) as garbage:
        generate_llm(settings, _corpus(tmp_path, ["bad-1", "bad-2"]), Endpoint(fake_llm.base_url, "fake"), FAST)
    assert garbage.value.key == "err.gen_no_pairs_llm" and garbage.value.result.stats["malformed"] == 2
    with pytest.raises(InvalidInputError) as bad:
        generate_llm(settings, _corpus(tmp_path, ["ok-1"]), Endpoint(fake_llm.base_url, "fake"), {"max_workers": 0})
    assert bad.value.key == "err.gen_options_invalid"


# --- mock preferences ---------------------------------------------------------------------------------------


def test_mock_prefs_append_synthetic_votes_that_export_to_dpo(settings):
    dataset_info.ensure(settings)
    made = mock_prefs(settings, "sample_sft", seed=7)
    votes = PrefsStore(settings.prefs_path).read().votes
    assert made.count == len(votes) > 5 and made.session.startswith("synthetic-")
    reference = json.loads((ROOT / "data" / "samples" / "sft.json").read_text(encoding="utf-8"))
    for vote, row in zip(votes, reference):
        assert vote.source == "synthetic" and vote.session == made.session
        assert {vote.model_a, vote.model_b} == {REFERENCE, DEGRADED}
        winner = vote.response_a if vote.winner == "a" else vote.response_b
        loser = vote.response_b if vote.winner == "a" else vote.response_a
        assert (vote.model_a if vote.winner == "a" else vote.model_b) == REFERENCE
        assert winner == row["output"] and loser != winner
    assert {v.left for v in votes} == {"a", "b"} and {v.winner for v in votes} == {"a", "b"}
    assert len(made.by_kind) >= 3
    out = settings.work_dir / "dpo_synthetic.jsonl"
    assert export_dpo(votes, out, source="synthetic") == made.count
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["chosen"] == reference[0]["output"]

    again = mock_prefs(settings, ROOT / "data" / "samples" / "sft.json", limit=3, seed=7)
    assert again.count == 3 and len(PrefsStore(settings.prefs_path).read().votes) == made.count + 3
    with pytest.raises(InvalidInputError) as wrong:
        mock_prefs(settings, "sample_pt")
    assert wrong.value.key == "err.gen_sft_kind"
    with pytest.raises(NotFoundError):
        mock_prefs(settings, "no_such_dataset")


def test_degradations_are_deterministic_and_really_worse():
    import random

    text = "The inverter restarts after 60 s. It retries every 15 minutes. Call the site manager if it fails."
    kinds = Counter()
    for i in range(40):
        kind, worse = degrade(text, random.Random(i))
        assert worse != text and worse.strip()
        assert degrade(text, random.Random(i)) == (kind, worse)
        kinds[kind] += 1
        if kind == "truncate":
            assert text.startswith(worse) and not worse.endswith(".")
        if kind == "number":
            assert re.sub(r"\d", "#", worse) == re.sub(r"\d", "#", text)
    assert set(kinds) == {"truncate", "shuffle_drop", "number", "vague"}
    assert degrade("短。", random.Random(0))[0] == "vague"


# --- CLI ----------------------------------------------------------------------------------------------------


def _cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmops", "data", *args], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_cli_corpus_sft_gen_and_mock_prefs(settings, fake_llm):
    built = _cli("corpus", "--source", "preset", "--max-tokens", "256", "--json")
    assert built.returncode == 0, built.stderr
    corpus = json.loads(built.stdout)
    assert corpus["stats"]["records"] > 50 and corpus["dataset_name"] in _entries(settings)
    rules = _cli("sft-gen", "--corpus", corpus["path"], "--json")
    assert rules.returncode == 0, rules.stderr
    sft = json.loads(rules.stdout)
    assert sft["stats"]["pairs"] > 50 and sft["dataset_name"] in _entries(settings)
    llm = _cli("sft-gen", "--corpus", corpus["path"], "--mode", "llm", "--base-url", fake_llm.base_url, "--model",
               "fake", "--api-key-env", "DATAGEN_TEST_KEY", "--max-chunks", "3", "--concurrency", "2",
               env={"DATAGEN_TEST_KEY": KEY})
    assert llm.returncode == 0, llm.stderr
    assert "6 question/answer pairs" in llm.stdout and KEY not in llm.stderr + llm.stdout
    assert fake_llm.auth == {f"Bearer {KEY}"} and sum(fake_llm.calls.values()) == 3
    prefs = _cli("mock-prefs", "--sft", sft["dataset_name"], "--limit", "5")
    assert prefs.returncode == 0 and "5 synthetic preference votes" in prefs.stdout
    missing = _cli("corpus", "--source", str(settings.home / "nope"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    zh = _cli("sft-gen", "--corpus", "preset", "--mode", "llm", env={"LLMOPS_LANG": "zh"})
    assert zh.returncode == 2 and "--base-url" in zh.stderr and "必须提供" in zh.stderr
    leaked = [p for p in settings.home.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not leaked


def test_cli_corpus_filters_by_language_and_length(settings):
    built = _cli("corpus", "--source", "preset", "--languages", "zh", "--min-chars", "200", "--json")
    assert built.returncode == 0, built.stderr
    data = json.loads(built.stdout)
    rows = [json.loads(line) for line in open(data["path"], encoding="utf-8")]
    assert rows and all(row["lang"] == "zh" and len(row["text"]) >= 200 for row in rows)
    assert data["stats"]["removed"]["language"] > 0 and data["stats"]["removed"]["too_short"] > 0
