"""Offline instruction data from document structure: headings and sections become question/answer pairs.

No model is involved. Each section (consecutive chunks with one heading path) gives a main question — "how
should one …" for an imperative heading, an overview question otherwise — and a steps/points question when it
holds a list. Templates follow the section's language; choices are seeded, so a run is reproducible.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...settings import Settings
from ..corpus.normalize import split_fences
from .common import (
    CorpusChunk,
    EmptyGeneration,
    GenResult,
    dedup_pairs,
    load_chunks,
    parse_options,
    write_sft,
)


class RulesOptions(BaseModel):
    """Knobs of rule-based generation."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0)
    max_answer_chars: int = Field(600, ge=50, le=20_000)
    min_answer_chars: int = Field(20, ge=1, le=1_000)
    max_list_items: int = Field(12, ge=2, le=100)
    # How many pairs to keep (a seeded sample, in document order); None keeps them all.
    count: int | None = Field(None, ge=1, le=1_000_000)


OVERVIEW = {
    "en": ("Summarize the section '{heading}' of '{title}'.", "What does the documentation say about {heading_lc}?",
           "Explain '{heading}' as described in '{title}'."),
    "zh": ("请介绍“{heading}”的主要内容。", "《{title}》中“{heading}”一节讲了什么？", "关于“{heading}”，文档中有哪些说明？"),
}
OVERVIEW_PARENT = {
    "en": ("What does the section '{heading}' say about {parent_lc}?",),
    "zh": ("在“{parent}”中，“{heading}”部分说了什么？",),
}
INTRO = {"en": ("What is '{title}' about?", "Give an overview of '{title}'."),
         "zh": ("《{title}》主要讲了什么？", "请概述《{title}》的内容。")}
HOWTO = {"en": ("How should one {action}?", "How do you {action}?", "What is the procedure to {action}?"),
         "zh": ("如何{action}？", "{action}应该怎么做？")}
HANDLE_ZH = ("{subject}应该如何处理？", "出现{subject}时如何处理？")
STEPS = {"en": ("What are the steps for {topic}?", "List the steps for {topic}."),
         "zh": ("{heading}的步骤有哪些？", "“{heading}”的具体步骤是什么？")}
POINTS = {"en": ("What are the key points of '{heading}'?", "What does '{heading}' list?"),
          "zh": ("“{heading}”包括哪些要点？", "“{heading}”一节列出了哪些内容？")}

_EN_VERBS = frozenset(
    ["add", "apply", "avoid", "build", "calculate", "check", "choose", "clean", "close", "configure", "connect", "create", "define", "deploy", "disable", "disconnect", "enable", "evaluate", "fix", "handle", "inspect", "install", "isolate", "measure", "monitor", "open", "prepare", "read", "remove", "replace", "report", "reset", "restart", "run", "select", "set", "start", "stop", "test", "train", "troubleshoot", "update", "use", "verify", "write"])
# A gerund followed by one of these is an adjective ("Cleaning Method"), not an action.
_NOUN_HEADS = frozenset(["method", "methods", "procedure", "procedures", "process", "schedule", "cycle", "rules", "plan", "agent", "equipment", "frequency", "time", "times", "area", "areas", "data", "team", "code", "codes", "and", "of", "&", "or"])
# Words ending in -ing that are not verbs.
_NOT_GERUNDS = frozenset(["string", "strings", "spring", "ring", "thing", "nothing", "something", "anything", "building", "ceiling", "morning", "evening", "timing", "wiring", "earthing", "lightning"])
_GERUND_BASE = {"running": "run", "setting": "set", "getting": "get", "putting": "put", "cutting": "cut",
                "stopping": "stop", "planning": "plan", "shutting": "shut", "logging": "log", "mapping": "map",
                "preparing": "prepare", "being": "be", "clearing": "clear", "wiring": "wire"}
_ADD_E = ("at", "iz", "is", "ur", "uc", "ac", "ag", "iv", "ov", "av", "rv", "us", "ut")
_ZH_VERBS = ("清洗", "检查", "更换", "测量", "计算", "隔离", "读取", "排查", "巡检", "处理", "安装", "配置", "使用",
             "判断", "评估", "启动", "停止", "设置", "申请", "填写", "上报", "验证")
# A heading that starts with a verb but ends like one of these names a thing ("计算方法", "清洗组织").
_ZH_NOUN_ENDS = ("原则", "组织", "示例", "方法", "制度", "要求", "标准", "规则", "记录", "情况", "步骤", "流程", "要点",
                 "周期", "配置", "系统", "措施", "内容", "管理", "评估", "清单", "范围")
_ZH_QUESTION = re.compile(r"怎么|如何|什么|为什么|哪些|多少|[？?]$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)、]\s*\S")
_BULLET = re.compile(r"^\s*[-*+•]\s+\S")
# Ends of sentences (Latin mark before a space/end, or a CJK mark) and line ends: where an answer may stop.
_BOUNDARY = re.compile(r"(?:[.!?]+[\"')\]]*(?=\s|\Z)|[。！？；]+[”’」』）)]*|\n)")
_LIST_MARK = re.compile(r"(?:^|\n)[ \t]*\d{1,3}[.)]$")
_SOFT = re.compile(r"[ ，、,;；:：]")


