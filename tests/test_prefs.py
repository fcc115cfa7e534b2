"""The preference log: durable, append-only, shared by processes, readable after any crash."""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from llmops.errors import InvalidInputError, StorageError
from llmops.services import prefs
from llmops.services.prefs import PrefsStore, Vote, export_dpo, stats


def make_vote(i: int | str = 0, **over) -> dict:
    vote = {
        "vote_id": f"v{i}",
        "session": "s1",
        "prompt": f"问题 {i}：什么是 LoRA？",
        "system": "你是一个助手。",
        "model_a": "qwen-0.5b@1",
        "model_b": "qwen-0.5b-sft@2",
        "response_a": f"答案 A {i}",
        "response_b": f"答案 B {i}",
        "left": "b",
        "winner": "a",
        "params": {"temperature": 0.7, "max_new_tokens": 64},
        "latency_ms": {"a": 120.0, "b": 98.5},
    }
    vote.update(over)
    return vote


def _append_many(path: str, prefix: str, count: int, results) -> None:
    store = PrefsStore(path)
    stored = sum(store.append(make_vote(f"{prefix}{n}")) for n in range(count))
    results.put(stored)


def _append_until_killed(path: str, acked) -> None:
    store = PrefsStore(path)
    for n in range(100000):
        store.append(make_vote(f"k{n:06d}", response_a="长" * 2000))
        acked.value = n + 1


def run_procs(target, args_list, timeout: float = 60) -> list:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, results)) for args in args_list]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(timeout)
        assert proc.exitcode == 0
    return out


def test_round_trip_keeps_chinese_as_text(settings):
    store = PrefsStore(settings.prefs_path)
    assert store.append(make_vote(1, edited="改进后的答案", extra_field={"kept": True}))
    assert store.append(Vote(**make_vote(2, winner="tie")))
    raw = settings.prefs_path.read_text(encoding="utf-8")
    assert "问题 1" in raw and "\\u" not in raw
    first = json.loads(raw.splitlines()[0])
    assert first["schema"] == 1 and first["extra_field"] == {"kept": True}
    assert first["ts"].endswith("+00:00")
    result = store.read()
    assert result.problems == []
    assert [v.vote_id for v in result.votes] == ["v1", "v2"]
    assert result.votes[0].edited == "改进后的答案" and result.votes[0].model_extra == {"extra_field": {"kept": True}}
    # Extras survive a second write, so other tools' keys are never dropped.
    assert json.loads(result.votes[0].to_line())["extra_field"] == {"kept": True}


def test_duplicate_id_is_stored_once(settings):
    store = PrefsStore(settings.prefs_path)
    assert store.append(make_vote(7)) is True
    assert store.append(make_vote(7, winner="b")) is False
    # A second store (fresh index) sees the id from the file.
    assert PrefsStore(settings.prefs_path).append(make_vote(7)) is False
    assert len(settings.prefs_path.read_text(encoding="utf-8").splitlines()) == 1


def test_index_follows_other_writers_and_rewrites(settings):
    path = settings.prefs_path
    mine, theirs = PrefsStore(path), PrefsStore(path)
    assert mine.append(make_vote(1)) and theirs.append(make_vote(2))
    assert mine.append(make_vote(2)) is False  # appended by the other store since mine last looked
    # Rewritten in place (same inode, longer content): the index is rebuilt, not continued from a stale offset.
    with open(path, "r+b") as handle:
        handle.truncate(0)
        handle.write(Vote(**make_vote(3, response_a="x" * 500)).to_line() + Vote(**make_vote(4)).to_line())
    assert mine.append(make_vote(4)) is False and mine.append(make_vote(1)) is True
    # Replaced by a new file (new inode).
    path.with_name("new.jsonl").write_bytes(Vote(**make_vote(5)).to_line())
    os.replace(path.with_name("new.jsonl"), path)
    assert mine.append(make_vote(5)) is False and mine.append(make_vote(3)) is True


def test_invalid_vote_refused(settings):
    store = PrefsStore(settings.prefs_path)
    with pytest.raises(InvalidInputError) as info:
        store.append(make_vote(1, winner="c"))
    assert info.value.key == "err.prefs_invalid_vote"
    assert not settings.prefs_path.exists()


def test_eight_processes_append_concurrently(settings):
    path = str(settings.prefs_path)
    stored = run_procs(_append_many, [(path, f"p{p}-", 50) for p in range(8)])
    assert stored == [50] * 8
    lines = settings.prefs_path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    ids = [json.loads(line)["vote_id"] for line in lines[:-1]]
    assert len(ids) == 400 and len(set(ids)) == 400
    assert PrefsStore(path).read().problems == []


def test_processes_racing_on_the_same_ids_store_each_once(settings):
    path = str(settings.prefs_path)
    stored = run_procs(_append_many, [(path, "same-", 30) for _ in range(4)])
    assert sum(stored) == 30
    votes = PrefsStore(path).read().votes
    assert sorted(v.vote_id for v in votes) == sorted(f"vsame-{n}" for n in range(30))


