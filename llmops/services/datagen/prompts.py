"""What is asked of the model for each chunk, and lenient reading of what comes back."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from .common import CorpusChunk

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_OPENERS = re.compile(r"[\[{]")
_MAX_DECODE_TRIES = 200
_INSTRUCTION_KEYS = ("instruction", "question", "prompt", "q")
_OUTPUT_KEYS = ("output", "answer", "response", "a")
_LIST_KEYS = ("pairs", "data", "items", "questions", "qa", "results", "examples")

SYSTEM = {
    "en": "You write question-answer pairs for fine-tuning an assistant. Use only facts stated in the passage. "
          "Reply with a JSON array and nothing else.",
    "zh": "你为助手微调编写问答对。只使用文段中明确给出的事实。只回复一个 JSON 数组，不要输出其他内容。",
}
USER = {
    "en": "Passage{where}:\n\"\"\"\n{text}\n\"\"\"\n\nWrite {n} different questions a user could ask about this "
          "passage, each answered from the passage alone. Reply with only a JSON array of {n} objects of the form "
          "{{\"instruction\": \"<question>\", \"output\": \"<answer>\"}}, in English.",
    "zh": "文段{where}：\n\"\"\"\n{text}\n\"\"\"\n\n请提出 {n} 个用户可能就这段内容提出的不同问题，并只根据文段作答。只回复一个包含 {n} 个"
          "对象的 JSON 数组，格式为 {{\"instruction\": \"<问题>\", \"output\": \"<答案>\"}}，使用中文。",
}


def build_messages(chunk: CorpusChunk, n: int, max_chars: int = 6000) -> list[dict]:
    """The chat messages asking for `n` pairs about `chunk`, in the chunk's language."""
    lang = "zh" if chunk.lang == "zh" else "en"
    where = ""
    if chunk.section:
        where = f" (section \"{chunk.section}\")" if lang == "en" else f"（章节“{chunk.section}”）"
    user = USER[lang].format(where=where, text=chunk.text[:max_chars], n=n)
    return [{"role": "system", "content": SYSTEM[lang]}, {"role": "user", "content": user}]


def _first(record: dict, keys: Sequence[str]) -> str:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _pairs_in(value) -> list[dict]:
    if isinstance(value, dict):
        inner = next((value[k] for k in _LIST_KEYS if isinstance(value.get(k), list)), None)
        value = inner if inner is not None else [value]
    if not isinstance(value, list):
        return []
    pairs = []
    for item in value:
        if not isinstance(item, dict):
            continue
        instruction, output = _first(item, _INSTRUCTION_KEYS), _first(item, _OUTPUT_KEYS)
        if instruction and output:
            extra = item.get("input")
            pairs.append({"instruction": instruction, "input": extra.strip() if isinstance(extra, str) else "",
                          "output": output})
    return pairs


def parse_pairs(text: str, limit: int | None = None) -> list[dict]:
    """Pairs from a model's answer: the first JSON array/object (```json fences first) that holds any; [] if none."""
    if not isinstance(text, str) or not text.strip():
        return []
    decoder = json.JSONDecoder()
    tries = 0
    for candidate in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        for opener in _OPENERS.finditer(candidate):
            tries += 1
            if tries > _MAX_DECODE_TRIES:
                return []
            try:
                value, _ = decoder.raw_decode(candidate, opener.start())
            except ValueError:
                continue
            pairs = _pairs_in(value)
            if pairs:
                return pairs[:limit] if limit else pairs
    return []
