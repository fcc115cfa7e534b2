"""Memory of validating and registering big dataset files; prints the peak RSS each one adds.

Each file is generated in a temporary folder, then validated and registered in a fresh process, whose
peak resident memory (getrusage) is read before and after: the difference is what the upload cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROW = {"instruction": "逆变器报警F012是什么意思？请给出处理步骤。", "input": "HX-110 组串 3",
       "output": "绝缘阻抗低：先断开直流侧，逐串测量对地绝缘电阻，找到故障组串后更换受损线缆或组件。"}


def write_single_line_json(path: Path, mb: int) -> int:
    """A minified JSON array of `mb` MB on one line; returns its row count."""
    row = json.dumps(ROW, ensure_ascii=False)
    count = mb * 2**20 // (len(row.encode("utf-8")) + 1) + 1
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        for start in range(0, count, 10_000):
            n = min(10_000, count - start)
            out.write(("," if start else "") + ",".join([row] * n))
        out.write("]")
    return count


def write_single_line_jsonl(path: Path, mb: int) -> int:
    """One JSON Lines row of `mb` MB: longer than a row may be, so validation must refuse it by its line."""
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"text": "')
        block = "x" * 2**20
        for _ in range(mb):
            out.write(block)
        out.write('"}\n')
    return 1


def write_jsonl(path: Path, mb: int) -> int:
    """Many rows of JSON Lines, `mb` MB in all; returns the row count."""
    line = json.dumps(ROW, ensure_ascii=False) + "\n"
    count = mb * 2**20 // len(line.encode("utf-8")) + 1
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, count, 10_000):
            out.write(line * min(10_000, count - start))
    return count


def child(path: Path) -> None:
    """Validate then register `path` in this process; print what it cost as JSON."""
    from llmops.errors import LLMOpsError
    from llmops.services.datasets import DEFAULT_MAX_BYTES, DatasetRegistry
    from llmops.settings import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    registry = DatasetRegistry(settings, max_bytes=max(DEFAULT_MAX_BYTES, path.stat().st_size + 1))
    warm = path.with_name("warm" + path.suffix)  # lazy imports and first-use caches are paid before measuring
    warm.write_text('[{"text": "a"}]' if path.suffix == ".json" else '{"text": "a"}\n', encoding="utf-8")
    registry.upload(warm, "warm")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = registry.validate_file(path)
    try:
        samples, refused = registry.upload(path, "big").samples, None
    except LLMOpsError as exc:
        samples, refused = None, exc.key
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"grew_mb": round((after - before) / 1024, 1), "seconds": round(time.perf_counter() - started, 1),
                      "valid_rows": report.valid_rows, "errors": report.errors[:1], "registered_rows": samples,
                      "refused": refused}, ensure_ascii=False))


def measure(path: Path, home: Path, timeout: float = 1800) -> dict:
    """Run `child` for `path` in a fresh interpreter with its own LLMOPS_HOME."""
    env = {**os.environ, "LLMOPS_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--single-mb", type=int, default=50)
    parser.add_argument("--jsonl-mb", type=int, default=500)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return
    cases = [("single-line .json array", "one_line.json", write_single_line_json, args.single_mb),
             ("single-line .jsonl row", "one_line.jsonl", write_single_line_jsonl, args.single_mb),
             ("JSON Lines", "many.jsonl", write_jsonl, args.jsonl_mb)]
    with tempfile.TemporaryDirectory(prefix="upload-memory-") as tmp:
        for title, name, make, mb in cases:
            folder = Path(tmp) / name.replace(".", "_")
            folder.mkdir()
            rows = make(folder / name, mb)
            result = measure(folder / name, folder / "home")
            (folder / name).unlink()
            print(f"{title:24} {mb:4} MB, {rows:>9} rows: +{result['grew_mb']:6.1f} MB peak RSS, "
                  f"{result['seconds']:6.1f} s, valid {result['valid_rows']}, registered "
                  f"{result['registered_rows'] if result['refused'] is None else 'no (' + result['refused'] + ')'}"
                  + (f"; first problem: {result['errors'][0][-90:]}" if result["errors"] else ""))


if __name__ == "__main__":
    main()
