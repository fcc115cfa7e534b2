"""Corpus pipeline: readers, normalisation, chunking, dedup, quality filters and the whole run on the sample docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pydantic
import pytest

from llmops.errors import InvalidInputError, LLMOpsError, NotFoundError
from llmops.i18n.corpus import CORPUS
from llmops.services.corpus import (
    REASONS,
    CorpusOptions,
    MinHasher,
    QualityRules,
    approx_tokens,
    check,
    chunk_text,
    detect_language,
    exact_duplicates,
    iter_documents,
    lsh_params,
    near_duplicates,
    output_path,
    read_file,
    read_sources,
    run,
    tokenizer_counter,
    write_jsonl,
)
from llmops.services.corpus.normalize import normalize, split_fences

ROOT = Path(__file__).resolve().parent.parent
CORPUS_SRC = ROOT / "llmops" / "services" / "corpus"


def _raises(key: str, fn, *args, cls: type[LLMOpsError] = InvalidInputError, **kwargs) -> LLMOpsError:
    with pytest.raises(cls) as info:
        fn(*args, **kwargs)
    assert info.value.key == key, info.value.key
    return info.value


def _message(err: InvalidInputError, lang: str = "en") -> str:
    """The user-facing text from this module's table (the shared table may not have merged it yet)."""
    return CORPUS[err.key][lang].format(**err.params)


# --- readers -----------------------------------------------------------------------------------------------------


def test_markdown_and_text_with_bom(tmp_path):
    md = tmp_path / "a.md"
    md.write_bytes("\ufeff# 标题\n\n正文 body".encode("utf-8"))
    txt = tmp_path / "b.txt"
    txt.write_text("plain text", encoding="utf-8")
    [doc] = read_file(md)
    assert doc.text == "# 标题\n\n正文 body" and doc.meta["format"] == "markdown" and doc.source == "a.md"
    assert read_file(txt)[0].meta["format"] == "text"


def test_html_keeps_code_verbatim_and_drops_scripts(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        "<html><head><title>Guide</title><style>p {color: red}</style></head><body>"
        "<h1>Inverter</h1><p>Check the <b>status</b> &amp; <code>F012</code>.</p>"
        "<script>alert('x')</script>"
        "<pre><code class=\"language-python\">def f(x):\n    return x  &lt;  2\n\n\n# end</code></pre>"
        "<ul><li>one</li><li>two</li></ul></body></html>",
        encoding="utf-8",
    )
    [doc] = read_file(page)
    assert doc.meta == {"format": "html", "title": "Guide"}
    assert "alert" not in doc.text and "color" not in doc.text
    code = "```python\ndef f(x):\n    return x  <  2\n\n\n# end\n```"
    assert code in doc.text
    result = run([page], CorpusOptions(min_chars=1, near_dedup=False))
    text = "\n".join(r.text for r in result.records)
    assert code in text and "Check the status & F012." in text and "- one" in text
    assert result.records[0].section == "Inverter"


def test_jsonl_chosen_field_and_malformed_line(tmp_path):
    good = tmp_path / "d.jsonl"
    good.write_text('{"body": "第一条"}\n\n{"meta": 1, "body": "second"}\n{"body": ""}\n', encoding="utf-8")
    docs = read_file(good, text_field="body")
    assert [d.text for d in docs] == ["第一条", "second"] and docs[1].meta["line"] == 3
    nested = tmp_path / "n.jsonl"
    nested.write_text('{"a": {"b": "deep"}}\n', encoding="utf-8")
    assert read_file(nested, text_field="a.b")[0].text == "deep"
    _raises("err.corpus_field_missing", read_file, good, text_field="text")

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": "fine"}\n{"text": oops}\n', encoding="utf-8")
    err = _raises("err.corpus_bad_json", read_file, bad)
    assert err.params["where"] == f"{bad}:3"
    assert f"{bad}:3" in _message(err) and f"{bad}:3" in _message(err, "zh")

    typed = tmp_path / "t.jsonl"
    typed.write_text('{"text": 5}\n', encoding="utf-8")
    _raises("err.corpus_field_type", read_file, typed)


def test_json_list(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"text": "a"}, "b", {"text": None}]), encoding="utf-8")
    assert [d.text for d in read_file(path)] == ["a", "b"]


