"""The Evaluation tab in a browser: its tables and pickers fill when the tab opens and follow new sets."""

from __future__ import annotations

from llmops.services.evaluation.sets import EvalSets
from llmops.services.models import ModelRegistry

from .test_browser import app_page, pytestmark  # noqa: F401 - the same skip rule
from .test_browser_live import options_when


def test_eval_tab_fills_on_select_and_follows_new_sets(settings, demo_model_dir, tmp_path, app_factory):
    ModelRegistry(settings).add_base("demo", str(demo_model_dir), template="chatml")
    first = tmp_path / "first.jsonl"
    first.write_text('{"prompt": "q1", "reference": "a1"}\n', encoding="utf-8")
    EvalSets(settings).add(first, "first_set")
    with app_page(app_factory()) as page:
        page.get_by_role("tab", name="Evaluation", exact=True).click()
        page.get_by_text("first_set").first.wait_for(timeout=10000)  # the sets table
        EvalSets(settings).add(first, "second_set")  # another writer, no page action
        page.get_by_text("second_set").first.wait_for(timeout=15000)
        page.get_by_role("tab", name="Run", exact=True).click()
        assert {"first_set", "second_set"} <= set(options_when(page, "Evaluation set", {"first_set", "second_set"}))
        assert page.get_by_text("needs reference").count() >= 1  # the metric choices name their needs
