"""The Chat tab in a real Chromium: a streamed answer, Stop mid-answer, Send to A/B opening that tab, Chinese."""

from __future__ import annotations

import re

from llmops.services.models import ModelRegistry

from .test_browser import app_page, pytestmark  # noqa: F401 - the same skip reason when Chromium is missing


def test_chat_stop_and_send_to_ab_in_browser(settings, app_factory, demo_model_dir, tmp_path):
    registry = ModelRegistry(settings)
    registry.add_base("demo", str(demo_model_dir), template="chatml")
    registry.set_default("demo@v1.0")
    with app_page(app_factory(), height=1200) as page:
        page.get_by_role("tab", name="Chat", exact=True).click()
        page.get_by_text("System prompt and sampling").filter(visible=True).first.click()
        page.get_by_role("textbox", name=re.compile(r"^System prompt \(optional\)")).filter(visible=True).first.fill("Answer briefly.")
        max_tokens = page.get_by_label("number input for Max new tokens").filter(visible=True).first
        max_tokens.fill("4000")
        max_tokens.press("Enter")
        assert max_tokens.input_value() == "4000", "long enough that only Stop can end it within the test"
        box = page.get_by_role("textbox", name=re.compile("^Message")).filter(visible=True).first
        box.fill("逆变器报 F012 怎么办？")
        box.press("Enter")
        answer = page.locator(".bot").first
        answer.wait_for(timeout=60000)
        page.wait_for_function("el => el.innerText.trim().length > 20", arg=answer.element_handle(), timeout=60000)
        page.get_by_role("button", name="Stop", exact=True).click()
        page.get_by_text("Stopped; the answer so far is kept.").wait_for(timeout=10000)
        kept = answer.inner_text()
        page.wait_for_timeout(1500)
        assert answer.inner_text() == kept, "nothing is added after Stop"
        page.get_by_role("button", name="Send to A/B").click()
        prompt = page.get_by_label("Prompt", exact=True)
        prompt.wait_for(state="visible", timeout=10000)
        page.wait_for_function("el => el.value.length > 0", arg=prompt.element_handle(), timeout=10000)
        assert prompt.input_value() == "逆变器报 F012 怎么办？"
        assert page.get_by_role("tab", name="A/B arena", exact=True).get_attribute("aria-selected") == "true"
        page.get_by_label("中文").check()
        page.get_by_role("tab", name="对话", exact=True).click()
        page.get_by_role("button", name="发送到 A/B 对战").wait_for(timeout=10000)
        assert page.get_by_text("按 Enter 发送；Shift+Enter 换行。").count() == 1
        page.screenshot(path=str(tmp_path / "chat_zh.png"), full_page=True)
