"""One open page follows the workspace: what another writer registers appears without a reload or a click."""

from __future__ import annotations

import re

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
        for _ in range(20):
            if "gamma@v1.0" in dropdown_options(page, "Model 1"):
                break
            page.wait_for_timeout(500)
        assert "gamma@v1.0" in dropdown_options(page, "Model 1")
        assert prompt.input_value() == "半句话，还没写完"
        page.get_by_role("tab", name="Models & loop", exact=True).click()
        page.get_by_text("gamma@v1.0").first.wait_for(timeout=5000)  # the registry table
        registry.remove("gamma@v1.0")
        page.get_by_role("tab", name="A/B arena", exact=True).click()
        for _ in range(20):
            if "gamma@v1.0" not in dropdown_options(page, "Model 1"):
                break
            page.wait_for_timeout(500)
        assert "gamma@v1.0" not in dropdown_options(page, "Model 1")
        services = build_services(settings)
        sample = settings.home / "extra.jsonl"
        sample.write_text('{"text": "一段用于继续预训练的文本。"}\n' * 3, encoding="utf-8")
        services.datasets.register_file(sample, "extra_pt", "pt")
        page.get_by_role("tab", name="Data", exact=True).click()
        page.get_by_role("tab", name="Instruction data").click()
        for _ in range(20):
            if "extra_pt" in dropdown_options(page, "Corpus"):
                break
            page.wait_for_timeout(500)
        assert "extra_pt" in dropdown_options(page, "Corpus")