@dataclass
class _Section:
    source: str
    section: str
    lang: str
    body: list[str]


def _strip_headings(text: str, titles: Sequence[str]) -> str:
    """The chunk without the heading lines the chunker put in front of it."""
    wanted = {t.strip() for t in titles}
    paras = text.split("\n\n")
    while paras and paras[0].strip() in wanted:
        paras.pop(0)
    return "\n\n".join(paras).strip()


def _sections(chunks: Sequence[CorpusChunk]) -> tuple[list[_Section], int]:
    """Consecutive chunks of one (source, section) merged; also how many chunks had no heading path."""
    out: list[_Section] = []
    no_section = 0
    for chunk in chunks:
        if not chunk.section.strip():
            no_section += 1
            continue
        body = _strip_headings(chunk.text, chunk.section.split(" > "))
        last = out[-1] if out else None
        if last and last.source == chunk.source and last.section == chunk.section:
            last.body.append(body)
        else:
            out.append(_Section(chunk.source, chunk.section, chunk.lang, [body]))
    return out, no_section


def trim_answer(text: str, limit: int) -> str:
    """`text` cut at the last sentence or line end within `limit` characters, never inside fenced code."""
    text = text.strip()
    if len(text) <= limit:
        return text
    code_spans = []
    pos = 0
    for is_code, piece in split_fences(text):
        if is_code:
            code_spans.append((pos, pos + len(piece)))
        pos += len(piece)
    best = 0
    for match in _BOUNDARY.finditer(text, 0, limit + 1):
        end = match.end() if match.group() != "\n" else match.start()
        if match.group().startswith(".") and _LIST_MARK.search(text, max(0, end - 8), end):
            continue  # "5." opening a numbered item is not the end of a sentence
        if end <= limit and not any(a < end < b for a, b in code_spans):
            best = max(best, end)
    if best >= min(limit // 4, 40):
        return text[:best].rstrip()
    soft = [m.start() for m in _SOFT.finditer(text, 0, limit)]
    cut = soft[-1] if soft and soft[-1] > limit // 2 else limit
    return text[:cut].rstrip(" ,，、;；:：") + "…"


def _lower_title(words: list[str], body: str) -> str:
    """Title Case -> sentence case, keeping acronyms and words the body capitalises mid-sentence (names)."""
    out = []
    for word in words:
        proper = re.search(rf"[a-z,;:(] {re.escape(word)}\b", body) is not None
        out.append(word.lower() if word[:1].isupper() and word[1:].islower() and not proper else word)
    return " ".join(out)


def _base_verb(word: str) -> str:
    word = word.lower()
    if word in _GERUND_BASE:
        return _GERUND_BASE[word]
    stem = word[:-3]
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]
    return stem + "e" if stem.endswith(_ADD_E) else stem


def _en_action(heading: str, body: str) -> str | None:
    """'isolate an HX-110 inverter' for 'Isolating an HX-110 Inverter' / 'How to Isolate …'; None if no action."""
    words = heading.split()
    if len(words) >= 3 and words[0].lower() == "how" and words[1].lower() == "to":
        words = words[2:]
    elif len(words) < 2:
        return None
    first = words[0].lower()
    if (first.endswith("ing") and len(first) > 5 and first not in _NOT_GERUNDS
            and words[1].lower() not in _NOUN_HEADS):
        return " ".join([_base_verb(first), _lower_title(words[1:], body)])
    if first in _EN_VERBS:
        return " ".join([first, _lower_title(words[1:], body)])
    return None


def _en_topic(heading: str, body: str) -> str:
    return _lower_title(heading.split(), body)


def _zh_howto(heading: str, rng: random.Random) -> str | None:
    """A Chinese how-to question for an action heading, or the heading itself when it already asks."""
    if _ZH_QUESTION.search(heading):
        return heading.rstrip("？?") + "？"
    if heading.endswith("的处理") and len(heading) > 3:
        return rng.choice(HANDLE_ZH).format(subject=heading[:-3])
    if heading.startswith(_ZH_VERBS) and not heading.endswith(_ZH_NOUN_ENDS) and not re.search("[与和及]", heading):
        return rng.choice(HOWTO["zh"]).format(action=heading)
    return None


def _list_block(body: str, max_items: int) -> tuple[str, str] | None:
    """('steps'|'points', the list with the line introducing it) for the first list in `body`."""
    lines = body.split("\n")
    for kind, pattern, minimum in (("steps", _NUMBERED, 2), ("points", _BULLET, 3)):
        start = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
        if start is None:
            continue
        end = start
        while end < len(lines) and (pattern.match(lines[end]) or (lines[end].startswith(" ") and lines[end].strip())):
            end += 1
        items = [line for line in lines[start:end] if pattern.match(line)]
        if len(items) < minimum:
            continue
        block = lines[start:end][: max_items + (end - start - len(items))]
        intro = lines[start - 1].strip() if start and lines[start - 1].strip().endswith((":", "：")) else ""
        return kind, "\n".join(([intro] if intro else []) + block)
    return None


