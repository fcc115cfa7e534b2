"""The jobs panel's refresh: a launch or a pick selects a job; the timer never puts an older pick back."""

from __future__ import annotations

from llmops.services.container import build_services
from llmops.ui.widgets import jobs_panel

from .test_runner import spec


def test_the_timer_keeps_a_newer_pick_and_only_replaces_a_vanished_one(settings):
    services = build_services(settings)
    first = services.runner.submit(spec(settings, "first", "pass"))
    second = services.runner.submit(spec(settings, "second", "pass"))
    services.runner.wait(first.id, 30)
    services.runner.wait(second.id, 30)

    # A launch (or the user) picks a job: the picker is set to it.
    rows, picker, status, *_ = jobs_panel.refresh(services, first.id, "en")
    assert picker["value"] == first.id and first.id in status and [r[0] for r in rows] == [second.id, first.id]
    # A tick that left with the old pick reports that job but leaves the picker's value alone: a launch that
    # selected another job meanwhile keeps its selection.
    _, picker, status, *_ = jobs_panel.refresh(services, first.id, "en", pick=False)
    assert "value" not in picker and picker["choices"] == [second.id, first.id] and first.id in status
    # A picked job that vanished is replaced by the newest, even by a tick.
    _, picker, status, *_ = jobs_panel.refresh(services, "gone", "en", pick=False)
    assert picker["value"] == second.id and second.id in status
