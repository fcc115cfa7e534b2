"""Comparing a run's models and two runs: figures checked against hand-computed values, filters, refusals."""

from __future__ import annotations

import pytest

from llmops.errors import InvalidInputError
from llmops.schemas.evaluation import EvalSample
from llmops.services.evaluation.compare import (
    SampleFilter,
    compare_runs,
    comparison,
    error_analysis,
    regressions,
    side_by_side,
)
from llmops.services.evaluation.run_folder import RunFolder

from .evalruns import SAMPLES, A, B, C, make_pairwise_run, make_run

# By hand from tests/evalruns.py: means over the samples that have a score (A's sample 2 and C's sample 1 have none).
EXPECTED = {
    "metric:bleu-4": {A: (5 + 100 + 100 + 0) / 4, B: (100 + 100 + 30 + 20 + 40) / 5, C: (30 + 100 + 100 + 100) / 4},
    "metric:rouge-l": {A: (10 + 100 + 100 + 0) / 4, B: (100 + 100 + 40 + 50 + 60) / 5, C: (50 + 100 + 100 + 100) / 4},
    "metric:exact_match": {A: 200 / 4, B: 200 / 5, C: 300 / 4},
    "judge:accuracy": {A: (2 + 5 + 4) / 3, B: (5 + 5 + 3 + 1) / 4, C: (3 + 5 + 5 + 5) / 4},
    "judge:fluency": {A: (3 + 5 + 4) / 3, B: (5 + 4 + 4 + 2) / 4, C: (4 + 5 + 5 + 4) / 4},
    # answered predictions only: A's timeout and empty answer, C's backend error are left out
    "latency": {A: (1.0 + 0.5 + 0.2) / 3, B: (2 + 1 + 1 + 0.5 + 1.5) / 5, C: (1 + 2 + 0.5 + 1.5) / 4},
    "tokens_per_s": {A: 17 / 1.7, B: 53 / 6.0, C: 50 / 5.0},
}


@pytest.mark.parametrize("summary", [True, False], ids=["from-summary", "from-records"])
def test_comparison_matches_hand_computed_values(settings, summary):
    table = comparison(make_run(settings, summary=summary))
    assert table.models == [A, B, C]
    for key, per_model in EXPECTED.items():
        for model, value in per_model.items():
            assert table.value(model, key) == pytest.approx(value), (key, model)
    bleu = table.column("metric:bleu-4")
    assert "BLEU-4" in bleu.label
    assert bleu.higher_is_better is True and bleu.group == "metric"
    assert [c.key for c in table.columns if c.group == "judge"] == ["judge:accuracy", "judge:fluency"]
    assert ({r.model: r.samples for r in table.rows}) == {A: 3, B: 5, C: 4}
    if summary:  # human scores exist only in the summary
        assert table.value(A, "human:accuracy") == 3.0 and table.value(C, "human:accuracy") is None


def test_best_per_column_follows_the_direction_and_keeps_ties(settings):
    table = comparison(make_run(settings), "zh")
    assert table.column("metric:bleu-4").best == [C]
    assert table.column("latency").best == [A]  # lower is better
    assert table.column("tokens_per_s").best == [A, C]  # 10.0 tokens/s each
    assert table.column("human:accuracy").best == [B]
    assert table.column("judge:fluency").label == "裁判：流畅性"


def test_regressions_against_a_baseline(settings):
    table = comparison(make_run(settings))
    flagged = {(c.model, c.column) for c in regressions(table, A)}
    # B: exact match 50 -> 40 (-20%), judge accuracy 3.67 -> 3.5 (-4.5%), fluency 4 -> 3.75 (-6.25%); slower
    # latency is a change, not a regression
    assert flagged == {(B, "metric:exact_match"), (B, "judge:accuracy"), (B, "judge:fluency")}
    assert {(c.model, c.column) for c in regressions(table, A, threshold=0.05)} == {
        (B, "metric:exact_match"), (B, "judge:fluency")}
    em = next(c for c in regressions(table, A) if c.column == "metric:exact_match")
    assert (em.baseline_value, em.value, em.delta, em.relative) == (50.0, 40.0, -10.0, -0.2)
    assert regressions(table, C) and all(c.model != C for c in regressions(table, C))
    with pytest.raises(InvalidInputError) as caught:
        regressions(table, "nope@v9")
    assert "nope@v9" in caught.value.message("en") and A in caught.value.message("en")


def test_pairwise_wins_losses_ties_over_both_orders(settings):
    table = comparison(make_pairwise_run(settings))
    # sample 0: B both orders; 1: flips -> tie; 2: A both orders; 3: one order parsed, B
    assert {k: [table.value(m, k) for m in (A, B)] for k in ("win", "loss", "tie")} == {
        "win": [1.0, 2.0], "loss": [2.0, 1.0], "tie": [1.0, 1.0]}
    assert table.column("win").best == [B] and table.column("loss").best == [B] and table.column("tie").best == []
    assert error_analysis(make_pairwise_run(settings)).models[0].samples["judge_parse"] == [3]


