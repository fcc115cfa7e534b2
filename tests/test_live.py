"""The live workspace: pickers follow the stores, finished rounds take effect with no page open."""

from __future__ import annotations

import json
import time

from llmops.services.container import build_services
from llmops.services.models import ModelRegistry
from llmops.services.prefs import PrefsStore, Vote
from llmops.ui.live import _unsent, picker_update

from .apphelpers import finished


def test_picker_update_keeps_drops_and_prefers():
    # A kept pick is not re-sent: a refresh racing with the user's own change must not undo it.
    assert "value" not in picker_update(["a", "b"], "b") and picker_update(["a", "b"], "b")["choices"] == ["a", "b"]
    assert "value" not in picker_update(["a", "b"], ["a"], multiselect=True)
    assert picker_update(["a", "b"], "gone", default="a")["value"] == "a"
    assert picker_update(["a", "b"], "gone")["value"] is None
    assert picker_update(["a", "b"], "a", prefer="b")["value"] == "b"
    assert picker_update(["a", "b"], ["a", "gone"], multiselect=True)["value"] == ["a"]
    assert picker_update(["a", "b"], None, multiselect=True, default=["b"])["value"] == ["b"]
    # An emptied multiselect stays empty: the user cleared it on purpose.
    assert "value" not in picker_update(["a", "b"], [], multiselect=True, default=["b"])
    assert picker_update([("Label A", "a")], "gone", default="a")["value"] == "a"


def test_an_update_equal_to_the_last_sent_is_skipped():
    import gradio as gr
    import pandas as pd

    # Tables differ only past what a DataFrame's repr shows: they must still count as different.
    wide = pd.DataFrame({"n": range(200)})
    changed = wide.copy()
    changed.loc[100, "n"] = -1
    first, sent = _unsent([gr.update(choices=["a"]), wide, gr.skip()], None)
    assert first[0]["choices"] == ["a"] and first[1] is wide and set(sent) == {0, 1}
    again, sent = _unsent([gr.update(choices=["a"]), wide.copy(), gr.skip()], sent)
    assert again == [gr.skip(), gr.skip(), gr.skip()]
    moved, sent = _unsent([gr.update(choices=["a", "b"]), changed, gr.skip()], sent)
    assert moved[0]["choices"] == ["a", "b"] and moved[1] is changed


def test_each_store_moves_only_its_topic(settings, demo_model_dir):
    services = build_services(settings)
    watch = services.workspace
    before = watch.revision()
    time.sleep(0.01)
    ModelRegistry(settings).add_base("alpha", str(demo_model_dir), template="chatml")
    after_model = watch.revision()
    assert watch.changed(before, after_model) == {"models"}
    PrefsStore(settings.prefs_path).append(Vote(prompt="p", model_a="a@v1", model_b="b@v1", response_a="x",
                                                response_b="y", winner="a"))
    after_vote = watch.revision()
    assert watch.changed(after_model, after_vote) == {"prefs"}
    services.training.datasets_for_stage("sft")  # registers the shipped samples on first use
    assert "datasets" in watch.changed(after_vote, watch.revision())
    assert watch.changed(None, after_vote) == set(after_vote)


def test_unchanged_registry_is_not_rewritten(settings, demo_model_dir):
    services = build_services(settings)
    services.models.add_base("alpha", str(demo_model_dir), template="chatml")
    stamp = services.models.path.stat().st_mtime_ns
    time.sleep(0.01)
    for _ in range(3):
        services.sync_models()
    assert services.models.path.stat().st_mtime_ns == stamp


def test_dpo_round_completes_with_no_page_open(settings, demo_model_dir, app_factory):
    """Launched through the API, client gone at once: the reconciler registers it and sets the pair, once."""
    from tests.apphelpers import connect

    ModelRegistry(settings).add_base("demo", str(demo_model_dir), template="chatml")
    store = PrefsStore(settings.prefs_path)
    for i in range(4):
        store.append(Vote(prompt=f"q{i}", model_a="demo@v1.0", model_b="other@v1.0", response_a=f"good {i}",
                          response_b=f"bad {i}", winner="a"))
    app = app_factory()
    try:
        client = connect(app.url)
        client.predict("demo@v1.0", False, "human", api_name="/loop_prepare")
        job_id = client.predict(api_name="/loop_launch")[1]
        client.close()
        services = build_services(settings)
        finished(services.runner, job_id, 240)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and services.loop.pair()[0] is None:
            time.sleep(0.5)
        current, previous = services.loop.pair()
        assert previous == "demo@v1.0" and current and current.startswith("demo@")
        assert services.models.get(current).lineage["job_id"] == job_id
    finally:
        app.kill()
    # A restart applies nothing twice.
    app = app_factory()
    try:
        time.sleep(3)
        state = json.loads((settings.work_dir / "loop.json").read_text(encoding="utf-8"))
        assert state["applied"] == [job_id]
        assert sum(1 for e in ModelRegistry(settings).list() if e.lineage.get("job_id") == job_id) == 1
    finally:
        app.stop()
