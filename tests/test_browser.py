"""The Training page in a real Chromium: tabs, language switch, a preview, and a screenshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .apphelpers import AppProcess

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("fc-list") is None,
                                reason="Debian chromium not installed (scripts/ensure_browser.sh needs apt-get)")


def test_training_page_in_browser(settings, tmp_path):
    from playwright.sync_api import sync_playwright

    app = AppProcess(settings.home).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app.url)
            page.get_by_role("tab", name="Training", exact=True).wait_for(timeout=30000)
            page.get_by_text("Device:").wait_for(timeout=60000)  # the deferred device probe arrived
            page.get_by_role("tab", name="DPO (preference tuning)").click()
            page.get_by_role("tab", name="SFT (instruction tuning)").click()
            page.get_by_role("button", name="Preview YAML").filter(visible=True).click()
            page.get_by_text("stage: sft").first.wait_for(timeout=90000)  # first use builds the demo model
            page.get_by_label("中文").check()
            page.get_by_role("tab", name="训练", exact=True).wait_for(timeout=10000)
            assert page.get_by_role("tab", name="DPO（偏好优化）").count() == 1
            page.screenshot(path=str(tmp_path / "training_zh.png"), full_page=True)
            browser.close()
        assert (tmp_path / "training_zh.png").stat().st_size > 20000
    finally:
        app.stop()