def test_csv_quoted_newlines_oversized_field_and_bom(tmp_path):
    big = "长" * 300_000  # beyond the csv module's default 128 KiB field limit
    path = tmp_path / "d.csv"
    path.write_bytes(("\ufeffid,content\n1,\"line one\nline two, with comma\"\n2," + big + "\n3,\n").encode("utf-8"))
    docs = read_file(path, csv_column="content")
    assert [d.text for d in docs] == ["line one\nline two, with comma", big]
    assert docs[0].meta["row"] == 1 and docs[1].meta["row"] == 2
    err = _raises("err.corpus_column_missing", read_file, path, csv_column="text")
    assert "id, content" in err.params["columns"]
    tsv = tmp_path / "d.tsv"
    tsv.write_text("text\tx\nhello\t1\n", encoding="utf-8")
    assert read_file(tsv)[0].text == "hello"


def test_empty_undecodable_oversized_and_unsupported(tmp_path):
    empty = tmp_path / "e.md"
    empty.write_text("  \n\n", encoding="utf-8")
    assert str(empty) in _message(_raises("err.corpus_empty_file", read_file, empty))
    gbk = tmp_path / "g.txt"
    gbk.write_bytes("光伏电站".encode("gbk"))
    err = _raises("err.corpus_encoding", read_file, gbk)
    assert str(gbk) in _message(err) and "UTF-8" in _message(err)
    large = tmp_path / "l.txt"
    large.write_text("x" * 5000, encoding="utf-8")
    _raises("err.corpus_file_too_large", read_file, large, max_bytes=1000)
    _raises("err.corpus_file_too_large", run, [large], CorpusOptions(max_file_mb=0.001))
    for suffix, name in ((".pdf", "PDF"), (".docx", "DOCX")):
        doc = tmp_path / f"x{suffix}"
        doc.write_bytes(b"%PDF-1.4 not really")
        err = _raises("err.corpus_format_unsupported", read_file, doc)
        assert err.params["format"] == name and name in _message(err) and str(doc) in _message(err)
    odd = tmp_path / "x.xyz"
    odd.write_text("x", encoding="utf-8")
    _raises("err.corpus_unknown_suffix", read_file, odd)
    _raises("err.corpus_source_missing", list, iter_documents([tmp_path / "nope"]), cls=NotFoundError)
    _raises("err.corpus_no_sources", list, iter_documents([]))


def test_folder_is_recursive_and_never_follows_links_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("SECRET outside text", encoding="utf-8")
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "top.md").write_text("# Top\n\ntop text", encoding="utf-8")
    (src / "sub" / "deeper" / "d.txt").write_text("deep text", encoding="utf-8")
    (src / "sub" / "empty.md").write_text("", encoding="utf-8")
    (src / "sub" / "scan.pdf").write_bytes(b"%PDF")
    (src / "notes.xyz").write_text("ignored", encoding="utf-8")
    (src / ".hidden.md").write_text("hidden", encoding="utf-8")
    (src / "link.md").symlink_to(outside / "secret.md")
    (src / "linkdir").symlink_to(outside, target_is_directory=True)
    (src / "inner_link.md").symlink_to(src / "top.md")

    docs, skipped = read_sources([src])
    texts = " ".join(d.text for d in docs)
    assert "SECRET" not in texts and "hidden" not in texts
    assert sorted(d.source for d in docs) == ["src/inner_link.md", "src/sub/deeper/d.txt", "src/top.md"]
    reasons = {s.path: s.reason for s in skipped}
    assert reasons == {
        "src/link.md": "corpus.skip.symlink_outside", "src/linkdir": "corpus.skip.symlink_outside",
        "src/notes.xyz": "corpus.skip.unknown_suffix", "src/sub/scan.pdf": "corpus.skip.unsupported",
        "src/sub/empty.md": "corpus.skip.empty",
    }
    empty_dir = tmp_path / "none"
    empty_dir.mkdir()
    _raises("err.corpus_no_documents", run, [empty_dir])


# --- normalize ---------------------------------------------------------------------------------------------------

CODE = "```python\nx  =  {'a': [1,  2]}\t# **not bold** [link](u) ｆｕｌｌ\n\n\n\n\u200bzero_width = `tick`\n```"


