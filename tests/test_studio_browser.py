"""The studio's overview pages in a browser: the dashboard first, a pipeline run's stages, a version's lineage graph."""

from __future__ import annotations

import re

import yaml

from llmops.services.container import build_services

from .test_browser import app_page, pytestmark  # noqa: F401 - the same skip rule
from .test_browser_loop import pick, wait_for_option


def _failed_gate_run(services, candidate: str) -> tuple[str, str]:
    """A one-stage pipeline whose gate finds no evaluation to judge by: it fails at once; (run id, its reason)."""
    text = yaml.safe_dump({"name": "gate_only", "stages": [
        {"id": "gate", "kind": "gate", "params": {"candidate": candidate, "previous": "${current}", "set": "faq",
                                                   "metric": "exact_match"}}]})
    run_id = services.pipelines.start(text, "gate_only.yaml").run_id
    services.reconciler.run_once()
    state = services.pipelines.show(run_id)
    assert state.status == "failed"
    return run_id, services.pipelines.reason(state.stages["gate"])


def test_dashboard_pipeline_run_and_lineage_graph(settings, demo_model_dir, app_factory):
    services = build_services(settings)
    base = services.models.add_base("demo", str(demo_model_dir), template="chatml")
    services.models.set_default(base.id)
    merged = services.models.add_merged("blend", str(demo_model_dir),
                                        lineage={"operation": "linear", "inputs": [base.id], "parent_id": base.id})
    run_id, reason = _failed_gate_run(services, merged.id)
    assert reason
    versions = str(len(services.models.list()))
    with app_page(app_factory(), height=1200) as page:
        # 1. The dashboard is the first page, and its figures are the registry's.
        page.get_by_role("tab", name="Dashboard", selected=True).wait_for(timeout=10_000)
        page.wait_for_function("([sel, want]) => document.querySelector(sel)?.innerText === want",
                               arg=["#dash-versions .dash-value", versions], timeout=30_000)

        # 2. The pipeline run: listed, and its stage shows why it failed.
        page.get_by_role("tab", name="Pipelines", exact=True).click()
        page.get_by_text("gate_only").filter(visible=True).first.wait_for(timeout=30_000)
        wait_for_option(page, "Run", run_id)
        pick(page, "Run", run_id)
        page.get_by_text(re.compile(r"stage \d of 1")).filter(visible=True).first.wait_for(timeout=30_000)
        # The stage's row: its kind, its status and why (the runs table above has no reason column).
        row = page.locator("tr").filter(has_text=reason[:30]).filter(visible=True).first
        row.wait_for(timeout=30_000)
        assert "gate" in row.inner_text() and "failed" in row.inner_text()

        # 3. The merged version's lineage graph names its parent.
        page.get_by_role("tab", name="Lineage", exact=True).click()
        wait_for_option(page, "Version or artifact id", merged.id)
        pick(page, "Version or artifact id", merged.id)
        graph = page.locator(".js-plotly-plot").filter(visible=True).first
        graph.wait_for(timeout=30_000)
        page.wait_for_function("([id]) => [...document.querySelectorAll('.js-plotly-plot text')]"
                               ".some(node => node.textContent === id)", arg=[base.id], timeout=30_000)
        shown = graph.locator("text").all_text_contents()
        assert merged.id in shown and base.id in shown
