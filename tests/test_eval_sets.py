"""Evaluation sets: SFT datasets read as sets, line-level validation, seeded samples, held-out splits, the CLI."""

from __future__ import annotations

import json

import pytest

from llmops.errors import ConflictError, InvalidInputError, NotFoundError
from llmops.lf import dataset_info
from llmops.services.datasets import DatasetRegistry
from llmops.services.evaluation import EvalSets
from tests.test_cli_errors import run_cli


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


ALPACA = [
    {"instruction": "What is F012?", "input": "HX-110", "output": "Insulation resistance low.", "system": "Be terse."},
    {"instruction": "And then?", "input": "", "output": "It retries every 15 minutes.",
     "history": [["What is F012?", "Insulation resistance low."]]},
]
SHAREGPT = [{"system": "你是运维助手。", "conversations": [
    {"from": "human", "value": "F012 是什么？"}, {"from": "gpt", "value": "绝缘阻抗低。"},
    {"from": "human", "value": "多久重试？"}, {"from": "gpt", "value": "每 15 分钟。"}]}]
MESSAGES = [{"messages": [
    {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Fan fault?"},
    {"role": "assistant", "content": "F036."}]}]


@pytest.fixture
def sets(settings):
    return EvalSets(settings)


def test_sft_datasets_of_each_format_become_samples(sets, tmp_path):
    registry = sets.datasets
    registry.upload(_jsonl(tmp_path / "a.jsonl", ALPACA), "alp")
    registry.upload(_jsonl(tmp_path / "s.jsonl", SHAREGPT), "sgpt")
    registry.upload(_jsonl(tmp_path / "m.jsonl", MESSAGES), "msgs")
    first, second = sets.load("alp")
    assert (first.prompt, first.reference, first.system) == ("What is F012?\nHX-110", "Insulation resistance low.",
                                                             "Be terse.")
    assert second.prompt == "And then?" and second.history == [("What is F012?", "Insulation resistance low.")]
    (conv,) = sets.load("sgpt")
    assert (conv.prompt, conv.reference, conv.system) == ("多久重试？", "每 15 分钟。", "你是运维助手。")
    assert conv.history == [("F012 是什么？", "绝缘阻抗低。")]
    assert conv.messages()[0] == {"role": "system", "content": "你是运维助手。"} and len(conv.messages()) == 4
    (msg,) = sets.load("msgs")
    assert (msg.prompt, msg.reference, msg.system, msg.history) == ("Fan fault?", "F036.", "Be brief.", [])
    listed = {(i.name, i.source) for i in sets.list()}
    assert {("alp", "dataset"), ("sgpt", "dataset"), ("msgs", "dataset"), ("sample_sft", "dataset")} <= listed
    assert not any(name == "sample_dpo" for name, _ in listed)  # preference data is no evaluation set


def test_validation_reports_problems_by_line(sets, tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"prompt": "ok", "reference": "r", "label": "A", "metadata": {"k": 1}}\n'
                    '{"prompt": ""}\n'
                    '\n'
                    '{oops\n'
                    '{"reference": "no prompt"}\n'
                    '{"prompt": "p", "history": "not a list"}\n'
                    '{"prompt": "p", "extra": 1}\n', encoding="utf-8")
    report = sets.validate_file(path)
    assert not report.ok and (report.valid_rows, report.error_count) == (1, 5)
    joined = "\n".join(report.errors)
    for line in (2, 4, 5, 6, 7):
        assert f"{path}:{line}:" in joined, line
    assert f"{path}:2: field 'prompt' is empty" in joined and f"{path}:4: invalid JSON" in joined
    assert sets.validate_file(_jsonl(tmp_path / "good.jsonl", [{"prompt": "p"}])).ok
    with pytest.raises(InvalidInputError):
        sets.validate_file(tmp_path / "set.csv")
    with pytest.raises(InvalidInputError, match="1 problem|5 problem"):
        sets.add(path, "broken")