def test_writer_killed_midway_loses_nothing_acknowledged(settings):
    ctx = mp.get_context("spawn")
    # A raw value: a locked one would deadlock this reader if the kill lands while the child holds its lock.
    acked = ctx.RawValue("i", 0)
    proc = ctx.Process(target=_append_until_killed, args=(str(settings.prefs_path), acked))
    proc.start()
    deadline = time.monotonic() + 30
    while acked.value < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    done = acked.value
    assert done >= 40
    store = PrefsStore(settings.prefs_path)
    ids = [v.vote_id for v in store.read().votes]  # reading never raises, torn or not
    assert ids[:done] == [f"vk{n:06d}" for n in range(done)]
    assert len(ids) <= done + 1  # the one in flight may or may not have landed
    store.repair()
    assert store.read().problems == []
    assert settings.prefs_path.read_bytes().endswith(b"\n")


def test_torn_tail_and_corrupt_middle_line(settings):
    path = settings.prefs_path
    good = [Vote(**make_vote(n)).to_line() for n in range(3)]
    torn = good[2][:-40]  # a crash cut the last write short
    path.write_bytes(good[0] + b"{not json\n" + good[1] + b"[1, 2]\n" + torn)
    store = PrefsStore(path)
    result = store.read()
    assert [v.vote_id for v in result.votes] == ["v0", "v1"]
    assert len(result.problems) == 3
    assert result.problems[0].startswith(f"{path}:2: invalid JSON")
    assert result.problems[1].startswith(f"{path}:4: expected a JSON object")
    assert result.problems[2].startswith(f"{path}:5: incomplete last line")

    assert store.append(make_vote(9))
    records = [json.loads(line) for line in store.torn_path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 1
    assert records[0]["line"] == 5 and records[0]["offset"] == len(path.read_bytes()) - len(Vote(**make_vote(9)).to_line())
    assert records[0]["text"] == torn.decode("utf-8", "replace")
    after = store.read()
    assert [v.vote_id for v in after.votes] == ["v0", "v1", "v9"]
    assert [p.split(": ")[0] for p in after.problems] == [f"{path}:2", f"{path}:4"]


def test_repair_moves_unparsable_last_line(settings):
    path = settings.prefs_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Vote(**make_vote(1)).to_line() + b'{"vote_id": "v2", "prompt": \n')
    torn = PrefsStore(path).repair()
    assert torn is not None and torn.line == 2
    assert PrefsStore(path).repair() is None
    assert PrefsStore(path).read().problems == []


