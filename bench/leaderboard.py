"""Leaderboard over a 1,000,000-vote prefs.jsonl: cold count, warm start from the .agg file, refresh after appends."""

# Each phase runs in a new process (so "warm" really starts from the file beside the log) and prints seconds and
# peak RSS. The log has 20 models, human and synthetic votes (the synthetic ones against `reference@synthetic`),
# and repeated vote_ids sprinkled in, which every reader must count once.

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEAT_EVERY = 200  # one line in 200 repeats an earlier vote_id (another tool appending twice)


def vote_line(rng: random.Random, n: int, models: list[str], vote_id: str, day: int) -> bytes:
    """One vote as the arena writes it; 1 in 5 is synthetic, against the reference answer."""
    synthetic = n % 5 == 0
    a = rng.choice(models)
    b = "reference@synthetic" if synthetic else rng.choice([m for m in models if m != a])
    vote = {"schema": 1, "vote_id": vote_id, "ts": f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T12:{n % 60:02d}:00.000+00:00",
            "session": f"s{n % 97}", "prompt": f"问题 {n}：光伏电站的逆变器如何维护？", "system": "",
            "model_a": a, "model_b": b, "response_a": f"answer a {n} " * 6, "response_b": f"answer b {n} " * 6,
            "left": rng.choice("ab"), "winner": rng.choice(("a", "b", "a", "b", "tie", "both_bad")), "edited": None,
            "params": {"temperature": 0.7, "max_new_tokens": 256}, "latency_ms": {"a": 120.0, "b": 98.5},
            "source": "synthetic" if synthetic else "human"}
    return (json.dumps(vote, ensure_ascii=False) + "\n").encode("utf-8")


def build(path: Path, votes: int, models: int, start: int = 0, pool: int | None = None) -> int:
    """Append `votes` lines numbered from `start` (repeats reuse an earlier id); returns the new distinct ids."""
    rng = random.Random(start)
    names = [f"model-{k:02d}@v1.{k % 3}" for k in range(models)]
    distinct = 0
    with open(path, "ab") as handle:
        batch = []
        for n in range(start, start + votes):
            if n % REPEAT_EVERY == REPEAT_EVERY - 1:
                earlier = rng.randrange(min(n, pool or n))
                earlier -= earlier % REPEAT_EVERY == REPEAT_EVERY - 1  # that line repeated an id itself
                vote_id = f"{earlier:032x}"
            else:
                vote_id, distinct = f"{n:032x}", distinct + 1
            batch.append(vote_line(rng, n, names, vote_id, (n - start) * 120 // max(1, votes)))
            if len(batch) == 10000:
                handle.write(b"".join(batch))
                batch = []
        handle.write(b"".join(batch))
    return distinct


def rss_mib() -> float:
    """Peak resident memory of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(name: str, home: Path, appends: int, total: int) -> dict:
    """Run one measured phase in this process (the parent starts a new process per phase)."""
    from llmops.services import ratings
    from llmops.services.container import build_services
    from llmops.settings import Settings
    from llmops.ui.tabs import leaderboard

    services = build_services(Settings.from_env(home=home))
    out: dict = {"phase": name}
    start = time.perf_counter()
    counts = services.prefs.aggregates()
    out["count_s"] = time.perf_counter() - start
    if name == "refresh":
        build(services.settings.prefs_path, appends, 20, start=total, pool=total)
        start = time.perf_counter()
        counts = services.prefs.aggregates()
        out["count_s"] = time.perf_counter() - start
    out["votes"] = counts.total()
    start = time.perf_counter()
    board = ratings.leaderboard(counts.pair_counts("human"), rounds=100)
    out["ratings_s"] = time.perf_counter() - start
    start = time.perf_counter()
    leaderboard.view(services, "human", "en")
    out["tab_view_s"] = time.perf_counter() - start
    out["models"] = len(board)
    out["rss_mib"] = rss_mib()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--home", help="workspace to use (default: a temporary folder, removed afterwards)")
    parser.add_argument("--phase", choices=("cold", "warm", "refresh"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, Path(args.home), args.appends, args.votes)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(args.home or tmp)
        prefs = home / "data" / "llmops" / "prefs.jsonl"
        prefs.parent.mkdir(parents=True, exist_ok=True)
        prefs.unlink(missing_ok=True)
        Path(str(prefs) + ".agg").unlink(missing_ok=True)
        start = time.perf_counter()
        distinct = build(prefs, args.votes, args.models)
        print(f"built {args.votes:,} lines ({distinct:,} distinct vote_ids, {prefs.stat().st_size / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - start:.1f} s (not part of the leaderboard)")
        env = {**os.environ, "LLMOPS_HOME": str(home)}
        for name in ("cold", "warm", "refresh"):
            argv = [sys.executable, __file__, "--phase", name, "--home", str(home), "--appends", str(args.appends),
                    "--votes", str(args.votes)]
            result = json.loads(subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout)
            expected = distinct + (args.appends - args.appends // REPEAT_EVERY if name == "refresh" else 0)
            status = "ok" if result["votes"] == expected else f"WRONG (expected {expected:,})"
            print(f"{name:8} count {result['count_s']:6.3f} s | ratings (100 bootstrap rounds) {result['ratings_s']:.3f} s"
                  f" | tab view {result['tab_view_s']:.3f} s | votes {result['votes']:,} {status} | "
                  f"models {result['models']} | peak RSS {result['rss_mib']:.0f} MiB")
        agg = Path(str(prefs) + ".agg")
        print(f".agg file: {agg.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
