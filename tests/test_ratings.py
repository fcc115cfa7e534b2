"""Ratings: Bradley–Terry recovers known strengths; intervals, ties, win rates and the votes-needed estimate behave."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmops.errors import NotFoundError
from llmops.services import ratings
from llmops.services.prefs import Vote

NAMES = ["m0@1", "m1@1", "m2@1", "m3@1", "m4@1"]
TRUE = np.array([1.2, 0.6, 0.0, -0.5, -1.1])


def simulate(n: int, seed: int = 0, theta: np.ndarray = TRUE, names: list[str] = NAMES,
             tie_share: float = 0.15) -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(names), n)
    b = (a + rng.integers(1, len(names), n)) % len(names)
    p_a = 1.0 / (1.0 + np.exp(theta[b] - theta[a]))
    u = rng.random(n) * 0.15 / max(tie_share, 1e-9)  # 2/3 of the undecided are ties, 1/3 both bad
    outcome = np.where(u < 0.1, "tie", np.where(u < 0.15, "both_bad", np.where(rng.random(n) < p_a, "a", "b")))
    return [(names[i], names[j], str(w)) for i, j, w in zip(a, b, outcome)]


def spearman(x, y) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def by_model(board: list[dict]) -> dict[str, dict]:
    return {row["model"]: row for row in board}


def test_recovers_known_order():
    board = ratings.leaderboard(simulate(3000), rounds=50)
    rows = by_model(board)
    recovered = [rows[n]["rating"] for n in NAMES]
    assert spearman(recovered, TRUE) >= 0.9
    assert [row["model"] for row in board] == NAMES  # best first
    assert abs(np.mean(recovered) - 1000) < 1e-6
    assert sum(row["votes"] for row in board) == 2 * 3000
    # Without ties (which pull ratings together) the Elo gap between the extremes matches the true log-odds gap.
    rows = by_model(ratings.leaderboard(simulate(5000, seed=7, tie_share=0), rounds=0))
    gap = rows[NAMES[0]]["rating"] - rows[NAMES[-1]]["rating"]
    assert gap == pytest.approx((TRUE[0] - TRUE[-1]) * ratings.ELO_PER_NAT, rel=0.1)


def test_intervals_contain_rating_and_narrow_with_more_votes():
    small = ratings.leaderboard(simulate(500, seed=1), rounds=100, seed=3)
    large = ratings.leaderboard(simulate(20000, seed=1), rounds=100, seed=3)
    for row in small + large:
        assert row["ci_low"] <= row["rating"] <= row["ci_high"]
    def width(board: list[dict]) -> float:
        return float(np.mean([r["ci_high"] - r["ci_low"] for r in board]))

    assert width(large) < width(small) / 3
    # Seeded: the same call gives the same intervals.
    assert ratings.leaderboard(simulate(500, seed=1), rounds=100, seed=3) == small


def test_bootstrap_resamples_pair_counts_keeping_totals():
    counts = ratings.aggregate(simulate(2000, seed=2))
    boot = ratings.bootstrap(counts, rounds=20, seed=0)
    assert boot.shape == (20, len(NAMES))
    assert np.allclose(boot.mean(1), 1000)
    assert np.ptp(boot, axis=0).min() > 0


def test_tie_counts_half():
    votes = [("strong", "weak", "a")] * 30 + [("strong", "weak", "b")] * 10
    votes += [("tier", "strong", "tie")] * 20 + [("weak", "tier", "both_bad")] * 20
    rows = by_model(ratings.leaderboard(votes, rounds=20))
    assert rows["weak"]["rating"] < rows["tier"]["rating"] < rows["strong"]["rating"]
    # Only ties, against one opponent: exactly level.
    level = by_model(ratings.leaderboard([("x", "y", "tie")] * 5 + [("y", "x", "both_bad")] * 5, rounds=10))
    assert level["x"]["rating"] == pytest.approx(level["y"]["rating"])
    # Half a win each: 10 wins + 10 ties for A is a 15:5 record, i.e. a 3:1 odds gap.
    rows = by_model(ratings.leaderboard([("A", "B", "a")] * 10 + [("A", "B", "tie")] * 10, rounds=0))
    assert rows["A"]["rating"] - rows["B"]["rating"] == pytest.approx(math.log(3) * ratings.ELO_PER_NAT, abs=1.0)


def test_win_matrix():
    votes = simulate(2000, seed=4)
    models, rates = ratings.win_matrix(votes)
    assert models == NAMES
    assert rates.shape == (5, 5)
    assert np.isnan(np.diag(rates)).all()
    off = ~np.eye(5, dtype=bool)
    assert np.allclose((rates + rates.T)[off], 1.0)
    assert (rates[0, 1:] > 0.5).all()
    models, rates = ratings.win_matrix([("a", "b", "a"), ("b", "a", "tie")], order=["b", "a"])
    assert models == ["b", "a"] and rates[1, 0] == pytest.approx(0.75)
    models, rates = ratings.win_matrix([("a", "b", "a"), ("c", "d", "b")])
    assert models[0] in ("a", "d") and np.isnan(rates[models.index("a"), models.index("c")])  # never met


def test_disconnected_and_undefeated_models_are_finite():
    votes = simulate(500, seed=5) + [("island-1", "island-2", "a")] * 7 + [("unbeaten", NAMES[0], "a")] * 12
    board = ratings.leaderboard(votes, rounds=30)
    assert len(board) == 8
    for row in board:
        assert all(math.isfinite(row[k]) for k in ("rating", "ci_low", "ci_high"))
    rows = by_model(board)
    assert rows["island-1"]["rating"] > rows["island-2"]["rating"]
    assert board[0]["model"] == "unbeaten"


def test_accepts_votes_and_filters_by_source():
    base = {"prompt": "p", "response_a": "x", "response_b": "y"}
    votes = [Vote(model_a="A", model_b="B", winner="a", source="human", **base) for _ in range(6)]
    votes += [Vote(model_a="A", model_b="B", winner="b", source="synthetic", **base) for _ in range(9)]
    votes += [Vote(model_a="A", model_b="A", winner="a", **base)]  # self-play: no information
    assert by_model(ratings.leaderboard(votes, rounds=5))["A"]["votes"] == 15
    human = ratings.leaderboard(votes, rounds=5, source="human")
    assert human[0]["model"] == "A" and human[0]["votes"] == 6
    assert ratings.leaderboard(votes, rounds=5, source="synthetic")[0]["model"] == "B"
    assert ratings.leaderboard([]) == []
    assert ratings.win_matrix([])[0] == [] and ratings.fit([]).size == 0
    with pytest.raises(ValueError):
        ratings.aggregate([("A", "B", "draw")])


def test_votes_to_separate_matches_observed_separation():
    def h2h(total: int) -> list[tuple[str, str, str]]:
        wins = round(total * 0.55)
        return [("A", "B", "a")] * wins + [("A", "B", "b")] * (total - wins)

    more = ratings.votes_to_separate("A", "B", h2h(100))
    # 55:45 needs about (1.96 / log(55/45))² / (0.55·0.45) ≈ 386 votes in all.
    assert 250 <= more <= 320
    def overlap(total: int) -> float:
        board = ratings.leaderboard(h2h(total), rounds=400)
        return board[1]["ci_high"] - board[0]["ci_low"]

    assert overlap(100 + more // 2) > 0
    assert overlap(100 + 2 * more) < 0
    assert ratings.votes_to_separate("A", "B", h2h(100 + 2 * more)) == 0
    assert ratings.votes_to_separate("A", "B", [("A", "B", "tie")] * 10) is None
    with pytest.raises(NotFoundError):
        ratings.votes_to_separate("A", "Z", h2h(10))


def test_votes_to_separate_shrinks_as_votes_arrive():
    def h2h(total: int) -> list[tuple[str, str, str]]:
        wins = round(total * 0.55)
        return [("A", "B", "a")] * wins + [("A", "B", "b")] * (total - wins)

    needed = [ratings.votes_to_separate("A", "B", h2h(total)) for total in (100, 200, 300)]
    assert needed[0] > needed[1] > needed[2] > 0
    # The total the estimate aims at stays put as votes arrive.
    assert max(t + n for t, n in zip((100, 200, 300), needed)) - min(t + n for t, n in zip((100, 200, 300), needed)) < 15


def test_votes_to_separate_none_when_head_to_head_cannot_do_it():
    theta = np.array([0.3, 0.2, -0.5])
    votes = simulate(600, seed=6, theta=theta, names=["x", "y", "z"])
    # x and y are 10 points apart; both intervals also carry their uncertainty against z, which x–y votes never shrink.
    assert ratings.votes_to_separate("x", "y", votes) is None
    assert ratings.votes_to_separate("x", "z", votes) == 0