def test_side_by_side_rows_best_marking_and_paging(settings):
    folder = make_run(settings)
    page = side_by_side(folder, page_size=2)
    assert (page.metric, page.total, page.pages, [r.sample for r in page.rows]) == ("bleu-4", 5, 3, [0, 1])
    assert page.rows[0].prompt == "逆变器报 F012 怎么办？" and page.rows[0].best == [B]
    assert page.rows[1].best == [A, B]  # 100 each; C failed
    last = side_by_side(folder, page=3, page_size=2)
    assert [r.sample for r in last.rows] == [4]
    row2 = side_by_side(folder, page=2, page_size=2).rows[0]
    assert row2.sample == 2 and row2.best == [C]
    by_model = {o.model: o for o in row2.outputs}
    assert by_model[A].error == "timeout" and by_model[A].scores["bleu-4"] is None
    assert by_model[B].judge == {"accuracy": 3, "fluency": 4}
    lower = side_by_side(folder, metric="rouge-l", page_size=5).rows[3]
    assert lower.best == [A, C]


def test_side_by_side_filters(settings):
    folder = make_run(settings)

    def samples(**kwargs):
        return [r.sample for r in side_by_side(folder, filter=SampleFilter(**kwargs), page_size=50).rows]

    assert samples(worse=A, better=B) == [0, 4]  # 5 < 100, 0 < 40; sample 2 has no score for A
    assert samples(worse=B, better=A, metric="rouge-l") == [3]  # 50 < 100
    assert samples(worse=C, better=B, metric="lf_bleu4") == [0]
    assert samples(errors_only=True) == [1, 2, 4]
    assert samples(text="f012") == [0]
    assert samples(text="W/M") == [3]  # the reference, case folded
    assert samples(text="清洗", errors_only=True) == [2]
    assert samples(text="没有这段文字") == []
    with pytest.raises(InvalidInputError):
        side_by_side(folder, filter=SampleFilter(worse=A))
    with pytest.raises(InvalidInputError):
        side_by_side(folder, filter=SampleFilter(worse="ghost@v1", better=A))
    with pytest.raises(InvalidInputError):
        side_by_side(folder, page=0)


def test_error_analysis_counts_and_samples(settings):
    analysis = error_analysis(make_run(settings))
    found = {m.model: {k: v for k, v in m.samples.items() if v} for m in analysis.models}
    assert found == {A: {"timeout": [2], "empty": [4], "judge_parse": [4]},
                     B: {"truncated": [4], "judge_parse": [4]},
                     C: {"backend": [1]}}
    assert analysis.models[0].counts["timeout"] == 1 and analysis.models[2].counts["timeout"] == 0


def test_two_runs_on_the_same_set_compare_and_different_sets_are_refused(settings):
    before = make_run(settings, models=(A, B))
    after = make_run(settings, models=(B, C))
    result = compare_runs(before, after)
    assert result.set_hash and result.run_a == before.run_id
    assert {c.model for c in result.changes} == {B}  # the one model both runs have
    assert all(c.delta == 0 for c in result.changes if c.column.startswith("metric:"))

    changed = [*SAMPLES[:4], EvalSample(prompt="汇流箱的作用是什么？", reference="另一个参考答案。")]
    other = make_run(settings, samples=changed, models=(A, B))
    with pytest.raises(InvalidInputError) as caught:
        compare_runs(before, other)
    assert caught.value.key == "err.ev_sets_differ"
    assert "set.jsonl" in caught.value.message("en") and "不同" in caught.value.message("zh")
    shorter = make_run(settings, samples=SAMPLES[:4], models=(A,))
    with pytest.raises(InvalidInputError):
        compare_runs(RunFolder(settings, before.run_id), shorter)


def test_a_run_that_has_only_started_compares_to_empty_columns(settings):
    from llmops.schemas.eval_runs import EvalRunConfig
    from llmops.services.evaluation.report import build_report
    from llmops.services.evaluation.run_folder import new_run_id

    config = EvalRunConfig(run_id=new_run_id(), models=[A, B], set="pv_qa", metrics=["lf_bleu4", "perplexity"])
    folder = RunFolder(settings, config.run_id)
    folder.create(config, SAMPLES)
    table = comparison(folder)
    assert [c.key for c in table.columns] == ["metric:bleu-4", "metric:perplexity", "latency", "tokens_per_s"]
    assert table.column("metric:perplexity").higher_is_better is False
    assert all(v is None for r in table.rows for v in r.values.values()) and all(not c.best for c in table.columns)
    report = build_report(folder, "zh")
    assert report.best is None and report.status == "running" and report.total == 10 and report.done == 0
    assert [o.missing for o in side_by_side(folder).rows[0].outputs] == [True, True]


def test_compare_and_report_commands(settings, capsys, monkeypatch):
    import json

    from llmops.cli.main import main

    folder = make_run(settings)
    assert main(["eval", "compare", folder.run_id, "--baseline", A, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["baseline"] == A and data["models"] == list(folder.config().models)
    metric_columns = [c for c in data["columns"] if c["group"] == "metric"]
    assert metric_columns and all(c["best"] for c in metric_columns)
    assert main(["eval", "report", folder.run_id, "--no-pdf", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["pdf"] is None and "<html" in open(written["html"], encoding="utf-8").read(2000).lower()
    monkeypatch.setenv("LLMOPS_LANG", "zh")
    assert main(["eval", "compare", "ev-20990101-000000-abcdef"]) == 2
    assert "不存在评测运行" in capsys.readouterr().err
