"""The Surgery tab in a browser: the page loads with it, and its method list is mergekit's, filled on load."""

from __future__ import annotations

from llmops.services.surgery import methods as registry

from .test_browser import app_page, pytestmark  # noqa: F401 - the same skip rule
from .test_browser_live import dropdown_input


def test_the_surgery_tab_draws_mergekits_methods(app_factory):
    with app_page(app_factory()) as page:
        page.get_by_role("tab", name="Surgery", exact=True).click()
        page.get_by_role("tab", name="Merge (mergekit)", exact=True).wait_for(timeout=15000)
        page.wait_for_timeout(500)
        box = dropdown_input(page, "Merge method")
        box.click()
        box.fill("")  # the list is filtered by the text in the box: empty, it shows every method
        page.wait_for_timeout(500)
        offered = page.get_by_role("option").all_inner_texts()
        box.blur()
        assert offered and len(offered) == len(registry.names())
        assert any("linear" in option.lower() for option in offered)
