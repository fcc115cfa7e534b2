"""Mock preference data: from SFT pairs, the reference answer beats a degraded copy of itself.

Each pair becomes one vote in data/llmops/prefs.jsonl with source "synthetic": the reference side is
"reference@synthetic", the other "degraded@synthetic" (cut mid-sentence, sentences dropped and shuffled, a
number changed, or a vague generic answer). Which slot (a/b) holds the reference and which side was shown on
the left are both drawn from the seed, so the log carries no position bias.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ...errors import InvalidInputError, NotFoundError, StorageError
from ...lf import dataset_info
from ...security.paths import allowed, contain
from ...settings import Settings
from ..prefs import PrefsStore, Vote
from .common import SFT_COLUMNS, language_of, timestamp

REFERENCE = "reference@synthetic"
DEGRADED = "degraded@synthetic"
KINDS = ("truncate", "shuffle_drop", "number", "vague")
VAGUE = {
    "en": ("It depends on the situation; please check the relevant documentation for details.",
           "There are several factors to consider, and the answer can vary from case to case.",
           "This is handled according to the usual procedures. Contact the responsible team if in doubt."),
    "zh": ("这要视具体情况而定，建议查阅相关资料了解详情。", "需要综合考虑多方面因素，不同情况下答案可能不同。",
           "按照常规流程处理即可，如有疑问请联系相关负责人。"),
}
_SENTENCE = re.compile(r".+?(?:[.!?]+[\"')\]]*(?=\s|\Z)|[。！？]+[”’」』）)]*|\n|\Z)\s*", re.DOTALL)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")


@dataclass(frozen=True)
class MockPrefs:
    """How many votes were appended, under which session, by degradation kind, and from which file."""

    count: int
    session: str
    by_kind: dict
    source: Path
    prefs_path: Path


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s.strip()]


def _truncate(text: str, rng: random.Random) -> str | None:
    """Cut inside a sentence at 40-70% of the text, at a word boundary for spaced scripts."""
    if len(text) < 24:
        return None
    cut = int(len(text) * rng.uniform(0.4, 0.7))
    if " " in text[: cut]:
        cut = text.rfind(" ", 0, cut)
    piece = text[:cut].rstrip(" ,，、;；:：.。!！?？\n")
    return piece if 8 <= len(piece) < len(text.rstrip()) else None


def _shuffle_drop(text: str, rng: random.Random) -> str | None:
    sentences = [s.strip() for s in _sentences(text)]
    if len(sentences) < 2:
        return None
    if len(sentences) >= 3:
        sentences.pop(rng.randrange(len(sentences)))
    for _ in range(5):
        rng.shuffle(sentences)
        joined = ("" if language_of(text) == "zh" else " ").join(sentences)
        if joined.strip() != text.strip():
            return joined
    return None


def _change_number(text: str, rng: random.Random) -> str | None:
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return None
    match = rng.choice(numbers)
    raw = match.group()
    digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
    pos = digits[-1] if len(digits) > 1 and rng.random() < 0.5 else digits[0]
    old = int(raw[pos])
    new = rng.choice([d for d in range(10) if d != old and not (d == 0 and pos == 0 and len(digits) > 1)])
    return text[: match.start()] + raw[:pos] + str(new) + raw[pos + 1:] + text[match.end():]


def degrade(text: str, rng: random.Random) -> tuple[str, str]:
    """(kind, degraded text): one applicable degradation drawn with `rng`; 'vague' always applies."""
    kinds = list(KINDS)
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "vague":
            return kind, rng.choice(VAGUE[language_of(text)])
        made = {"truncate": _truncate, "shuffle_drop": _shuffle_drop, "number": _change_number}[kind](text, rng)
        if made and made.strip() != text.strip():
            return kind, made
    return "vague", rng.choice(VAGUE[language_of(text)])  # unreachable: 'vague' is always among the kinds


def resolve_sft(settings: Settings, sft: str | Path) -> tuple[Path, dict[str, str]]:
    """The file of an SFT dataset (registered name or path) and its column mapping."""
    path = Path(sft).expanduser()
    if allowed(settings, path) and path.is_file():
        return path, dict(SFT_COLUMNS)
    info_path = settings.dataset_info_path
    entry = dataset_info.read(info_path).entries.get(str(sft)) if info_path.exists() else None
    if entry is None:
        contain(settings, path)  # a path outside the allowed roots is refused as such, never probed
        raise NotFoundError("err.gen_sft_missing", sft=str(sft))
    kind = dataset_info.entry_kind(entry)
    if kind != "sft" or entry.get("formatting", "alpaca") != "alpaca":
        raise InvalidInputError("err.gen_sft_kind", name=str(sft), kind=kind if kind != "sft" else "sharegpt")
    file = dataset_info.resolve_file(settings.data_dir, entry)
    if file is not None:
        contain(settings, file)  # dataset_info.json is a saved config; its entries obey the same roots
    if file is None or not file.is_file():
        raise NotFoundError("err.gen_sft_missing", sft=str(sft))
    return file, {**SFT_COLUMNS, **(entry.get("columns") or {})}


def read_pairs(path: Path, columns: dict[str, str] | None = None) -> list[dict]:
    """(prompt, system, output) records of an alpaca JSON array or JSONL file; records lacking either are left out."""
    cols = {**SFT_COLUMNS, **(columns or {})}
    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() == ".jsonl":
            rows = [json.loads(line) for line in text.split("\n") if line.strip()]
        else:
            data = json.loads(text)
            rows = data if isinstance(data, list) else [data]
    except json.JSONDecodeError as exc:
        raise StorageError("err.gen_sft_unreadable", path=str(path), reason=exc.msg) from None
    records = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        instruction, query, output = (row.get(cols[k]) for k in ("prompt", "query", "response"))
        if not (isinstance(instruction, str) and instruction.strip() and isinstance(output, str) and output.strip()):
            continue
        prompt = instruction.strip() + (f"\n\n{query.strip()}" if isinstance(query, str) and query.strip() else "")
        system = row.get(cols.get("system", "system"))
        records.append({"prompt": prompt, "output": output.strip(), "system": system if isinstance(system, str) else ""})
    return records


def mock_prefs(settings: Settings, sft: str | Path, *, limit: int | None = None, seed: int = 0,
               store: PrefsStore | None = None) -> MockPrefs:
    """Append one synthetic vote per SFT pair (the first `limit`) to the preference log; returns what was added."""
    if limit is not None and limit < 1:
        raise InvalidInputError("err.gen_limit_invalid", limit=limit)
    path, columns = resolve_sft(settings, sft)
    records = read_pairs(path, columns)[:limit]
    if not records:
        raise InvalidInputError("err.gen_sft_empty", path=str(path))
    settings.ensure_dirs()
    store = store or PrefsStore(settings.prefs_path)
    session = f"synthetic-{timestamp()}"
    kinds: Counter = Counter()
    count = 0
    for index, record in enumerate(records):
        rng = random.Random(f"{seed}|{index}|{record['prompt']}")
        kind, worse = degrade(record["output"], rng)
        reference_slot = rng.choice("ab")
        a, b = (record["output"], worse) if reference_slot == "a" else (worse, record["output"])
        vote = Vote(session=session, prompt=record["prompt"], system=record["system"],
                    model_a=REFERENCE if reference_slot == "a" else DEGRADED,
                    model_b=DEGRADED if reference_slot == "a" else REFERENCE,
                    response_a=a, response_b=b, left=rng.choice("ab"), winner=reference_slot, source="synthetic",
                    params={"degradation": kind, "seed": seed, "dataset": str(sft), "index": index})
        if store.append(vote):
            count += 1
            kinds[kind] += 1
    return MockPrefs(count, session, dict(kinds), path, store.path)
