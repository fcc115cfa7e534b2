"""Properties of the preference log readers: damage never raises or loses a whole valid line; the first line of a
vote_id wins; the incremental counts always equal counts made from scratch."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmops.services import prefs_index as index
from llmops.services.prefs import Aggregates, PrefsStore

MODELS = ("m1@v1.0", "m2@v1.0", "reference@synthetic")
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def vote_obj(vote_id: str, k: int) -> dict:
    a, b = MODELS[k % 3], MODELS[(k + 1 + k // 3 % 2) % 3]
    return {"schema": 1, "vote_id": vote_id, "ts": f"2026-0{1 + k % 3}-1{k % 10}T2{k % 4}:00:00{'-05:00' if k % 4 == 1 else '+00:00'}",
            "prompt": f"问题 {k}", "model_a": a, "model_b": b, "response_a": f"A{k}", "response_b": f"B{k}",
            "winner": ("a", "b", "tie", "both_bad")[k % 4], "source": ("human", "synthetic")[k % 5 == 0],
            "left": "ab"[k % 2], "extra": {"kept": k}}


def line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


# Lines that are not votes: raw bytes, JSON that is not an object, and vote-shaped objects with one bad field
# (these may carry the vote_id of a real vote, which must not shadow it).
BAD_FIELDS = st.sampled_from([("winner", "c"), ("model_a", ""), ("prompt", 5), ("ts", "yesterday"),
                              ("source", None), ("left", "x"), ("schema", 0), ("latency_ms", "fast")])
GARBAGE = st.one_of(
    st.binary(max_size=40).filter(lambda raw: b"\n" not in raw).map(lambda raw: raw + b"\n"),
    st.sampled_from([b"[1, 2]\n", b"null\n", b"\"text\"\n", b"{not json\n", b"\xff\xfe{}\n", b"   \n", b"{}\n"]),
    st.tuples(st.integers(0, 5), BAD_FIELDS).map(lambda p: line({**vote_obj(f"v{p[0]}", p[0]), p[1][0]: p[1][1]})),
)


def from_scratch(path: Path) -> tuple[Aggregates, list[str]]:
    """Counts made by validating every line with pydantic, and the problems that read reports."""
    result = PrefsStore(path).read()
    return Aggregates.of(result.votes), result.problems


def same_counts(got: Aggregates, want: Aggregates) -> bool:
    return got.pairs == want.pairs and got.days == want.days


@PROPS
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 3)), min_size=1, max_size=12),
       st.lists(st.tuples(st.integers(0, 20), GARBAGE), max_size=6), st.floats(0, 1))
def test_damage_never_raises_or_loses_a_complete_valid_line(ids, garbage, cut):
    lines = [line(vote_obj(f"v{i}", i * 4 + k)) for i, k in ids]
    items = [("vote", raw) for raw in lines]
    for position, raw in garbage:
        items.insert(min(position, len(items)), ("junk", raw))
    data = b"".join(raw for _, raw in items)
    size = int(len(data) * cut)
    expected, seen, offset = [], set(), 0
    for kind, raw in items:
        offset += len(raw)
        if kind == "vote" and offset <= size:
            vote_id = json.loads(raw)["vote_id"]
            if vote_id not in seen:
                seen.add(vote_id)
                expected.append(json.loads(raw))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prefs.jsonl"
        path.write_bytes(data[:size])
        store = PrefsStore(path)
        result = store.read()
        # The first line of each vote_id wins: same winner, same extras as that line.
        assert [(v.vote_id, v.winner, v.model_extra) for v in result.votes] == [
            (e["vote_id"], e["winner"], {"extra": e["extra"]}) for e in expected]
        counts = store.aggregates()
        assert counts.total() == len(expected) and same_counts(counts, Aggregates.of(result.votes))
        assert list(counts.problems) == result.problems
        # A new vote repairs a torn tail; nothing complete is lost on the way.
        assert store.append(vote_obj("fresh", 3))
        assert [v.vote_id for v in store.read().votes] == [e["vote_id"] for e in expected] + ["fresh"]
        assert store.aggregates().total() == len(expected) + 1


OPS = st.one_of(
    st.tuples(st.just("raw"), st.integers(0, 9), st.integers(0, 11)),  # another tool appends a line (ids repeat)
    st.tuples(st.just("append"), st.integers(0, 9), st.integers(0, 11)),  # through the store, under its lock
    st.tuples(st.just("junk"), GARBAGE, st.just(0)),
    st.tuples(st.just("torn"), st.integers(0, 9), st.integers(1, 60)),  # a write cut short
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),  # rewritten shorter
    st.tuples(st.just("replace"), st.just(0), st.just(0)),  # same bytes, a new file
)


def apply(op, path: Path, store: PrefsStore) -> None:
    kind, x, y = op
    if kind == "raw":
        with open(path, "ab") as handle:
            handle.write(line(vote_obj(f"v{x}", y)))
    elif kind == "append":
        store.append(vote_obj(f"v{x}", y))
    elif kind == "junk":
        with open(path, "ab") as handle:
            handle.write(x)
    elif kind == "torn":
        with open(path, "ab") as handle:
            handle.write(line(vote_obj(f"t{x}", x))[:y])
    elif kind == "truncate" and path.exists():
        with open(path, "r+b") as handle:
            handle.truncate(int(path.stat().st_size * x))
    elif kind == "replace" and path.exists():
        copy = path.with_name("copy.jsonl")
        copy.write_bytes(path.read_bytes())
        os.replace(copy, path)


@PROPS
@given(st.lists(OPS, min_size=1, max_size=15))
def test_incremental_counts_equal_counts_from_scratch(ops):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prefs.jsonl"
        live = PrefsStore(path)  # refreshed after every step, like the leaderboard tab
        for op in ops:
            apply(op, path, live)
            want, problems = from_scratch(path)
            got = live.aggregates()
            assert same_counts(got, want), op
            assert list(got.problems) == problems
            # A new process starting from the .agg file beside the log agrees too.
            assert same_counts(PrefsStore(path).aggregates(), want)
        if path.exists():
            with open(path, "rb") as handle:
                cold = index.refresh(index.Tally(), handle.fileno(), str(path))
            assert (cold.pairs, cold.days) == (want.pairs, want.days)


@PROPS
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 11)), min_size=1, max_size=20))
def test_first_line_of_a_vote_id_wins_everywhere(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prefs.jsonl"
        path.write_bytes(b"".join(line(vote_obj(f"v{i}", k)) for i, k in lines))
        first: dict[str, int] = {}
        for i, k in lines:
            first.setdefault(f"v{i}", k)
        want = Aggregates.of(PrefsStore(path).read().votes)
        assert want.total() == len(first)
        expected: dict = {}
        for vote_id, k in first.items():
            obj = vote_obj(vote_id, k)
            key = (obj["source"], obj["model_a"], obj["model_b"], obj["winner"])
            expected[key] = expected.get(key, 0) + 1
        assert PrefsStore(path).aggregates().pairs == expected == want.pairs
        assert PrefsStore(path).aggregates().duplicates == len(lines) - len(first)