def test_normalize_keeps_fenced_code_byte_for_byte():
    text = f"# Title\n\nSome **bold**   text.\n{CODE}\nAfter  *it*.\n\n~~~\n  tilde   block\n~~~"
    out = normalize(text)
    assert CODE in out and "~~~\n  tilde   block\n~~~" in out
    assert "Some bold text." in out and "After it." in out
    assert [code for code, _ in split_fences(out)].count(True) == 2
    assert normalize("intro\n```\nunclosed  code\n\n\n") .endswith("```\nunclosed  code\n\n\n")


def test_normalize_strips_markup_whitespace_and_controls():
    text = (
        "Intro\r\nwith [a link](http://x.y \"t\") and ![img](a.png) <span>tag</span> &amp; `a*b*c`\r\n\r\n\r\n\r\n"
        "__strong__ _em_ ~~gone~~ snake_case_name \\*literal\\*\tTAB  many   spaces\u200b\x07\n"
        "> quoted\n\n---\n\nSetext\n===\n[ref]: http://example.com\n"
    )
    out = normalize(text)
    assert "\r" not in out and "\n\n\n" not in out and "\t" not in out and "  " not in out
    assert "with a link and tag & a*b*c" in out
    assert "img" not in out and "http://x.y" not in out and "http://example.com" not in out
    assert "strong em gone snake_case_name *literal* TAB many spaces\n" in out
    assert "\u200b" not in out and "\x07" not in out
    assert "\nquoted\n" in out and "---" not in out and "# Setext" in out
    plain = normalize("keep *stars* and [brackets](x)", markup=False)
    assert plain == "keep *stars* and [brackets](x)"


def test_nfkc_keeps_cjk_punctuation():
    out = normalize("全角标点，冒号：（括号）！问号？～ ＡＢＣ１２３ ｶﾞ ﬁ 25℃ 面积 m² 　全角空格…")
    assert "全角标点，冒号：（括号）！问号？～" in out
    assert "ABC123" in out and "ガ" in out and "fi" in out and "25°C" in out and "m²" in out
    assert "\u3000" not in out and "…" in out
    assert normalize("e\u0301") == "é"


# --- chunk -------------------------------------------------------------------------------------------------------


def _doc_with_sections() -> str:
    para = " ".join(["The inverter reports string currents every second."] * 6)
    zh = "逆变器每秒采样一次组串电流。" * 12
    return (
        f"# Station\n\nOverview paragraph.\n\n## Layout\n\n### Blocks\n\n{para}\n\n{para}\n\n"
        f"## 中文\n\n{zh}\n\n## Code\n\nIntro.\n\n```python\nprint('hi')\n```\n\n# Second\n\nEnd."
    )


def test_chunk_respects_budget_and_heading_paths():
    chunks = chunk_text(normalize(_doc_with_sections()), max_tokens=64)
    assert all(c.tokens <= 64 and c.tokens == approx_tokens(c.text) for c in chunks)
    sections = [c.section for c in chunks]
    assert sections[0] == "Station" and chunks[0].text.startswith("Station\n\nOverview")
    assert "Station > Layout > Blocks" in sections and "Station > 中文" in sections and sections[-1] == "Second"
    blocks = [c for c in chunks if c.section == "Station > Layout > Blocks"]
    assert len(blocks) >= 2 and blocks[0].text.startswith("Layout\n\nBlocks\n\n")  # empty parent heading kept
    code = next(c for c in chunks if "print" in c.text)
    assert "```python\nprint('hi')\n```" in code.text and code.section == "Station > Code"
    zh = [c for c in chunks if c.section == "Station > 中文"]
    assert len(zh) > 1 and all(c.text.endswith("。") for c in zh)  # cut at sentence ends


def test_long_paragraph_split_at_sentences():
    en = " ".join(f"Sentence number {i} ends here." for i in range(60))
    chunks = chunk_text(en, max_tokens=40, headings=False)
    assert len(chunks) > 3
    for c in chunks:
        assert c.tokens <= 40 and c.text.startswith("Sentence") and c.text.endswith("ends here.")
    assert " ".join(c.text for c in chunks) == en
    nobreak = "甲乙丙丁" * 100  # no sentence marks at all: hard cuts, nothing lost
    parts = chunk_text(nobreak, max_tokens=50, headings=False)
    assert "".join(p.text for p in parts) == nobreak and all(p.tokens <= 50 for p in parts)


