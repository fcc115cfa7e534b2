"""Arena ratings as pure functions over votes: Bradley–Terry fit, bootstrap intervals, win rates, votes still needed.

Rating choices, stated once:
- A tie counts half a win to each side. `both_bad` also counts as a tie: it says the two answers were equally
  (un)useful, which is all a pairwise strength model can use; it is not a loss for either side.
- A vote of a model against itself carries no information and is dropped.
- A tiny Gaussian prior (precision PRIOR on log-strength) keeps an undefeated or disconnected model finite and
  the fit always convergent; with a handful of votes per pair its pull is negligible.
- Ratings are on the Elo scale: a 400-point gap means 10:1 odds; each fit is centred so the mean is 1000.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import NotFoundError

OUTCOMES = ("a", "b", "tie", "both_bad")
ELO_PER_NAT = 400 / math.log(10)
BASE = 1000.0
PRIOR = 0.01
_OUTCOME_INDEX = {name: k for k, name in enumerate(OUTCOMES)}


@dataclass(frozen=True)
class PairCounts:
    """Outcome counts per ordered pair: counts[k] holds (a wins, b wins, ties, both bad) for models[a[k]] vs models[b[k]]."""

    models: list[str]
    a: np.ndarray
    b: np.ndarray
    counts: np.ndarray

    def votes_per_model(self) -> np.ndarray:
        """How many votes each model took part in."""
        totals = self.counts.sum(1)
        return np.bincount(self.a, totals, len(self.models)) + np.bincount(self.b, totals, len(self.models))

    def wins(self, table: np.ndarray | None = None) -> np.ndarray:
        """W[..., i, j]: wins of model i over model j, ties as halves; `table` (..., P, 4) replaces the counts."""
        table = self.counts if table is None else table
        half = 0.5 * (table[..., 2] + table[..., 3])
        size = len(self.models)
        out = np.zeros(table.shape[:-2] + (size, size))
        # Each (a, b) appears once among ordered pairs, so plain fancy-index adds are safe; (b, a) goes in a second pass.
        out[..., self.a, self.b] += table[..., 0] + half
        out[..., self.b, self.a] += table[..., 1] + half
        return out


def _triples(votes: Iterable, source: str | None) -> Iterable[tuple[str, str, str]]:
    """(model_a, model_b, winner) from tuples (optionally with a 4th item, source), dicts or Vote-like objects."""
    for vote in votes:
        if isinstance(vote, tuple):
            if source is not None and (len(vote) < 4 or vote[3] != source):
                continue
            a, b, winner = vote[0], vote[1], vote[2]
        elif isinstance(vote, dict):
            if source is not None and vote.get("source") != source:
                continue
            a, b, winner = vote["model_a"], vote["model_b"], vote["winner"]
        else:
            if source is not None and getattr(vote, "source", None) != source:
                continue
            a, b, winner = vote.model_a, vote.model_b, vote.winner
        if a != b:
            yield a, b, winner


def aggregate(votes: Iterable | PairCounts, source: str | None = None) -> PairCounts:
    """Count outcomes per ordered pair; everything after this step is independent of the number of votes."""
    if isinstance(votes, PairCounts):
        return votes
    return from_tally(Counter(_triples(votes, source)))


def from_tally(tally: Mapping[tuple[str, str, str], float]) -> PairCounts:
    """PairCounts from {(model_a, model_b, winner): votes}; self-play is dropped, pairs are in sorted order."""
    models = sorted({m for a, b, _ in tally for m in (a, b) if a != b})
    index = {m: i for i, m in enumerate(models)}
    pairs: dict[tuple[int, int], int] = {}
    rows: list[list[float]] = []
    # Sorted, so the same counts give the same bootstrap draws however they were accumulated.
    for (a, b, winner), n in sorted(tally.items()):
        if a == b:
            continue
        if winner not in _OUTCOME_INDEX:
            raise ValueError(f"unknown winner {winner!r}; expected one of {OUTCOMES}")
        key = (index[a], index[b])
        if key not in pairs:
            pairs[key] = len(rows)
            rows.append([0.0] * 4)
        rows[pairs[key]][_OUTCOME_INDEX[winner]] += n
    keys = np.array(list(pairs), dtype=np.int64).reshape(-1, 2)
    return PairCounts(models, keys[:, 0], keys[:, 1], np.array(rows, dtype=float).reshape(-1, 4))


def _objective(wins: np.ndarray, theta: np.ndarray, prior: float) -> np.ndarray:
    diff = theta[:, :, None] - theta[:, None, :]
    return -(wins * np.logaddexp(0.0, -diff)).sum((1, 2)) - 0.5 * prior * (theta**2).sum(1)


def fit_log_strengths(wins: np.ndarray, prior: float = PRIOR, max_iter: int = 100) -> np.ndarray:
    """Maximise the penalised Bradley–Terry likelihood for a batch W (R, M, M) by damped Newton; returns θ (R, M)."""
    rounds, size, _ = wins.shape
    games = wins + wins.transpose(0, 2, 1)
    won = wins.sum(2)
    theta = np.zeros((rounds, size))
    if size == 0:
        return theta
    value = _objective(wins, theta, prior)
    eye = np.eye(size)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(theta[:, None, :] - theta[:, :, None]))
        grad = won - (games * p).sum(2) - prior * theta
        curv = games * p * (1.0 - p)
        # Negative Hessian: a graph Laplacian plus prior·I, so positive definite and always solvable.
        info = eye * (curv.sum(2) + prior)[:, :, None] - curv
        step = np.linalg.solve(info, grad[:, :, None])[:, :, 0]
        scale = np.ones(rounds)
        for _ in range(40):  # backtrack where a full step would lower the likelihood (near-separable data)
            trial = theta + scale[:, None] * step
            new = _objective(wins, trial, prior)
            worse = new < value - 1e-12 * np.abs(value)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        theta, value = trial, new
        if np.abs(scale[:, None] * step).max() < 1e-9:
            break
    return theta


def _to_elo(theta: np.ndarray) -> np.ndarray:
    if theta.shape[-1] == 0:
        return theta
    return (theta - theta.mean(-1, keepdims=True)) * ELO_PER_NAT + BASE


def fit(votes: Iterable | PairCounts, prior: float = PRIOR) -> np.ndarray:
    """Elo-scale ratings in the order of aggregate(votes).models."""
    counts = aggregate(votes)
    return _to_elo(fit_log_strengths(counts.wins()[None], prior)[0])


def bootstrap(votes: Iterable | PairCounts, rounds: int = 100, seed: int = 0, prior: float = PRIOR) -> np.ndarray:
    """Ratings (rounds, M) refitted on counts redrawn per pair from a multinomial; pair totals stay fixed."""
    counts = aggregate(votes)
    totals = counts.counts.sum(1)
    rng = np.random.default_rng(seed)
    # Resampling the aggregated counts, not single votes, costs the same for 1e3 or 1e7 votes.
    table = rng.multinomial(totals.astype(np.int64), counts.counts / totals[:, None], size=(rounds, len(totals)))
    return _to_elo(fit_log_strengths(counts.wins(table.astype(float)), prior))


def leaderboard(votes: Iterable | PairCounts, rounds: int = 100, seed: int = 0, source: str | None = None,
                prior: float = PRIOR) -> list[dict]:
    """Rows {"model", "rating", "ci_low", "ci_high", "votes"}, best first; the interval is the bootstrap 95%."""
    counts = aggregate(votes, source)
    if not counts.models:
        return []
    rating = fit(counts, prior)
    low, high = (np.percentile(bootstrap(counts, rounds, seed, prior), [2.5, 97.5], axis=0) if rounds > 0
                 else (rating, rating))
    played = counts.votes_per_model()
    rows = [{"model": m, "rating": float(rating[i]), "ci_low": float(low[i]), "ci_high": float(high[i]),
             "votes": int(played[i])} for i, m in enumerate(counts.models)]
    return sorted(rows, key=lambda row: (-row["rating"], row["model"]))


def win_matrix(votes: Iterable | PairCounts, order: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Models (best first unless `order` is given) and rates[i, j] = share of i's votes against j it won, ties half; NaN where they never met."""
    counts = aggregate(votes)
    wins = counts.wins()
    games = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(games > 0, wins / games, np.nan)
    if order is None:
        order = [counts.models[i] for i in np.argsort(-fit(counts), kind="stable")]
    index = {m: i for i, m in enumerate(counts.models)}
    picks = [index[m] for m in order if m in index]
    return [counts.models[i] for i in picks], rates[np.ix_(picks, picks)]


