"""The Training page in a real Chromium: tabs, language switch, a preview, and a screenshot."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .apphelpers import AppProcess

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

IFRAME_RESIZER = "https://cdnjs.cloudflare.com/ajax/libs/iframe-resizer/4.3.1/iframeResizer.contentWindow.min.js"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("fc-list") is None,
                                reason="Debian chromium not installed (scripts/ensure_browser.sh needs apt-get)")


@contextlib.contextmanager
def app_page(app: AppProcess, height: int = 1000):
    """A headless Chromium page open on a running app (started by app_factory, which also stops it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": height})
        page.goto(app.url)
        yield page
        browser.close()


def test_training_page_in_browser(settings, app_factory, tmp_path):
    with app_page(app_factory()) as page:
        asked: list[str] = []  # every URL the page loads: an offline box must not wait on any other host
        page.on("request", lambda request: asked.append(request.url))
        page.reload()
        page.get_by_role("tab", name="Training", exact=True).click()
        page.get_by_text("Device:").wait_for(timeout=60000)  # the deferred device probe arrived
        page.get_by_role("tab", name="DPO (preference tuning)").click()
        page.get_by_role("tab", name="SFT (instruction tuning)").click()
        page.get_by_role("button", name="Preview YAML").filter(visible=True).click()
        page.get_by_text("stage: sft").first.wait_for(timeout=90000)  # first use builds the demo model
        page.get_by_label("中文").check()
        page.get_by_role("tab", name="训练", exact=True).wait_for(timeout=10000)
        assert page.get_by_role("tab", name="DPO（偏好优化）").count() == 1
        page.screenshot(path=str(tmp_path / "training_zh.png"), full_page=True)
    assert (tmp_path / "training_zh.png").stat().st_size > 20000
    # Nothing the page needs to render comes from elsewhere (no web fonts); Gradio's own index page still adds one
    # async script for embedding in iframes, which nothing waits on.
    outside = sorted({url for url in asked if urlparse(url).hostname not in ("127.0.0.1", None)})
    assert len(asked) > 10 and outside in ([], [IFRAME_RESIZER]), outside


def test_ab_vote_in_browser(settings, app_factory, demo_model_dir, tmp_path):
    from llmops.services.models import ModelRegistry

    registry = ModelRegistry(settings)
    registry.add_base("alpha", str(demo_model_dir), template="chatml")
    registry.add_base("beta", str(demo_model_dir), template="chatml")
    with app_page(app_factory(), height=1100) as page:
        page.get_by_role("tab", name="A/B arena", exact=True).click()
        page.get_by_label("Prompt", exact=True).fill("逆变器报 F012 怎么办？")
        page.get_by_role("button", name="Generate both answers").click()
        # A person votes once the page says both answers are in (a second click would only report the duplicate).
        page.get_by_text("Both answers are ready: vote.").wait_for(timeout=120_000)
        page.get_by_role("button", name="← Left (A) better").click()
        page.get_by_text("saved to prefs.jsonl").wait_for(timeout=30_000)
        reveal = page.get_by_text("Left (A) was").inner_text()
        assert "alpha@v1.0" in reveal and "beta@v1.0" in reveal
        page.get_by_text("Answer A (left): ").wait_for(timeout=5000)  # the answer boxes now name their models
        page.screenshot(path=str(tmp_path / "ab.png"), full_page=True)
    lines = settings.prefs_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "逆变器" in lines[0]
