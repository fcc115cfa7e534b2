"""The evaluation report: JSON and self-contained HTML, charts drawn in a real Chromium, the PDF it prints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import zlib
from pathlib import Path

import psutil
import pytest

from llmops.errors import JobError, NotFoundError
from llmops.runner.chromium import SYSTEM_CHROMIUM, print_to_pdf
from llmops.services.evaluation.report import report_paths, write_report
from llmops.settings import Settings

from .evalruns import A, B, C, make_run

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(not SYSTEM_CHROMIUM.exists() or shutil.which("fc-list") is None,
                                    reason="Debian chromium not installed (scripts/ensure_browser.sh needs apt-get)")
SECRET = "sk-test-0123456789abcdef"


def test_json_and_html_hold_everything_escaped_and_no_key(settings, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", SECRET)
    folder = make_run(settings)
    paths = write_report(settings, folder, "zh", baseline=A, pdf=False)
    assert paths.pdf is None and not report_paths(folder).pdf.exists()
    report = json.loads(paths.json.read_text(encoding="utf-8"))
    assert report["best"] == C and report["baseline"] == A and report["lang"] == "zh"
    assert {(r["model"], r["column"]) for r in report["regressions"]} == {
        (B, "metric:exact_match"), (B, "judge:accuracy"), (B, "judge:fluency")}
    assert report["method"]["judge"]["model"] == "judge-7b" and report["method"]["samples"] == 5
    assert report["distributions"]["metric:bleu-4"][A] == [5.0, 100.0, 100.0, 0.0]
    assert report["errors"]["models"][0]["samples"]["timeout"] == [2]
    assert report["samples"]["total"] == 5 and len(report["samples"]["rows"]) == 5
    page = paths.html.read_text(encoding="utf-8")
    for text in (paths.json.read_text(encoding="utf-8"), page):
        assert SECRET not in text
    assert "<script>window.__pwned" not in page and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;" in page
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()[:300]) == 1  # plotly inlined once
    assert page.count("<script") == 2 and "评测报告：光伏问答 v1" in page
    for heading in ("摘要", "方法", "结果", "分数分布", "样本", "错误", "对比"):
        assert f"<h2>{heading}</h2>" in page
    english = write_report(settings, folder, "en", pdf=False).html.read_text(encoding="utf-8")
    assert "<h2>Summary</h2>" in english and "Regressions flagged: 3." in english


@needs_chromium
def test_html_report_draws_its_charts_offline_in_chromium(settings):
    from playwright.sync_api import sync_playwright

    folder = make_run(settings)
    html = write_report(settings, folder, "zh", pdf=False).html
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(SYSTEM_CHROMIUM), args=FLAGS)
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(html.as_uri())
            charts = page.locator(".chart").count()
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot svg.main-svg').length >= {charts}",
                                   timeout=30000)
            assert charts == 1 + 1 + 1 + 2 + 2 * 5  # metrics, judge, human, latency + tokens/s; box + hist each
            assert page.locator(".js-plotly-plot .bars path, .js-plotly-plot .boxlayer path").count() > 20
            assert "评测报告：光伏问答 v1" in page.title()
            assert "逆变器报 F012 怎么办？" in page.inner_text("#samples")
            assert page.evaluate("window.__pwned") is None and page.locator("img").count() == 0
            assert page.evaluate("document.scripts.length") == 2
            assert "<script>window.__pwned=1</script>" in page.inner_text("#samples")  # shown as text
        finally:
            browser.close()
    assert errors == []


def _pdf_characters(data: bytes) -> set[str]:
    """Every character the PDF's fonts map back to text (their ToUnicode CMaps: bfchar and bfrange entries)."""
    found: set[str] = set()

    def text(hexes: bytes) -> str:
        return bytes.fromhex(hexes.decode()).decode("utf-16-be", "replace")

    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            cmap = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.DOTALL):
            found |= {text(dst) for _, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block)}
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.DOTALL):
            for lo, hi, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                first = ord(text(dst)[-1])
                found |= {chr(first + i) for i in range(int(hi, 16) - int(lo, 16) + 1)}
    # Glyphs shared with Kangxi radicals or compatibility ideographs (⽅ for 方) come back as those: fold them.
    return {unicodedata.normalize("NFKC", char) for char in found}


@needs_chromium
def test_pdf_is_printed_with_the_chinese_text(settings):
    folder = make_run(settings)
    paths = write_report(settings, folder, "zh")
    data = paths.pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 50_000
    assert re.search(rb"/FontName /[A-Z]{6}\+NotoSansCJK", data)  # the CJK font is embedded
    characters = _pdf_characters(data)
    assert set("评测报光伏问答逆变器怎么办摘要方法结果") <= characters  # title, headings and a prompt are text
    if shutil.which("pdftotext"):  # poppler reads the whole text back where it is installed
        text = subprocess.run(["pdftotext", str(paths.pdf), "-"], capture_output=True, text=True, timeout=60,
                              check=True).stdout
        assert "评测报告：光伏问答 v1" in text and "逆变器报 F012 怎么办？" in text and "退步" in text
    assert re.search(rb"/Type\s*/Page[^s]", data)
    assert not list(folder.path.glob("*.part"))


def test_missing_chromium_is_a_clear_error_and_html_json_are_still_written(settings, monkeypatch):
    monkeypatch.setenv("LLMOPS_CHROMIUM", str(settings.home / "no-such-chromium"))
    pointed = Settings.from_env()
    folder = make_run(pointed)
    with pytest.raises(NotFoundError) as caught:
        write_report(pointed, folder, "zh")
    assert caught.value.key == "err.ev_chromium_missing"
    for lang in ("en", "zh"):
        message = caught.value.message(lang)
        assert "scripts/ensure_browser.sh" in message and "LLMOPS_CHROMIUM" in message and "no-such-chromium" in message
    paths = report_paths(folder)
    assert paths.html.stat().st_size > 1_000_000 and json.loads(paths.json.read_text(encoding="utf-8"))["best"] == C
    assert not paths.pdf.exists()


@needs_chromium
def test_a_print_that_runs_too_long_is_killed_with_its_whole_tree(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the browser profile too: only this test's processes
    page = tmp_path / "slow.html"
    page.write_text("<p>慢</p><script>while (true) {}</script>", encoding="utf-8")  # the page never finishes
    out = tmp_path / "slow.pdf"
    seen: list[psutil.Process] = []

    def browsers() -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["cmdline"]) if any(str(tmp_path) in part for part in (p.info["cmdline"] or []))]

    watcher = threading.Timer(1.5, lambda: seen.extend(browsers()))
    watcher.start()
    with pytest.raises(JobError) as caught:
        print_to_pdf(settings, page, out, timeout_s=3)
    watcher.join()
    assert "timeout" in caught.value.message("en") and len(seen) >= 2  # the browser and its helpers ran
    _, alive = psutil.wait_procs(seen, timeout=5)
    assert alive == [] and not out.exists() and not Path(str(out) + ".part").exists()


def test_the_page_shows_the_first_samples_and_the_json_keeps_them_all(settings):
    from llmops.services.evaluation.report import build_report
    from llmops.services.evaluation.report_html import render

    report = build_report(make_run(settings), "en", baseline=B, samples=2)
    page = render(report)
    assert len(report.samples.rows) == 5 and "Showing 2 of 5 samples" in page
    assert "#1 Prompt" in page and "#2 Prompt" not in page
    assert {(c.model, c.column) for c in report.regressions} >= {(A, "metric:bleu-4")}  # against sft@v1.1 now
