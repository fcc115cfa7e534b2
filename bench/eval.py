"""Two benchmarks of evaluation (`--part scoring|concurrency|all`, default all).

scoring: LLaMA-Factory's BLEU-4 / ROUGE-1/2/L on N synthetic zh/en predictions, its own ComputeSimilarity beside
ours. Both run in this process on one core, on the same strings, taking turns block by block and timed in CPU
seconds (the machine may be shared); the script asserts that every per-sample value and every set figure is the
same float, then prints predictions per second for each and the speed-up.

concurrency: the generation stage of an evaluation run against a local OpenAI-compatible endpoint that answers
every request in a fixed 200 ms, at 1, 4 and 16 requests in flight; prints samples per second and the speed-up
over one request at a time (the target is at least 8x at 16).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmops.services.evaluation.lf_similarity import LFSimilarity, summarise

_SENTENCE = re.compile(r"(?<=[。！？.!?])\s*")


def sentence_pool() -> list[str]:
    """Sentences of the shipped zh/en documents (a PV power station's manuals and logs)."""
    pool = []
    for path in sorted((ROOT / "data" / "docs").rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            pool += [s.strip() for s in _SENTENCE.split(line.strip("#-* ")) if 8 <= len(s.strip()) <= 160]
    return pool


def synthetic_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """(prediction, reference): references of 1-3 sentences; predictions copy a prefix, drop words, or drift off."""
    rng = random.Random(seed)
    pool = sentence_pool()
    pairs = []
    for _ in range(n):
        reference = " ".join(rng.sample(pool, rng.choice((1, 2, 2, 3))))
        roll = rng.random()
        if roll < 0.1:
            prediction = reference
        elif roll < 0.45:
            prediction = reference[: rng.randint(0, len(reference))] + rng.choice(pool)[: rng.randint(0, 40)]
        elif roll < 0.8:
            words = re.findall(r"\S+|\s+", reference) if " " in reference else list(reference)
            prediction = "".join(w for w in words if rng.random() > 0.25)
        else:
            prediction = rng.choice(pool)
        pairs.append((prediction, reference))
    return pairs


class _IndexTokenizer:
    """Row i of the id matrix decodes to text i, so LLaMA-Factory's class scores exactly these strings."""

    pad_token_id = 0

    def __init__(self, texts):
        self.texts = texts

    def batch_decode(self, ids, skip_special_tokens=True):
        return [self.texts[int(row[0])] for row in ids]


def run_side_by_side(pairs, block: int) -> tuple[dict, dict, float, dict, dict, float]:
    """Both scorers over the same blocks, taking turns (so a change in machine load hits both); CPU seconds each.

    LLaMA-Factory's class accumulates blocks itself (its `batch_eval_metrics` mode: compute_result=False, then _dump);
    ours is one engine whose caches live across blocks, as in one scoring run."""
    from llamafactory.train.sft.metric import ComputeSimilarity
    from transformers import EvalPrediction

    n = len(pairs)
    metric = ComputeSimilarity(_IndexTokenizer([p for p, _ in pairs] + [r for _, r in pairs]))
    engine_start = time.process_time()
    engine = LFSimilarity()  # built inside our timing: a fresh engine starts with empty caches
    ours_s, lf_s = time.process_time() - engine_start, 0.0
    ours: dict[str, list[float]] = {}
    for k, start in enumerate(range(0, n, block)):
        rows = np.arange(start, min(n, start + block)).reshape(-1, 1)
        for side in ((0, 1) if k % 2 == 0 else (1, 0)):
            began = time.process_time()
            if side == 0:
                metric(EvalPrediction(predictions=rows, label_ids=rows + n), compute_result=False)
                lf_s += time.process_time() - began
            else:
                chunk = engine.score([p for p, _ in pairs[start:start + block]], [r for _, r in pairs[start:start + block]])
                for key, values in chunk.items():
                    ours.setdefault(key, []).extend(values)
                ours_s += time.process_time() - began
    lf = {k: list(v) for k, v in metric.score_dict.items()}
    began = time.process_time()
    lf_figures = metric._dump()
    lf_s += time.process_time() - began
    began = time.process_time()
    our_figures = summarise(ours)
    ours_s += time.process_time() - began
    return lf, lf_figures, lf_s, ours, our_figures, ours_s


def scoring(args) -> None:
    """LLaMA-Factory's similarity metrics and ours, side by side."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()  # the dictionary load is the same for both sides; keep it out of both timings
    pairs = synthetic_pairs(args.n, args.seed)
    distinct = len(set(pairs)), len({r for _, r in pairs})
    print(f"{args.n} predictions ({distinct[0]} distinct pairs, {distinct[1]} distinct references)")
    lf, lf_figures, lf_s, ours, our_figures, our_s = run_side_by_side(pairs, args.block)
    assert ours == lf, "per-sample values differ"
    assert our_figures == lf_figures, (our_figures, lf_figures)
    print("figures (identical):", {k: round(v, 6) for k, v in lf_figures.items()})
    print(f"LLaMA-Factory ComputeSimilarity: {lf_s:8.2f} CPU s  {args.n / lf_s:9.0f} predictions/s")
    print(f"llmops LFSimilarity:             {our_s:8.2f} CPU s  {args.n / our_s:9.0f} predictions/s")
    print(f"speed-up: {lf_s / our_s:.2f}x")


def _fixed_delay_server(delay_s: float):
    """A streaming chat-completions server on 127.0.0.1 whose every answer takes `delay_s` seconds."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(delay_s)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ("an ", "answer"):
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def concurrency(samples: int, delay_s: float) -> None:
    """Samples per second of the generation stage at 1, 4 and 16 endpoint requests in flight."""
    import os
    import tempfile
    import threading

    os.environ["LLMOPS_HOME"] = tempfile.mkdtemp(prefix="llmops-bench-")
    from llmops.schemas.eval_runs import EvalRunConfig
    from llmops.schemas.evaluation import EvalSample
    from llmops.services.evaluation.generate import generate
    from llmops.services.evaluation.run_folder import RunFolder, new_run_id
    from llmops.services.models import ModelRegistry
    from llmops.settings import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    server = _fixed_delay_server(delay_s)
    models = ModelRegistry(settings)
    entry = models.add_endpoint("bench", f"http://127.0.0.1:{server.server_address[1]}/v1", "m")
    rates = {}
    for level in (1, 4, 16):
        n = max(1, samples // 2) if level == 1 else samples
        config = EvalRunConfig(run_id=new_run_id(), models=[entry.id], set="bench", concurrency=level,
                               timeout_s=30, retries=0)
        folder = RunFolder(settings, config.run_id)
        folder.create(config, [EvalSample(prompt=f"question {i}", reference="an answer") for i in range(n)])
        began = time.perf_counter()
        made = generate(settings, folder, threading.Event(), models=models)
        seconds = time.perf_counter() - began
        failed = sum(p.error is not None for p in folder.predictions())
        assert made["written"] == n and not failed, (made, failed)
        rates[level] = n / seconds
        print(f"concurrency {level:>2}: {n:4d} samples in {seconds:6.2f} s  {rates[level]:7.2f} samples/s  "
              f"x{rates[level] / rates[1]:.1f}")
    server.shutdown()
    print(f"speed-up at 16 vs 1: {rates[16] / rates[1]:.1f}x (target >= 8x; the ideal is 16x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("scoring", "concurrency", "all"), default="all")
    parser.add_argument("--n", type=int, default=100_000, help="scoring: predictions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--block", type=int, default=5000, help="scoring: predictions per turn")
    parser.add_argument("--samples", type=int, default=64, help="concurrency: samples per run (half at 1)")
    parser.add_argument("--delay", type=float, default=0.2, help="concurrency: the endpoint's seconds per answer")
    args = parser.parse_args()
    if args.part in ("scoring", "all"):
        scoring(args)
    if args.part in ("concurrency", "all"):
        concurrency(args.samples, args.delay)


if __name__ == "__main__":
    main()
