"""Leaderboard cost on 1,000,000 synthetic votes over 20 models with known strengths; prints seconds per phase."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmops.services import ratings


def synthetic_votes(n: int, models: int, seed: int) -> tuple[list[tuple[str, str, str]], np.ndarray, list[str]]:
    """n (model_a, model_b, winner) tuples drawn from Bradley–Terry with ties; returns votes, true θ, names."""
    rng = np.random.default_rng(seed)
    names = [f"model-{k:02d}@1" for k in range(models)]
    theta = rng.normal(0.0, 0.6, models)
    a = rng.integers(0, models, n)
    b = (a + rng.integers(1, models, n)) % models  # never a model against itself
    p_a = 1.0 / (1.0 + np.exp(theta[b] - theta[a]))
    u = rng.random(n)
    # 10% ties and 5% both-bad, the rest decided by the true strengths.
    outcome = np.where(u < 0.10, 2, np.where(u < 0.15, 3, np.where(rng.random(n) < p_a, 0, 1)))
    labels = np.array(ratings.OUTCOMES, dtype=object)
    name_arr = np.array(names, dtype=object)
    votes = list(zip(name_arr[a].tolist(), name_arr[b].tolist(), labels[outcome].tolist()))
    return votes, theta, names


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Rank correlation (no ties among continuous values)."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    votes, theta, names = synthetic_votes(args.votes, args.models, args.seed)
    t_gen = time.perf_counter() - t0

    t0 = time.perf_counter()
    counts = ratings.aggregate(votes)
    t_agg = time.perf_counter() - t0
    t0 = time.perf_counter()
    fitted = ratings.fit(counts)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    boot = ratings.bootstrap(counts, rounds=args.rounds, seed=args.seed)
    t_boot = time.perf_counter() - t0
    t0 = time.perf_counter()
    board = ratings.leaderboard(votes, rounds=args.rounds, seed=args.seed)
    t_total = time.perf_counter() - t0

    true_by_name = dict(zip(names, theta))
    recovered = np.array([fitted[counts.models.index(n)] for n in names])
    width = np.percentile(boot, 97.5, axis=0) - np.percentile(boot, 2.5, axis=0)
    print(f"votes={args.votes:,} models={args.models} rounds={args.rounds}")
    print(f"generate (not part of the leaderboard): {t_gen:.2f} s")
    print(f"aggregate: {t_agg:.3f} s")
    print(f"fit:       {t_fit:.3f} s")
    print(f"bootstrap: {t_boot:.3f} s")
    print(f"leaderboard end to end (aggregate + fit + bootstrap): {t_total:.3f} s")
    print(f"spearman(recovered, true) = {spearman(recovered, theta):.4f}")
    print(f"mean 95% interval width = {width.mean():.1f} Elo")
    top = board[0]
    print(f"best: {top['model']} {top['rating']:.1f} [{top['ci_low']:.1f}, {top['ci_high']:.1f}] "
          f"(true θ={true_by_name[top['model']]:.3f}, max true θ={theta.max():.3f})")


if __name__ == "__main__":
    main()