def test_disk_full_leaves_file_unchanged(settings, monkeypatch):
    store = PrefsStore(settings.prefs_path)
    assert store.append(make_vote(1))
    before = settings.prefs_path.read_bytes()
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(prefs.os, "write", full)
    with pytest.raises(StorageError) as info:
        store.append(make_vote(2))
    assert info.value.key == "err.prefs_write_failed" and "space" in info.value.params["reason"]
    assert settings.prefs_path.read_bytes() == before

    def half_then_full(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(prefs.os, "write", half_then_full)
    with pytest.raises(StorageError):
        store.append(make_vote(3))
    assert settings.prefs_path.read_bytes() == before
    monkeypatch.setattr(prefs.os, "write", real_write)
    assert store.append(make_vote(3))  # the failed id was not recorded as stored
    assert [v.vote_id for v in store.read().votes] == ["v1", "v3"]


def test_export_dpo_shape(settings):
    votes = [
        Vote(**make_vote(1, winner="a")),
        Vote(**make_vote(2, winner="b", edited="更好的答案")),
        Vote(**make_vote(3, winner="tie")),
        Vote(**make_vote(4, winner="both_bad")),
        Vote(**make_vote(5, winner="a", model_a="other@1", model_b="third@1", source="synthetic")),
    ]
    out = settings.work_dir / "dpo.jsonl"
    assert export_dpo(votes, out) == 3
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert set(rows[0]) == {"prompt", "system", "chosen", "rejected", "vote_id"}
    assert rows[0]["chosen"] == "答案 A 1" and rows[0]["rejected"] == "答案 B 1"
    assert rows[1]["chosen"] == "更好的答案" and rows[1]["rejected"] == "答案 A 2"
    assert "更好" in out.read_text(encoding="utf-8")
    assert export_dpo(votes, out, only_models="qwen-0.5b@1") == 2
    assert export_dpo(votes, out, source="synthetic") == 1
    with pytest.raises(InvalidInputError) as info:
        export_dpo(votes[2:4], out)
    assert info.value.key == "err.prefs_export_empty"


def test_stats_counts():
    votes = [
        Vote(**make_vote(1, ts="2024-05-01T23:30:00-02:00")),
        Vote(**make_vote(2, winner="tie", ts="2024-05-02T01:00:00+00:00", source="synthetic")),
        Vote(**make_vote(3, winner="b", model_a="qwen-0.5b-sft@2", model_b="qwen-0.5b@1", ts="2024-05-03T00:00:00")),
    ]
    out = stats(votes)
    assert out["total"] == 3
    assert out["by_winner"] == {"a": 1, "b": 1, "tie": 1, "both_bad": 0}
    assert out["by_source"] == {"human": 2, "synthetic": 1}
    assert out["by_pair"] == {"qwen-0.5b-sft@2 vs qwen-0.5b@1": 3}
    assert out["by_day"] == {"2024-05-02": 2, "2024-05-03": 1}


def test_read_missing_file_is_empty(settings):
    result = PrefsStore(Path(settings.prefs_path)).read()
    assert result.votes == [] and result.problems == []


def test_readers_count_each_vote_id_once_first_line_winning(settings):
    path = settings.prefs_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Another tool appended v1 twice (with a different verdict the second time); the store itself never would.
    lines = [Vote(**make_vote(1, winner="b")).to_line(), Vote(**make_vote(2)).to_line(),
             Vote(**make_vote(1, winner="a", response_b="changed")).to_line()]
    path.write_bytes(b"".join(lines))
    store = PrefsStore(path)
    result = store.read()
    assert [(v.vote_id, v.winner) for v in result.votes] == [("v1", "b"), ("v2", "a")] and result.duplicates == 1
    counts = store.aggregates()
    assert counts.total() == 2 and counts.duplicates == 1
    assert counts.outcomes() == {("qwen-0.5b@1", "qwen-0.5b-sft@2", "b"): 1, ("qwen-0.5b@1", "qwen-0.5b-sft@2", "a"): 1}
    assert stats(result.votes + result.votes)["total"] == 2
    out = settings.work_dir / "pairs.jsonl"
    assert export_dpo(result.votes + [Vote(**make_vote(1, winner="a"))], out) == 2
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["vote_id"] == "v1" and first["chosen"] == "答案 B 1"
    assert store.append(make_vote(1)) is False


def _resign(cache: Path, edit) -> None:
    """Rewrite the .agg file with `edit` applied and a valid checksum, as a newer writer would."""
    _, _, body = cache.read_bytes().partition(b"\n")
    data = json.loads(body)
    edit(data)
    body = json.dumps(data).encode("utf-8")
    cache.write_bytes(prefs.index.CACHE_MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


def test_counts_resume_from_the_file_beside_the_log(settings):
    path = settings.prefs_path
    store = PrefsStore(path)
    for n in range(5):
        store.append(make_vote(n))
    assert store.aggregates().total() == 5
    assert store.cache_path.exists()
    # A new process trusts the .agg file (here doctored to say 1000 votes) and reads only what follows it.
    _resign(store.cache_path, lambda data: data["pairs"][0].__setitem__(4, 1000))
    with open(path, "ab") as handle:
        handle.write(Vote(**make_vote(5)).to_line() + Vote(**make_vote(0)).to_line())
    assert PrefsStore(path).aggregates().total() == 1000 + 1
    # A damaged file is ignored: counted from the log instead.
    data = bytearray(store.cache_path.read_bytes())
    data[-5] ^= 1
    store.cache_path.write_bytes(bytes(data))
    warm = PrefsStore(path).aggregates()
    assert warm.total() == 6 and warm.duplicates == 1
    # So is one that describes another file: the log rewritten in place, or replaced.
    _resign(store.cache_path, lambda data: data["pairs"][0].__setitem__(4, 1000))
    with open(path, "r+b") as handle:
        handle.write(b"{" + b" " * (len(Vote(**make_vote(0)).to_line()) - 3) + b"}\n")
    # v0's first line is no longer a vote, so its repeat at the end now counts.
    rewritten = PrefsStore(path).aggregates()
    assert rewritten.total() == 6 and rewritten.duplicates == 0 and rewritten.problem_count == 1
    assert store.aggregates().pairs == rewritten.pairs  # the live store notices too
    path.with_name("new.jsonl").write_bytes(Vote(**make_vote(9)).to_line())
    os.replace(path.with_name("new.jsonl"), path)
    assert store.aggregates().total() == 1 and PrefsStore(path).aggregates().total() == 1


def test_lines_the_fast_check_leaves_to_pydantic_count_the_same(settings):
    path = settings.prefs_path
    path.parent.mkdir(parents=True, exist_ok=True)
    odd = [
        {k: v for k, v in make_vote(1).items() if k != "vote_id"},  # no id: counted, never a duplicate
        {k: v for k, v in make_vote(1).items() if k != "vote_id"},
        {**make_vote(2), "latency_ms": 3, "ts": "2024-05-01T23:30:00-02:00"},
        {**make_vote(3), "schema": "1"},  # pydantic reads "1" as 1
        {**make_vote(4), "schema_version": 2},
        {**make_vote(5), "left": "c"},  # invalid
        {**make_vote(6), "edited": "  "},
    ]
    path.write_bytes(b"".join((json.dumps(o, ensure_ascii=False) + "\n").encode() for o in odd))
    result = PrefsStore(path).read()
    counts = PrefsStore(path).aggregates()
    assert len(result.votes) == 6 and len(result.problems) == 1
    assert counts.pairs == prefs.Aggregates.of(result.votes).pairs and counts.total() == 6
    assert counts.stats()["by_day"]["2024-05-02"] == 1
    assert list(counts.problems) == result.problems
