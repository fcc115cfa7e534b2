"""One open page follows the workspace: what another writer registers appears without a reload or a click."""

from __future__ import annotations

import re
import time

from llmops.services.container import build_services
from llmops.services.models import ModelRegistry

from .test_browser import app_page, pytestmark  # noqa: F401 - the same skip rule


def dropdown_input(page, label: str):
    """The text input of the visible Gradio dropdown whose label reads `label` (multiselects have no aria-label)."""
    labelled = page.get_by_label(label, exact=True).filter(visible=True)
    if labelled.count():
        return labelled.first
    title = page.get_by_test_id("block-info").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    return title.filter(visible=True).first.locator("xpath=..").locator("input").first


def dropdown_options(page, label: str) -> list[str]:
    """Open a Gradio dropdown by its label and read the options it offers."""
    box = dropdown_input(page, label)
    box.click()
    options = page.get_by_role("option").all_inner_texts()
    box.blur()  # Escape would leave the list filtered by the shown value
    page.wait_for_timeout(200)
    return [o.replace("✓", "").strip() for o in options]


def options_until(page, label: str, done, timeout_s: float = 20.0) -> list[str]:
    """The dropdown's options once `done(options)` holds (a live refresh may land a tick later), else the last seen."""
    deadline = time.monotonic() + timeout_s
    options = dropdown_options(page, label)
    while not done(options) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        options = dropdown_options(page, label)
    return options


def options_when(page, label: str, wanted: set[str], timeout_s: float = 20.0) -> list[str]:
    """The dropdown's options once they include every one of `wanted`, else the last seen."""
    return options_until(page, label, lambda options: wanted <= set(options), timeout_s)


def test_open_page_follows_models_and_datasets(settings, app_factory, demo_model_dir):
    registry = ModelRegistry(settings)
    registry.add_base("alpha", str(demo_model_dir), template="chatml")
    with app_page(app_factory()) as page:
        page.get_by_role("tab", name="A/B arena", exact=True).click()
        page.wait_for_timeout(1000)
        assert "alpha@v1.0" in dropdown_options(page, "Model 1")
        prompt = page.get_by_label("Prompt", exact=True)
        prompt.fill("半句话，还没写完")  # half-filled form while the workspace changes underneath
        registry.add_base("gamma", str(demo_model_dir), template="chatml")  # another writer, no page action
        assert "gamma@v1.0" in options_when(page, "Model 1", {"gamma@v1.0"})
        assert prompt.input_value() == "半句话，还没写完"
        page.get_by_role("tab", name="Models & loop", exact=True).click()
        page.get_by_text("gamma@v1.0").first.wait_for(timeout=5000)  # the registry table
        registry.remove("gamma@v1.0")
        page.get_by_role("tab", name="A/B arena", exact=True).click()
        assert "gamma@v1.0" not in options_until(page, "Model 1", lambda options: "gamma@v1.0" not in options)
        services = build_services(settings)
        sample = settings.home / "extra.jsonl"
        sample.write_text('{"text": "一段用于继续预训练的文本。"}\n' * 3, encoding="utf-8")
        services.datasets.register_file(sample, "extra_pt", "pt")
        page.get_by_role("tab", name="Data", exact=True).click()
        page.get_by_role("tab", name="Instruction data").click()
        assert "extra_pt" in options_when(page, "Corpus", {"extra_pt"})
