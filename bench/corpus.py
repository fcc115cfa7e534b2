"""Corpus pipeline throughput on a synthetic Markdown set (headings, code, zh+en, ~10% exact and ~10% near copies).

Prints MB/s for normalise+chunk+exact-dedup on one core, seconds for near-dedup on ~100k chunks, and a full run.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmops.services.corpus import (
    CorpusOptions,
    chunk_text,
    exact_duplicates,
    near_duplicates,
    read_file,
    run,
)
from llmops.services.corpus.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "data" / "docs"


def _vocab() -> tuple[list[str], list[str]]:
    """English words and Chinese sentences from the shipped sample documents."""
    en = " ".join(p.read_text("utf-8") for p in sorted((DOCS / "en").glob("*.md")))
    zh = " ".join(p.read_text("utf-8") for p in sorted((DOCS / "zh").glob("*.md")))
    words = re.findall(r"[A-Za-z][A-Za-z'-]*|\d+(?:\.\d+)?", en)
    sentences = [s + "。" for s in re.split(r"[。\n]", zh) if len(s) > 8 and not s.startswith(("#", "|", "-"))]
    return words, sentences


def _doc(rng: random.Random, words: list[str], sentences: list[str], target: int) -> str:
    """One synthetic Markdown document of about `target` characters."""
    zh = rng.random() < 0.3
    out = [f"# {' '.join(rng.choices(words, k=5)).title()}\n"]
    size = 0
    while size < target:
        r = rng.random()
        if r < 0.12:
            block = f"\n## {' '.join(rng.choices(words, k=rng.randint(2, 6))).title()}\n"
        elif r < 0.18:
            block = f"\n### {''.join(rng.choices(sentences, k=1))[:12]}\n" if zh else f"\n### {' '.join(rng.choices(words, k=3))}\n"
        elif r < 0.24:
            lines = [f"    value_{i} = compute({rng.randint(0, 999)}, '{rng.choice(words)}')" for i in range(rng.randint(3, 15))]
            block = "\n```python\ndef f():\n" + "\n".join(lines) + "\n    return value_0\n```\n"
        elif r < 0.30:
            block = "\n" + "\n".join(f"- **{rng.choice(words)}**: {' '.join(rng.choices(words, k=rng.randint(4, 12)))}"
                                     for _ in range(rng.randint(2, 6))) + "\n"
        elif zh:
            block = "\n" + "".join(rng.choices(sentences, k=rng.randint(2, 6))) + "\n"
        else:
            sent = [" ".join(rng.choices(words, k=rng.randint(8, 24))).capitalize() + "." for _ in range(rng.randint(2, 7))]
            if rng.random() < 0.2:
                sent.append(f"See [the manual](https://example.com/{rng.choice(words)}) and `{rng.choice(words)}`.")
            block = "\n" + " ".join(sent) + "\n"
        out.append(block)
        size += len(block)
    return "".join(out)


def _near_copy(rng: random.Random, text: str, words: list[str]) -> str:
    """A copy with ~2% of its words replaced (small edits, like a revised version)."""
    tokens = text.split(" ")
    for _ in range(max(1, len(tokens) // 50)):
        tokens[rng.randrange(len(tokens))] = rng.choice(words)
    return " ".join(tokens)


def generate(folder: Path, mb: float, seed: int = 0) -> tuple[int, int]:
    """Write ~`mb` MB of Markdown into `folder`; returns (bytes, files)."""
    rng = random.Random(seed)
    words, sentences = _vocab()
    written, files, originals = 0, 0, []
    while written < mb * 1e6:
        r = rng.random()
        if originals and r < 0.10:
            text = rng.choice(originals)
        elif originals and r < 0.20:
            text = _near_copy(rng, rng.choice(originals), words)
        else:
            text = _doc(rng, words, sentences, rng.randint(8_000, 40_000))
            originals.append(text)
        data = text.encode("utf-8")
        (folder / f"doc{files:05d}.md").write_bytes(data)
        written += len(data)
        files += 1
    return written, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--near-chunks", type=int, default=100_000)
    parser.add_argument("--skip-full", action="store_true", help="skip the full pipeline run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        size, files = generate(folder, args.mb)
        print(f"generated {size / 1e6:.1f} MB in {files} files ({time.perf_counter() - t0:.1f} s)")

        paths = sorted(folder.glob("*.md"))
        # CPU seconds of this process: the machine may be shared, and these steps run on one core.
        cpu = time.process_time
        t0 = cpu()
        docs = [d for p in paths for d in read_file(p)]
        t_read = cpu() - t0

        t0 = cpu()
        clean = [normalize(d.text) for d in docs]
        t_norm = cpu() - t0
        t0 = cpu()
        chunks = [c.text for text in clean for c in chunk_text(text, max_tokens=512)]
        t_chunk = cpu() - t0
        t0 = cpu()
        dup = exact_duplicates(chunks)
        t_exact = cpu() - t0
        hot = t_norm + t_chunk + t_exact
        mb = size / 1e6
        print(f"read        {t_read:6.2f} s cpu")
        print(f"normalize   {t_norm:6.2f} s cpu  {mb / t_norm:7.1f} MB/s")
        print(f"chunk       {t_chunk:6.2f} s cpu  {mb / t_chunk:7.1f} MB/s  ({len(chunks)} chunks of <=512 tokens)")
        print(f"exact dedup {t_exact:6.2f} s cpu  {mb / t_exact:7.1f} MB/s  ({int(dup.sum())} exact duplicates)")
        print(f"clean+chunk+exact: {mb / hot:.1f} MB/s on one core ({hot:.2f} s cpu for {mb:.1f} MB; "
              f"{mb / (hot + t_read):.1f} MB/s with reading)")

        # Near-dup on ~100k chunks: a smaller budget gives that many chunks from the same text.
        budget = max(16, int(512 * len(chunks) / args.near_chunks))
        while True:
            small = [c.text for text in clean for c in chunk_text(text, max_tokens=budget)]
            small = [t for t, d in zip(small, exact_duplicates(small)) if not d]
            if len(small) >= args.near_chunks or budget <= 16:
                break
            budget = max(16, int(budget * len(small) / args.near_chunks * 0.9))
        small = small[: args.near_chunks]
        chars = sum(map(len, small))
        t0, c0 = time.perf_counter(), cpu()
        near = near_duplicates(small, 0.8)
        t_near, c_near = time.perf_counter() - t0, cpu() - c0
        print(f"near dedup  {t_near:6.2f} s wall, {c_near:.2f} s cpu, for {len(small)} chunks ({chars / 1e6:.1f} M chars, "
              f"budget {budget} tokens, bands x rows {near.bands}x{near.rows}): {near.candidate_pairs} candidate pairs, "
              f"{near.verified_pairs} verified, {int(near.duplicate.sum())} near duplicates removed")

        if not args.skip_full:
            t0, c0 = time.perf_counter(), cpu()
            result = run([folder], CorpusOptions())
            wall, c_full = time.perf_counter() - t0, cpu() - c0
            s = result.stats
            print(f"full run    {wall:6.2f} s wall, {c_full:.2f} s cpu ({mb / c_full:.1f} MB/s): {s.chunks} chunks -> "
                  f"{s.records} records; "
                  f"removed {s.removed}")
            print(f"            elapsed per step {s.elapsed_s}")


if __name__ == "__main__":
    main()
