"""prefs stats|leaderboard|export-dpo and loop dpo-round, from a terminal."""

from __future__ import annotations

import json
import random

from llmops.services.container import build_services
from llmops.services.models import ModelRegistry
from llmops.services.prefs import PrefsStore, Vote

from .test_cli import cli

STRENGTH = {"m1@v1.0": 2.0, "m2@v1.0": 1.0, "m3@v1.0": 0.0}


def seed_votes(path, n=300):
    rng = random.Random(0)
    store = PrefsStore(path)
    models = list(STRENGTH)
    for i in range(n):
        a, b = rng.sample(models, 2)
        p_a = 1 / (1 + 10 ** ((STRENGTH[b] - STRENGTH[a]) / 1.5))
        winner = "a" if rng.random() < p_a else "b"
        store.append(Vote(prompt=f"p{i} 问题", model_a=a, model_b=b, response_a=f"answer a {i}",
                          response_b=f"answer b {i}", winner=winner, left=rng.choice("ab"),
                          edited="改进的回答" if i == 0 else None, source="human" if i % 3 else "synthetic"))


def test_prefs_commands(settings):
    seed_votes(settings.prefs_path)
    stats = json.loads(cli("prefs", "stats", "--json").stdout)
    assert stats["total"] == 300 and stats["by_source"]["synthetic"] == 100
    board = json.loads(cli("prefs", "leaderboard", "--json").stdout)
    assert [row["model"] for row in board] == ["m1@v1.0", "m2@v1.0", "m3@v1.0"]
    assert all(set(row) == {"model", "rating", "ci_low", "ci_high", "votes"} for row in board)
    assert all(row["ci_low"] <= row["rating"] <= row["ci_high"] for row in board)
    human = json.loads(cli("prefs", "leaderboard", "--source", "human", "--json").stdout)
    assert sum(row["votes"] for row in human) == 2 * 200
    out = settings.home / "pairs.jsonl"
    exported = json.loads(cli("prefs", "export-dpo", "--out", str(out), "--json").stdout)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert exported["pairs"] == len(lines) == 300
    assert set(lines[0]) == {"prompt", "system", "chosen", "rejected", "vote_id"}
    assert lines[0]["chosen"] == "改进的回答"
    registered = json.loads(cli("prefs", "export-dpo", "--json").stdout)
    info = json.loads(settings.dataset_info_path.read_text(encoding="utf-8"))
    assert info[registered["dataset"]]["ranking"] is True


def test_dpo_round_from_the_cli(settings, demo_model_dir):
    ModelRegistry(settings).add_base("demo", str(demo_model_dir), template="chatml")
    store = PrefsStore(settings.prefs_path)
    for i in range(5):
        store.append(Vote(prompt=f"q{i}", model_a="demo@v1.0", model_b="other@v1.0", response_a=f"good {i}",
                          response_b=f"bad {i}", winner="a"))
    result = cli("loop", "dpo-round", "--base", "demo@v1.0", "--set", "max_steps=2", "--set", "cutoff_len=128",
                 "--set", "logging_steps=1", "--set", "gradient_accumulation_steps=1", "--wait")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("5 pairs")
    new_id = result.stdout.strip().splitlines()[-1]
    entry = ModelRegistry(settings).get(new_id)
    assert entry.name == "demo" and entry.lineage["parent_id"] == "demo@v1.0"
    bad = cli("loop", "dpo-round", "--base", "nope@v1")
    assert bad.returncode == 2 and "nope@v1" in bad.stderr


def test_cli_counts_a_vote_appended_twice_once(settings):
    seed_votes(settings.prefs_path, n=30)
    lines = settings.prefs_path.read_bytes().splitlines(keepends=True)
    with open(settings.prefs_path, "ab") as handle:
        handle.write(lines[0] + lines[1] + b"{torn")  # another tool wrote two votes again, then crashed mid-line
    stats = json.loads(cli("prefs", "stats", "--json").stdout)
    assert stats["total"] == 30 and stats["duplicates"] == 2 and len(stats["problems"]) == 1
    board = json.loads(cli("prefs", "leaderboard", "--json").stdout)
    assert sum(row["votes"] for row in board) == 2 * 30
    out = settings.home / "pairs.jsonl"
    exported = json.loads(cli("prefs", "export-dpo", "--out", str(out), "--json").stdout)
    ids = [json.loads(x)["vote_id"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert exported["pairs"] == len(ids) == len(set(ids)) == 30


def test_preparing_a_round_twice_reuses_the_export(settings, demo_model_dir):
    services = build_services(settings)
    services.models.add_base("demo", str(demo_model_dir), template="chatml")
    for i in range(4):
        services.prefs.append(Vote(prompt=f"q{i}", model_a="demo@v1.0", model_b="other@v1.0", response_a=f"good {i}",
                                   response_b=f"bad {i}", winner="a"))
    first = services.loop.prepare("demo@v1.0")
    info_before = settings.dataset_info_path.stat().st_mtime_ns
    second = services.loop.prepare("demo@v1.0", only_current=True)  # the same votes, so the same pairs
    assert (second.dataset, second.export_path, second.pairs) == (first.dataset, first.export_path, 4)
    assert second.config.datasets == first.config.datasets == [first.dataset]
    assert sorted(settings.work_dir.glob("dpo_prefs_*")) == [first.export_path]
    assert settings.dataset_info_path.stat().st_mtime_ns == info_before
    info = json.loads(settings.dataset_info_path.read_text(encoding="utf-8"))
    assert [name for name in info if name.startswith("dpo_prefs_")] == [first.dataset]
    services.prefs.append(Vote(prompt="q9", model_a="other@v1.0", model_b="demo@v1.0", response_a="meh",
                               response_b="fine", winner="b"))
    third = services.loop.prepare("demo@v1.0")
    assert third.dataset != first.dataset and third.pairs == 5
    info = json.loads(settings.dataset_info_path.read_text(encoding="utf-8"))
    assert sorted(name for name in info if name.startswith("dpo_prefs_")) == sorted([first.dataset, third.dataset])