def _pairs_of(sec: _Section, options: RulesOptions) -> tuple[list[dict], str | None]:
    """Pairs of one section, or (no pairs, skip reason)."""
    body = "\n\n".join(b for b in sec.body if b).strip()
    if not body:
        return [], "empty"
    if not "".join(piece for code, piece in split_fences(body) if not code).strip():
        return [], "code_only"
    answer = trim_answer(body, options.max_answer_chars)
    if len(answer) < options.min_answer_chars:
        return [], "short"
    titles = [t.strip() for t in sec.section.split(" > ") if t.strip()]
    heading, title = titles[-1], titles[0]
    parent = titles[-2] if len(titles) > 1 else ""
    lang = "zh" if sec.lang == "zh" else "en"
    rng = random.Random(f"{options.seed}|{sec.source}|{sec.section}")
    fields = {"heading": heading, "title": title, "parent": parent,
              "heading_lc": _en_topic(heading, body) if lang == "en" else heading,
              "parent_lc": _en_topic(parent, body) if lang == "en" and parent else parent}
    meta = {"source": sec.source, "section": sec.section, "lang": lang}
    pairs: list[dict] = []
    action = _en_action(heading, body) if lang == "en" else None
    howto = _zh_howto(heading, rng) if lang == "zh" else None
    if action:
        pairs.append({"instruction": rng.choice(HOWTO["en"]).format(action=action), "kind": "howto"})
    elif howto:
        kind = "question" if _ZH_QUESTION.search(heading) else "howto"
        pairs.append({"instruction": howto, "kind": kind})
    elif len(titles) == 1:
        pairs.append({"instruction": rng.choice(INTRO[lang]).format(**fields), "kind": "overview"})
    else:
        templates = OVERVIEW[lang] + (OVERVIEW_PARENT[lang] if parent and len(titles) > 2 else ())
        pairs.append({"instruction": rng.choice(templates).format(**fields), "kind": "overview"})
    pairs[0]["output"] = answer
    listed = _list_block(body, options.max_list_items)
    if listed:
        kind, block = listed
        list_answer = trim_answer(block, options.max_answer_chars)
        if list_answer != answer and len(list_answer) >= options.min_answer_chars:
            topic = (action and _gerund_topic(heading, body)) or fields["heading_lc"]
            question = rng.choice((STEPS if kind == "steps" else POINTS)[lang]).format(topic=topic, heading=heading)
            pairs.append({"instruction": question, "output": list_answer, "kind": kind})
    return [{**p, "input": "", **meta} for p in pairs], None


def _gerund_topic(heading: str, body: str) -> str:
    words = heading.split()
    if words[0].lower() == "how" and len(words) > 2:
        words = words[2:]
    return _lower_title(words, body)


def rule_pairs(chunks: Sequence[CorpusChunk], options: RulesOptions | None = None) -> tuple[list[dict], dict]:
    """Deduplicated pairs (instruction, input, output, kind, source, section, lang) and counts; writes nothing."""
    options = options or RulesOptions()
    sections, no_section = _sections(chunks)
    skipped: Counter = Counter({"empty": 0, "code_only": 0, "short": 0, "no_section": no_section})
    made: list[dict] = []
    for sec in sections:
        pairs, reason = _pairs_of(sec, options)
        if reason:
            skipped[reason] += 1
        made.extend(pairs)
    kept, duplicates = dedup_pairs(made)
    available = len(kept)
    if options.count is not None and available > options.count:
        chosen = sorted(random.Random(options.seed).sample(range(available), options.count))
        kept = [kept[i] for i in chosen]
    stats = {"chunks": len(chunks), "sections": len(sections), "pairs": len(kept), "available": available,
             "duplicates": duplicates,
             "skipped": dict(skipped), "by_kind": dict(Counter(p["kind"] for p in kept)),
             "by_lang": dict(Counter(p["lang"] for p in kept))}
    return kept, stats


def generate_rules(settings: Settings, corpus: Path | str, options: RulesOptions | dict | None = None, *,
                   out: Path | str | None = None, register_it: bool = True) -> GenResult:
    """Pairs from a corpus's structure, written to data/llmops/sft_data_<ts>.json and registered for SFT.

    `corpus` is a corpus JSONL/JSON file, a registered corpus dataset, or documents (a folder or file).
    When no pair comes out, nothing is written or registered and EmptyGeneration (err.gen_no_pairs_rules) is raised.
    """
    options = parse_options(RulesOptions, options)
    pairs, stats = rule_pairs(load_chunks(settings, corpus), options)
    stats["mode"] = "rules"
    if not pairs:
        result = GenResult(None, None, [], stats)
        raise EmptyGeneration("err.gen_no_pairs_rules", result=result, sections=stats["sections"],
                              skipped=", ".join(f"{k}={v}" for k, v in stats["skipped"].items() if v) or "-")
    path, name = write_sft(settings, pairs, out, register_it=register_it)
    return GenResult(path, name, pairs, stats)