def test_code_block_kept_whole_unless_too_big():
    small = "```sh\necho 1\necho 2\n```"
    text = f"para one is here.\n\n{small}\n\npara two is here."
    chunks = chunk_text(text, max_tokens=12, headings=False)
    assert any(small in c.text for c in chunks)
    body = [f"value_{i} = compute({i})" for i in range(80)]
    big = "```python\n" + "\n".join(body) + "\n```"
    pieces = chunk_text(big, max_tokens=40, headings=False)
    assert len(pieces) > 2
    lines = []
    for p in pieces:
        assert p.tokens <= 40 and p.text.startswith("```python\n") and p.text.endswith("\n```")
        lines += p.text.split("\n")[1:-1]
    assert lines == body


def test_approx_tokens():
    assert approx_tokens("光伏电站") == 4
    assert approx_tokens("hello world") == 3  # 2 words x 1.3, rounded up
    assert approx_tokens("") == 0
    assert approx_tokens("逆变器 HX-110 报 F012") == 4 + 3


def test_tokenizer_counter_uses_a_real_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    texts = [p.read_text("utf-8") for p in sorted((ROOT / "data" / "docs").rglob("*.md"))]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(tmp_path / "tok")

    count = tokenizer_counter(tmp_path / "tok")
    assert count("inverter") >= 1
    chunks = chunk_text(normalize(_doc_with_sections()), max_tokens=80, count_tokens=count)
    assert all(c.tokens <= 80 and c.tokens == count(c.text) for c in chunks)
    result = run([ROOT / "data" / "docs" / "en"], CorpusOptions(tokenizer=str(tmp_path / "tok"), max_tokens=128))
    assert result.records and all(r.tokens <= 128 for r in result.records)
    _raises("err.corpus_tokenizer", tokenizer_counter(tmp_path / "missing"), "x")


# --- dedup -------------------------------------------------------------------------------------------------------

EN = (
    "Sunridge is a ground-mounted, grid-tied photovoltaic plant on a semi-arid site at about 1,200 m altitude. "
    "It was commissioned in 2021 and is operated by a permanent site team. The plant is divided into 18 power "
    "blocks, numbered B01 to B18. Each block contains 20 inverters, 200 strings and one 2,500 kVA box transformer "
    "that steps the inverter output up from 800 V to 35 kV."
)
EN_EDIT = EN.replace("2021", "2022").replace("permanent", "permanant").replace("18 power", "eighteen power")
EN_OTHER = (
    "Module cleaning is scheduled when the soiling ratio measured by the reference cells falls below 97 percent "
    "for three consecutive days. Crews use deionised water and soft brushes only, never pressure washers, and "
    "they start at the feeder furthest from the substation so that the morning dew helps loosen the dust."
)
ZH = (
    "晴岭光伏电站为地面集中式并网光伏电站，位于海拔约一千二百米的半干旱地区，二〇二一年全容量并网。全站划分为十八个发电单元，"
    "每个方阵配置二十台逆变器、二百个组串和一台箱式变压器，将逆变器输出的电压升压至三十五千伏。全站使用同一品牌、同一型号的直流连接器，"
    "不同厂家的连接器即使外观一样也不得对插，混插是接头发热和绝缘阻抗低故障的常见原因。"
)
ZH_EDIT = ZH.replace("十八个", "十九个").replace("同一品牌", "同一厂家")
ZH_OTHER = (
    "组件清洗应在清晨或傍晚进行，严禁在正午高温时用冷水冲洗组件，以免玻璃因温差过大而破裂。清洗人员必须穿戴绝缘手套和防滑鞋，"
    "不得踩踏组件表面，清洗用水应为除盐水，清洗后需检查组串电流是否恢复正常，并在工作票中记录清洗范围和发现的缺陷。"
)


def test_exact_dedup_ignores_case_and_whitespace():
    dup = exact_duplicates(["Hello  World\n", "hello world", "HELLO\tWORLD", "hello there", "光伏 电站", "光伏电站"])
    assert dup.tolist() == [False, True, True, False, False, True]


