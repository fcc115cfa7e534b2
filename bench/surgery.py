"""mergekit merge numbers: peak memory of a merge relative to one model's size, and merge seconds per GB.

Two random Qwen2 models of the same shape (a few hundred MB each) are made locally; each merge runs the merge
job's own body (`run_merge_job`) in a fresh process, which reports its resident memory after the imports and at
its peak (VmHWM), split by sampling into private memory and mapped weight files (which the kernel can drop).

python bench/surgery.py [--layers 8] [--hidden 1024] [--methods linear,ties]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT_SHARD_PARAMS = 500_000_000  # llmops.services.surgery.merge.OUT_SHARD_PARAMS, without importing torch here


def make_models(root: Path, layers: int, hidden: int) -> list[Path]:
    """Two random Qwen2 models of one shape, saved as safetensors with the demo tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    from llmops.services import demo_model

    tokenizer_dir = demo_model.build(root / "tok", [ROOT / "data" / "docs", ROOT / "data" / "samples"])
    config = Qwen2Config(vocab_size=32000, hidden_size=hidden, intermediate_size=hidden * 11 // 4,
                         num_hidden_layers=layers, num_attention_heads=hidden // 64, num_key_value_heads=4,
                         tie_word_embeddings=False)
    made = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config)
        out = root / f"m{seed}"
        model.save_pretrained(out)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            (out / name).write_bytes((tokenizer_dir / name).read_bytes())
        made.append(out)
        del model
    return made


def status() -> dict[str, int]:
    """This process's memory from /proc/self/status, in bytes (VmHWM: its peak since exec; RssAnon: private
    memory; RssFile: mapped file pages, which the kernel can drop)."""
    wanted = ("VmRSS", "VmHWM", "RssAnon", "RssFile")
    with open("/proc/self/status", encoding="ascii") as handle:
        rows = dict(line.split(":", 1) for line in handle if line.startswith(wanted))
    return {key: int(rows[key].split()[0]) * 1024 for key in wanted}


def child(home: str, method: str, first: str, second: str, shard: str) -> None:
    """Plan and run one merge in this process; print its memory and time as one JSON line."""
    os.environ["LLMOPS_HOME"] = home
    from mergekit.merge import run_merge  # noqa: F401 - imported before the baseline is read

    from llmops.services.surgery.merge import MergeJobParams, plan_merge, run_merge_job
    from llmops.settings import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    if method == "linear":
        plan = plan_merge(settings, method, [(first, {"weight": 0.5}), (second, {"weight": 0.5})],
                          name=f"{method}-{shard}")
    else:
        plan = plan_merge(settings, method, [(second, {"weight": 1.0})], base=first, params={"density": 0.5},
                          name=f"{method}-{shard}")
    baseline, peaks, done = status(), {"RssAnon": 0, "RssFile": 0}, threading.Event()

    def sample() -> None:  # ru_maxrss alone cannot split private memory from mapped weights
        while not done.wait(0.02):
            now = status()
            peaks.update({key: max(value, now[key]) for key, value in peaks.items()})

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    run_merge_job(MergeJobParams(**{**plan.job_params(), "shard_params": int(shard)}), lambda *a, **k: None)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    final = status()
    print(json.dumps({"baseline": baseline, "peak": final["VmHWM"], "anon_peak": peaks["RssAnon"],
                      "file_peak": peaks["RssFile"], "seconds": seconds,
                      "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--methods", default="linear,ties")
    parser.add_argument("--shards", default=f"{OUT_SHARD_PARAMS},20000000",
                        help="output shard sizes to try, in parameters (mergekit holds one shard in memory)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from llmops.services.surgery.outputs import weights_bytes

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        started = time.perf_counter()
        first, second = make_models(home / "models", args.layers, args.hidden)
        size = weights_bytes(first)
        print(f"two random Qwen2 models of {size / 2**20:.0f} MB each ({args.layers} layers, hidden {args.hidden}), "
              f"made in {time.perf_counter() - started:.1f} s")
        for method, shard in [(m, s) for m in args.methods.split(",") for s in args.shards.split(",")]:
            done = subprocess.run([sys.executable, __file__, "--child", str(home), method, str(first), str(second),
                                   shard], capture_output=True, text=True, check=True, cwd=ROOT)
            got = json.loads(done.stdout.strip().splitlines()[-1])
            base = got["baseline"]
            added = got["peak"] - base["VmRSS"]
            anon = got["anon_peak"] - base["RssAnon"]
            print(f"{method:7} shards of {int(shard) / 1e6:.0f}M params: peak RSS {got['peak'] / 2**20:6.0f} MB = {got['peak'] / size:.2f}x one model "
                  f"(imports {base['VmRSS'] / 2**20:.0f} MB); the merge adds {added / 2**20:.0f} MB = "
                  f"{added / size:.2f}x, of which private {anon / 2**20:.0f} MB = {anon / size:.2f}x and the rest "
                  f"mapped weight files; {got['seconds']:.1f} s = {got['seconds'] / (size / 2**30):.1f} s/GB")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(f"largest child peak RSS (getrusage children): {children / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
