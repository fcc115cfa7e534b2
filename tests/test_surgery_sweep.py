"""Merge-ratio sweeps: three real merges scored by perplexity, the best kept with its lineage and the rest removed,
a stopped sweep keeps its points, and every refusal comes before anything is written (in both languages)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from llmops.cli.main import main
from llmops.errors import LLMOpsError
from llmops.services.models import ModelRegistry
from llmops.services.surgery import sweep as sw

from .surgeryruns import perturbed_copy

SAMPLES = [{"prompt": "What is LLaMA-Factory?", "reference": "A framework for fine-tuning language models."},
           {"prompt": "什么是模型合并？", "reference": "把多个模型的参数合成一个模型。"},
           {"prompt": "Name a merge method.", "reference": "Linear, SLERP or TIES."}]


@pytest.fixture(scope="module")
def perturbed(demo_model_dir, tmp_path_factory) -> Path:
    """A clearly different copy of the demo model (more noise than the shared one: the sweep must tell them apart)."""
    return perturbed_copy(demo_model_dir, tmp_path_factory.mktemp("sweep_inputs") / "b", scale=0.2)


@pytest.fixture
def ids(settings, demo_model_dir, perturbed) -> dict[str, str]:
    registry = ModelRegistry(settings)
    return {"a": registry.add_base("a", str(demo_model_dir)).id, "b": registry.add_base("b", str(perturbed)).id}


@pytest.fixture
def eval_set(settings) -> str:
    settings.eval_sets_dir.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in SAMPLES)
    (settings.eval_sets_dir / "tiny.jsonl").write_text(lines, encoding="utf-8")
    return "tiny"


def _refused(call, key: str) -> LLMOpsError:
    with pytest.raises(LLMOpsError) as caught:
        call()
    assert caught.value.key == key
    en, zh = caught.value.message("en"), caught.value.message("zh")
    assert en and zh and en != zh and "{" not in en + zh
    return caught.value


def test_a_three_point_sweep_keeps_the_lowest_perplexity_merge(settings, ids, eval_set, capsys):
    code = main(["surgery", "sweep", "--method", "linear", "--model", ids["a"], "--model", ids["b"],
                 "--grid", "0,0.5,1", "--set", eval_set, "--metric", "perplexity", "--name", "swept", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    points = out["points"]
    assert [p["ratio"] for p in points] == [0.0, 0.5, 1.0]
    scores = [p["score"] for p in points]
    assert all(s is not None and s > 1 for s in scores) and len(set(scores)) == 3  # the models really differ
    best = min(points, key=lambda p: p["score"])
    assert out["best"]["ratio"] == best["ratio"] and out["best"]["score"] == best["score"]
    folder = Path(out["folder"])
    assert [json.loads(line)["ratio"] for line in (folder / sw.POINTS_FILE).read_text().splitlines()] == \
        [0.0, 0.5, 1.0]
    assert json.loads((folder / sw.RESULT_FILE).read_text())["best"]["ratio"] == best["ratio"]
    assert not any((folder / "points").glob("point-*"))  # the other merges are gone
    kept = Path(out["path"])
    assert kept == settings.models_dir / "swept" and (kept / "config.json").is_file()
    # The kept weights are what was scored: scoring them again gives the same figure.
    samples = sw.read_samples(folder)
    assert sw.score_merge(settings, kept, samples, "perplexity") == pytest.approx(best["score"], rel=1e-5)
    entry = ModelRegistry(settings).get(out["model_id"])
    assert entry.kind == "merged" and Path(entry.path) == kept
    lineage = entry.lineage
    assert lineage["operation"] == "sweep" and lineage["sweep_id"] == out["sweep_id"]
    assert lineage["ratio"] == best["ratio"] and lineage["score"] == best["score"]
    assert lineage["inputs"] == [ids["a"], ids["b"]] and lineage["metric"] == "perplexity"
    shown = sw.read_sweep(settings, out["sweep_id"])
    assert shown["best"]["ratio"] == best["ratio"] and len(shown["points"]) == 3


def test_a_stopped_sweep_keeps_the_points_done(settings, ids, eval_set):
    plan = sw.plan_sweep(settings, "slerp", [ids["a"], ids["b"]], eval_set, grid="0:1:0.5", name="half")
    assert plan.models_at_once == 2 and [p.ratio for p in plan.params.points] == [0.0, 0.5, 1.0]
    sw.create_sweep(plan)
    stop = threading.Event()

    def progress(stage, done, total, force=False, **counts):
        if stage == "score":  # a stop while the first point is scored: it is finished, the rest never start
            stop.set()

    result = sw.run_sweep_job(settings, plan.params, stop, progress)
    assert result["stopped"] is True and [p["ratio"] for p in result["points"]] == [0.0]
    assert len(sw.read_points(plan.folder)) == 1
    assert Path(result["path"]).is_dir() and result["best"]["ratio"] == 0.0
    assert not any((plan.folder / "points").glob("point-*"))


def test_grids_parse_and_bad_ones_are_refused():
    assert sw.parse_grid("0:1:0.25") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert sw.parse_grid("0:1:0.1")[-1] == 1.0 and len(sw.parse_grid("0:1:0.1")) == 11
    assert sw.parse_grid([0.2, 0.8]) == [0.2, 0.8]
    for bad in ("1:0:0.5", "0:1:0", "0,0", "0", "a,b", "0:1"):
        _refused(lambda bad=bad: sw.parse_grid(bad), "err.sgw_grid")
    _refused(lambda: sw.parse_grid("0:1:0.001"), "err.sgw_grid_size")


def test_refusals_come_before_anything_is_written(settings, ids, eval_set, perturbed, capsys):
    _refused(lambda: sw.plan_sweep(settings, "linear", [ids["a"]], eval_set), "err.sgw_two_models")
    _refused(lambda: sw.plan_sweep(settings, "linear", [ids["a"], ids["b"]], eval_set, grid="1:0:1"),
             "err.sgw_grid")
    _refused(lambda: sw.plan_sweep(settings, "linear", [ids["a"], ids["b"]], eval_set, param="density"),
             "err.sgw_param")
    # Too little disk for two models at once: B carries a sparse weights file of 0.6 of the free space.
    huge = settings.models_dir / "huge"
    shutil.copytree(perturbed, huge)
    free = shutil.disk_usage(settings.work_dir).free
    with open(huge / "extra.safetensors", "wb") as handle:
        handle.truncate(int(free * 0.6))
    big = ModelRegistry(settings).add_base("huge", str(huge)).id
    _refused(lambda: sw.plan_sweep(settings, "linear", [ids["a"], big], eval_set), "err.sg_no_space")
    assert main(["surgery", "sweep", "--model", ids["a"], "--set", eval_set]) != 0
    assert "two models" in capsys.readouterr().err
    assert not sw.sweeps_root(settings).exists()


def test_the_sweep_section_starts_plots_and_refuses(settings, ids, eval_set):
    import gradio as gr
    from tests.apphelpers import connect

    from llmops.services.container import build_services
    from llmops.ui.common import errors_to_messages
    from llmops.ui.i18n import Labels
    from llmops.ui.live import Live
    from llmops.ui.tabs import surgery_sweep

    services = build_services(settings)
    labels = Labels("zh")
    with gr.Blocks(analytics_enabled=False) as demo:
        lang_state = gr.State("zh")
        live = Live(services.workspace, lang_state)
        surgery_sweep.build(services, labels, lang_state, live)
        live.wire(demo)
    errors_to_messages(demo, lang_state, "zh")
    demo.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = connect(demo.local_url)
        with pytest.raises(Exception, match="两个模型"):  # refused in the page's language, nothing queued
            client.predict(ids["a"], "", "linear", "0,1", eval_set, "perplexity", False, "",
                           api_name="/surgery_sweep_start")
        assert not sw.sweeps_root(settings).exists()
        started = client.predict(ids["a"], ids["b"], "slerp", "0,1", eval_set, "perplexity", False, "ui-swept",
                                 api_name="/surgery_sweep_start")
        note, sweep_id, job_id = started[0], started[2], started[3]
        assert sweep_id in note and job_id
        job = services.reconciler.wait_applied(job_id, timeout_s=120)
        entry = ModelRegistry(settings).get(job.apply_result["model_id"])
        assert entry.name == "ui-swept" and entry.lineage["method"] == "slerp"
    finally:
        demo.close()
    line, _, running = surgery_sweep.status(services, sweep_id, job_id, "zh")
    assert "2/2" in line and not running
    shown = sw.read_sweep(settings, sweep_id)
    assert [p["ratio"] for p in shown["points"]] == [0.0, 1.0]
    fig = surgery_sweep.sweep_figure(shown["points"], "zh")
    assert list(fig.data[0].x) == [0.0, 1.0] and fig.data[1].x[0] == shown["best"]["ratio"]
    assert fig.data[1].y[0] == min(p["score"] for p in shown["points"])