def test_near_dedup_catches_small_edits_in_zh_and_en():
    texts = [EN, ZH, EN_EDIT, EN_OTHER, ZH_EDIT, ZH_OTHER]
    result = near_duplicates(texts)
    assert result.duplicate.tolist() == [False, False, True, False, True, False]
    assert result.representative.tolist() == [0, 1, 0, 3, 1, 5]
    assert (result.bands, result.rows) == lsh_params(0.8)


def test_near_dedup_threshold_is_adjustable():
    words = EN.split(" ")
    heavy = " ".join(w if i % 6 else w.upper() + "x" for i, w in enumerate(words))  # ~1 word in 6 changed
    sigs = MinHasher().signatures([EN, heavy])
    estimate = float((sigs[0] == sigs[1]).mean())
    assert 0.3 < estimate < 0.75
    assert not near_duplicates([EN, heavy], 0.8).duplicate.any()
    assert near_duplicates([EN, heavy], 0.3).duplicate.tolist() == [False, True]


def test_lsh_params_and_clusters_keep_first():
    for t in (0.5, 0.8, 0.95):
        bands, rows = lsh_params(t)
        assert bands * rows <= 128
    assert lsh_params(0.95)[1] > lsh_params(0.8)[1] > lsh_params(0.5)[1]
    # A chain A ~ B ~ C: one cluster, and only the first stays.
    a = EN
    b = EN.replace("2021", "2020")
    c = b.replace("permanent", "small")
    result = near_duplicates([EN_OTHER, a, b, c])
    assert result.duplicate.tolist() == [False, False, True, True]
    assert result.representative.tolist() == [0, 1, 1, 1]
    assert near_duplicates(["", "  ", "x"]).duplicate.tolist() == [False, True, False]


def test_minhash_estimate_is_unbiased():
    estimates = [(s[0] == s[1]).mean() for s in (MinHasher(seed=k).signatures([EN, EN_EDIT]) for k in range(40))]
    norm = lambda t: re.sub(r"\s", "", t.lower())
    grams = [{norm(t)[i:i + 5] for i in range(len(norm(t)) - 4)} for t in (EN, EN_EDIT)]
    true = len(grams[0] & grams[1]) / len(grams[0] | grams[1])
    assert abs(float(np.mean(estimates)) - true) < 0.03


# --- quality -----------------------------------------------------------------------------------------------------


def test_each_quality_filter_has_its_reason():
    rules = QualityRules()
    assert check("short", rules)[0] == "too_short"
    assert check("x " * 200, QualityRules(max_chars=100))[0] == "too_long"
    assert check("#$%^&*{}|<>=+@~" * 4 + " a few words", rules)[0] == "symbol_ratio"
    assert check("\n".join(["the same line again"] * 5 + ["one other line"]), rules)[0] == "dup_lines"
    assert check(" ".join(["buy cheap panels"] * 20), rules)[0] == "top_ngram"
    assert check("Это русский текст, достаточно длинный для проверки фильтра.", rules) == ("language", "other")
    assert check("Это русский текст, достаточно длинный для проверки фильтра.",
                 QualityRules(languages=("zh", "en", "other"))) == (None, "other")
    assert check(EN, rules) == (None, "en") and check(ZH, rules) == (None, "zh")
    code_only = "```python\nx = {'a': [1, 2, 3]}; y = x['a'][0] ** 8 | 3\n}\n}\n}\n```"
    assert check(code_only, rules) == (None, "en")  # code is not held to prose rules
    assert set(REASONS) == {"too_short", "too_long", "symbol_ratio", "dup_lines", "top_ngram", "language"}


def test_detect_language():
    assert detect_language("光伏电站 HX-110 逆变器 SCADA F012 告警处理") == "zh"
    assert detect_language("Operators check inverter 逆变器 status daily.") == "en"
    assert detect_language("12345 !!!") == "other"
    assert detect_language("こんにちは、世界。ひらがなとカタカナ。") == "other"


# --- pipeline ----------------------------------------------------------------------------------------------------