def votes_to_separate(a: str, b: str, votes: Iterable | PairCounts, z: float = 1.96, prior: float = PRIOR,
                      limit: int = 10**9) -> int | None:
    """Estimated extra votes between `a` and `b` until their ±z·se intervals stop overlapping; 0 if apart, None if never.

    Normal approximation around the fit: the covariance of log-strengths is Σ = I⁻¹, with I the negative Hessian
    (a graph Laplacian of n·p·(1−p) per pair, plus the prior). n more votes between a and b add n·q·e·eᵀ to I,
    with e = e_a − e_b and q = p(1−p) at the fitted win probability p; by Sherman–Morrison
    Σ(n) = Σ − n·q·(Σe)(Σe)ᵀ / (1 + n·q·eᵀΣe). Ratings are centred on the mean, so each model's variance is
    var_i(n) = (CΣ(n)C)_ii with C = I − 11ᵀ/M. The intervals separate once |θ_a − θ_b| ≥ z·(se_a(n) + se_b(n));
    se falls monotonically in n, so the smallest such n is found by bisection. Each model's uncertainty relative
    to the others does not vanish with head-to-head votes alone, hence None when even `limit` votes would not do.
    The estimate assumes the fitted gap is the true one and that new votes are decisive (a tie carries less).
    """
    counts = aggregate(votes)
    index = {m: i for i, m in enumerate(counts.models)}
    for model in (a, b):
        if model not in index:
            raise NotFoundError("err.prefs_unknown_model", model=model)
    i, j = index[a], index[b]
    wins = counts.wins()
    theta = fit_log_strengths(wins[None], prior)[0]
    size = len(theta)
    p = 1.0 / (1.0 + np.exp(theta[None, :] - theta[:, None]))
    curv = (wins + wins.T) * p * (1.0 - p)
    cov = np.linalg.inv(np.diag(curv.sum(1) + prior) - curv)
    centre = np.eye(size) - 1.0 / size
    e = np.zeros(size)
    e[i], e[j] = 1.0, -1.0
    cov_e = cov @ e
    spread, shift = float(e @ cov_e), centre @ cov_e
    base = np.diag(centre @ cov @ centre)
    gap, q = abs(theta[i] - theta[j]), p[i, j] * (1.0 - p[i, j])
    if gap == 0:
        return None

    def apart(n: float) -> bool:
        var = np.maximum(base - (n * q / (1.0 + n * q * spread)) * shift**2, 0.0)
        return gap >= z * (math.sqrt(var[i]) + math.sqrt(var[j]))

    if apart(0):
        return 0
    if not apart(limit):
        return None
    lo, hi = 0, 1
    while not apart(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if apart(mid) else (mid, hi)
    return hi
