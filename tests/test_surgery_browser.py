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
        names = registry.names()
        # The list arrives after the page loads (reading mergekit's registry imports torch) and filters by the text
        # in the box: each method typed in must be offered (its option reads "name (Title)").
        for name in (names[0], "ties", names[-1]):
            assert _offered(page, box, name), name


def _offered(page, box, name: str, timeout_s: float = 30.0) -> bool:
    """True once typing `name` into the picker offers it (polled: the choices come from the page's load event)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        box.click()
        box.fill(name)
        page.wait_for_timeout(300)
        offered = [o.replace("✓", "").strip() for o in page.get_by_role("option").all_inner_texts()]
        box.blur()
        if any(option.split(" (")[0] == name for option in offered):
            return True
        page.wait_for_timeout(700)
    return False