def test_pipeline_over_sample_docs(settings):
    steps = []
    result = run([settings.sample_docs_dir], progress=lambda step, done, total: steps.append(step))
    stats = result.stats
    assert stats.documents == 13 and stats.files == 13
    assert stats.chunks - sum(stats.removed.values()) == stats.records == len(result.records)
    assert set(stats.removed) == {"exact_dup", "near_dup", *REASONS}
    assert stats.languages.get("zh", 0) > 20 and stats.languages.get("en", 0) > 20
    assert sum(stats.languages.values()) == stats.records
    assert sum(stats.histogram["counts"]) == stats.records
    assert len(stats.histogram["bins"]) == len(stats.histogram["counts"]) + 1
    assert stats.tokens == sum(r.tokens for r in result.records)
    assert all(r.tokens <= 512 for r in result.records)
    assert set(stats.elapsed_s) == {"read", "normalize", "chunk", "exact_dedup", "filter", "near_dedup", "total"}
    assert {"read", "exact_dedup", "filter", "near_dedup", "done"} <= set(steps)
    zh = next(r for r in result.records if r.source == "docs/zh/02-inverter-alarms.md")
    assert zh.section.startswith("HX-110 逆变器告警处理指南") and zh.lang == "zh"
    assert any("F012" in r.text for r in result.records if r.lang == "en")


def test_pipeline_counts_removals_and_writes_jsonl(settings, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.md").write_text(f"# A\n\n{EN}\n\n## 中文\n\n{ZH}", encoding="utf-8")
    (src / "b.md").write_text(f"# A\n\n{EN}", encoding="utf-8")  # chunk equal to one of a.md: exact duplicate
    (src / "c.md").write_text(f"# A\n\n{EN_EDIT}\n\n## 中文\n\n{ZH_OTHER}", encoding="utf-8")  # near duplicate
    (src / "d.md").write_text("# Junk\n\n" + "\n".join(["click here now"] * 8), encoding="utf-8")
    (src / "e.jsonl").write_text(json.dumps({"text": "Привет, это совсем другой язык и текст."}) + "\n",
                                 encoding="utf-8")
    result = run([src], CorpusOptions(max_tokens=2048))
    removed = result.stats.removed
    assert removed["exact_dup"] == 1 and removed["near_dup"] == 1
    assert removed["dup_lines"] + removed["top_ngram"] == 1 and removed["language"] == 1
    assert result.stats.chunks - sum(removed.values()) == result.stats.records == 3

    out = write_jsonl(result, output_path(settings, "pv-corpus"))
    assert out == settings.work_dir / "corpus" / "pv-corpus.jsonl"
    raw = out.read_text("utf-8")
    assert "晴岭" in raw and "\\u" not in raw
    rows = [json.loads(line) for line in raw.splitlines()]
    assert [r["source"] for r in rows] == ["src/a.md", "src/a.md", "src/c.md"]
    assert rows[1]["section"] == "A > 中文" and rows[1]["lang"] == "zh"
    assert {"text", "source", "section", "tokens", "lang"} <= set(rows[0])
    assert not list(out.parent.glob(".*.tmp"))
    _raises("err.unsafe_name", output_path, settings, "../escape")


def test_options_are_strict():
    with pytest.raises(pydantic.ValidationError):
        CorpusOptions(unknown=1)
    with pytest.raises(pydantic.ValidationError):
        CorpusOptions(near_threshold=1.5)
    with pytest.raises(pydantic.ValidationError):
        CorpusOptions(min_chars=500, max_chars=100)
    with pytest.raises(pydantic.ValidationError):
        CorpusOptions(languages=["fr"])
    assert CorpusOptions().model_dump()["near_threshold"] == 0.8


def test_every_corpus_message_exists_in_both_languages():
    used = set()
    for path in CORPUS_SRC.glob("*.py"):
        used |= set(re.findall(r"\"((?:err\.corpus_|corpus\.)[a-z_.]+)\"", path.read_text("utf-8")))
    used |= {f"corpus.reason.{r}" for r in ("exact_dup", "near_dup", *REASONS)}
    used |= {f"corpus.step.{s}" for s in ("read", "normalize", "chunk", "exact_dedup", "filter", "near_dedup", "done")}
    assert used - set(CORPUS) == set()
    for key, entry in CORPUS.items():
        assert set(entry) == {"en", "zh"} and all(entry.values()), key
        fields = [set(re.findall(r"\{(\w+)\}", entry[lang])) for lang in ("en", "zh")]
        assert fields[0] == fields[1], key
