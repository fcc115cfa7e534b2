"""Lineage: a real DPO round from votes, an evaluation that gates it, a merge on top, and the graph that names them
all — through the service, the CLI, the plotly figure and the app's API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llmops.errors import NotFoundError
from llmops.schemas.eval_runs import EvalRunConfig, ModelSummary, RunSummary
from llmops.schemas.evaluation import EvalSample
from llmops.services.container import build_services
from llmops.services.datagen import build_corpus
from llmops.services.evaluation import gate
from llmops.services.evaluation.run_folder import RunFolder, new_run_id
from llmops.services.lineage.service import LineageService, render_text
from llmops.services.lineage.store import Fact, LineageStore
from llmops.services.prefs import Vote
from llmops.services.surgery.outputs import plan_output, register_output
from llmops.ui.tabs.lineage import figure, table_rows

from .apphelpers import connect, finished
from .test_cli import cli

ROOT = Path(__file__).resolve().parent.parent

VOTES = 4


def _faq(settings):
    """A dataset with two versions: the upload (v1) and its deduplicated v2."""
    src = settings.home / "faq.jsonl"
    rows = [{"instruction": f"q{i % 3}", "input": "", "output": f"a{i % 3}"} for i in range(6)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    services = build_services(settings)
    services.datasets.register_file(src, "faq")
    services.datasets.dedup("faq", near=False)
    return services


def _eval_run(settings, new: str, old: str) -> str:
    """A complete run folder on faq@v2 where `new` scores above `old`."""
    run_id = new_run_id()
    folder = RunFolder(settings, run_id)
    folder.create(EvalRunConfig(run_id=run_id, models=[new, old], set="faq@v2", metrics=["exact_match"]),
                  [EvalSample(prompt="q0", reference="a0")])
    models = {new: ModelSummary(samples=1, metrics={"exact_match": 1.0}),
              old: ModelSummary(samples=1, metrics={"exact_match": 0.0})}
    folder.write_summary(RunSummary(run_id=run_id, set="faq@v2", samples=1, done=2, total=2, status="complete",
                                    metrics=["exact_match"], models=models))
    return run_id


def test_a_merged_version_names_votes_dataset_job_evaluation_and_parent(settings, demo_model_dir, app_factory):
    services = _faq(settings)
    base = services.models.add_base("demo", str(demo_model_dir), template="chatml").id
    for i in range(VOTES):
        services.prefs.append(Vote(prompt=f"q{i}", model_a=base, model_b="other@v1.0", response_a=f"good {i}",
                                   response_b=f"bad {i}", winner="a"))
    round_ = services.loop.prepare(base, max_steps=1, save_steps=1, cutoff_len=128, logging_steps=1,
                                 gradient_accumulation_steps=1)
    _, job = services.loop.launch(round_)
    app = app_factory()  # starts while the round trains; it reads the stores on every call
    finished(services.runner, job.id, 240)
    tuned = services.loop.complete(job.id).id
    run_id = _eval_run(settings, tuned, base)
    services.models.set_default(base)
    gate.configure(settings, set_name="faq@v2", metric="exact_match", threshold=0.0)
    services.loop.make_current()  # passes the gate on run_id: the run is recorded as what gated `tuned`
    plan = plan_output(settings, "demo-merged")
    shutil.copytree(demo_model_dir, plan.partial)
    inputs = [f"{tuned}#checkpoint-1", base]  # a checkpoint of the round, as averaging names its inputs
    final = plan.commit({"merge_method": "linear", "models": inputs})
    merged = register_output(settings, "demo-merged", final, {"operation": "merge", "method": "linear",
                                                              "inputs": inputs, "parent_id": tuned}).id

    lineage = LineageService(settings)
    dataset_version = f"{round_.dataset}/v1"
    ancestors = {n.id: n for n in lineage.ancestors(merged)}
    batch = next(n for n in ancestors.values() if n.kind == "votes_batch")
    assert batch.details["count"] == VOTES and batch.details["file"] == str(round_.export_path)
    assert batch.details["first_vote"] <= batch.details["last_vote"]
    for wanted in (dataset_version, job.id, run_id, tuned, base, f"recipe:{merged}", f"{job.id}/checkpoint-1"):
        assert wanted in ancestors, (wanted, sorted(ancestors))
    assert ancestors[run_id].kind == "eval_run" and ancestors[job.id].kind == "job"
    assert ancestors[base].kind == "base_model" and ancestors[tuned].kind == "model_version"
    assert ancestors[f"{job.id}/checkpoint-1"].kind == "checkpoint"
    graph = lineage.graph()
    # The job read the version its dataset pointed to at launch (recorded, not assumed), and the run gated `tuned`.
    (trained_on,) = [e for e in graph.parents(job.id) if e.relation == "trained_on"]
    assert trained_on.parent == dataset_version and not dict(trained_on.details)
    assert {(e.parent, e.relation) for e in graph.parents(tuned)} == {(job.id, "produced"), (run_id, "gated")}
    assert dict(next(e for e in graph.parents(tuned) if e.relation == "gated").details)["passed"] is True
    # Dataset versions keep their parents; an evaluation set is a parent of the run.
    assert "faq/v1" in {n.id for n in lineage.ancestors("faq@v2")}
    assert run_id in {n.id for n in lineage.descendants("faq/v2")}
    assert merged in {n.id for n in lineage.descendants(base)}
    assert lineage.node(job.id).details["status"] == "COMPLETED"

    view = lineage.view(merged, down=False)
    text = render_text(view, "en")
    assert f"{VOTES} votes" in text and run_id in text and "Where it came from" in text
    assert "来源" in render_text(view, "zh")
    traced = {node_id for trace in figure(view).data if trace.customdata is not None for node_id in trace.customdata}
    assert traced == {merged, *ancestors}
    assert {row[3] for row in table_rows(view)} == traced

    shown = cli("lineage", merged, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["id"] == merged and {n["id"] for n in data["ancestors"]} == set(ancestors)
    assert next(n for n in data["ancestors"] if n["kind"] == "votes_batch")["details"]["count"] == VOTES
    depth = {n["id"]: n["depth"] for n in data["ancestors"]}
    assert depth[batch.id] < depth[dataset_version] < depth[job.id] < depth[tuned] < data["node"]["depth"]
    down = cli("lineage", base, "--down")
    assert down.returncode == 0 and "What came from it" in down.stdout and merged in down.stdout
    missing = cli("lineage", "nope@v9")
    assert missing.returncode == 2 and "nope@v9" in missing.stderr

    client = connect(app.url)
    plot, table, command, shown_json = client.predict(merged, True, "en", api_name="/lineage")
    assert {n["id"] for n in shown_json["ancestors"]} == set(ancestors) and plot is not None
    assert f"python -m llmops lineage {merged}" in command
    assert {row[3] for row in table["data"]} == {merged, *ancestors}


def test_unknown_ids_corpus_documents_and_the_store(settings):
    lineage = LineageService(settings)
    with pytest.raises(NotFoundError) as info:
        lineage.view("ghost@v1.0")
    assert info.value.key == "err.lineage_unknown"
    assert "ghost@v1.0" in info.value.message("en") and "ghost@v1.0" in info.value.message("zh")
    docs = shutil.copytree(ROOT / "data" / "docs" / "en", settings.home / "docs")
    built = build_corpus(settings, [str(docs)])
    corpus = next(n for n in lineage.ancestors(f"{built.dataset_name}/v1") if n.kind == "corpus")
    documents = next(n for n in lineage.ancestors(corpus.id) if n.kind == "documents")
    read = {record["source"] for record in map(json.loads, built.path.read_text(encoding="utf-8").splitlines())}
    assert documents.details["count"] == len(read) > 0 and set(documents.details["files"]) == read
    # One fact per id; a torn last line is skipped and the next append starts on a line of its own.
    store = LineageStore(settings)
    count = len(store.facts())
    assert not store.append(Fact(corpus.id))
    with open(store.path, "ab") as handle:
        handle.write(b'{"torn')
    assert len(store.facts()) == count and store.append(Fact("x", [{"id": "x", "kind": "documents"}]))
    assert [f.id for f in store.facts()][-1] == "x" and lineage.node("x").kind == "documents"