def test_sample_is_deterministic_and_saved(sets):
    first = sets.sample("sample_sft", 10, seed=7)
    assert first == sets.sample("sample_sft", 10, seed=7) and len(first) == 10
    assert first != sets.sample("sample_sft", 10, seed=8)
    everything = sets.load("sample_sft")
    assert [everything.index(s) for s in first] == sorted(everything.index(s) for s in first)
    assert len(sets.sample("sample_sft", 10_000, seed=1)) == len(everything)
    saved = sets.sample("sample_sft", 5, seed=7, save="probe")
    assert sets.load("probe") == saved == sets.sample("sample_sft", 5, seed=7)
    assert ("probe", "set") in {(i.name, i.source) for i in sets.list()}
    with pytest.raises(ConflictError):
        sets.sample("sample_sft", 5, seed=7, save="probe")  # never overwritten
    with pytest.raises(NotFoundError):
        sets.load("no-such-set")


def test_split_writes_an_eval_and_a_train_version(sets, settings, tmp_path):
    rows = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(20)]
    sets.datasets.upload(_jsonl(tmp_path / "d.jsonl", rows), "ops")
    result = sets.split("ops", eval_fraction=0.25, seed=3)
    assert (result.eval_version, result.train_version) == ("v2", "v3")
    assert (result.eval_samples, result.train_samples) == (5, 15)
    versions = {v.version: v for v in sets.datasets.versions("ops")}
    assert versions["v2"].parent == versions["v3"].parent == "v1" and versions["v2"].samples == 5
    entry = dataset_info.read(settings.dataset_info_path).entries["ops"]
    assert entry["file_name"] == versions["v3"].file  # training on "ops" now uses the train part
    held = sets.load(result.eval_set)
    train = sets.load("ops")
    assert len(held) == 5 and len(train) == 15
    assert {s.prompt for s in held}.isdisjoint({s.prompt for s in train})
    assert {s.prompt for s in held} | {s.prompt for s in train} == {r["instruction"] for r in rows}
    again = EvalSets(settings, DatasetRegistry(settings))
    with pytest.raises(InvalidInputError):
        again.split("ops", eval_fraction=1.5)
    # A hand-registered dataset (the shipped sample) is adopted as v1 first, its file untouched.
    sample = again.split("sample_sft", eval_fraction=0.1, seed=0)
    assert (sample.eval_version, sample.train_version, sample.eval_samples, sample.train_samples) == ("v2", "v3", 8, 72)


def test_eval_cli_commands(settings, tmp_path):
    preds = _jsonl(tmp_path / "generated_predictions.jsonl",
                   [{"prompt": "p", "predict": "逆变器重试", "label": "逆变器每 15 分钟重试一次。"},
                    {"prompt": "p", "predict": "It retries.", "label": "It retries."}])
    code, out, _ = run_cli(["eval", "score", str(preds), "--json"])
    summary = json.loads(out)
    assert code == 0 and set(summary) == {"bleu-4", "rouge-1", "rouge-2", "rouge-l", "sacrebleu", "exact_match", "n"}
    assert summary["n"] == 2 and summary["exact_match"] == 50.0
    code, out, _ = run_cli(["eval", "score", str(preds), "--metrics", "lf_bleu4,exact_match", "--json"])
    assert code == 0 and set(json.loads(out)) == {"bleu-4", "exact_match", "n"}
    code, _, err = run_cli(["eval", "score", str(preds), "--metrics", "bleu"])
    assert code == 2 and "Unknown metric 'bleu'" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"prompt": 3}\n', encoding="utf-8")
    code, out, _ = run_cli(["eval", "sets", "validate", str(bad)])
    assert code == 1 and f"{bad}:2:" in out
    code, out, _ = run_cli(["eval", "sets", "sample", "sample_sft", "--n", "3", "--seed", "1", "--json"])
    assert code == 0 and len(json.loads(out)) == 3
    code, out, _ = run_cli(["eval", "sets", "preview", "sample_sft", "--page-size", "2", "--json"])
    assert code == 0 and json.loads(out)["total"] == 80 and len(json.loads(out)["samples"]) == 2
    code, out, _ = run_cli(["eval", "sets", "split", "sample_sft", "--eval-fraction", "0.2", "--seed", "1", "--json"])
    assert code == 0 and json.loads(out)["eval_samples"] == 16
    code, out, _ = run_cli(["eval", "sets", "list", "--json"])
    assert code == 0 and any(r["name"] == "sample_sft" for r in json.loads(out))
    code, _, err = run_cli(["eval", "sets", "split", "sample_sft", "--eval-fraction", "1"])
    assert code == 2 and "--eval-fraction" in err
