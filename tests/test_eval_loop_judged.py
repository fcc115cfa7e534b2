"""An evaluation job that also asks a judge (pairwise, both orders) and audits it against the arena's votes; human
scores imported from a filled sheet join the summary; every checkpoint of a trained run scored in one run."""

from __future__ import annotations

import csv
import json

import pytest

from llmops.cli.main import main
from llmops.schemas.votes import Vote
from llmops.services.container import build_services
from llmops.services.evaluation import human
from llmops.services.evaluation.run_folder import RunFolder
from llmops.services.evaluation.summarise import summarise
from llmops.services.prefs import PrefsStore
from tests.judgeserver import JudgeServer, first_wins

PROMPTS = ["What does LoRA train?", "Name one optimizer.", "What is a tokenizer?"]


@pytest.fixture
def versions(settings, demo_model_dir, trained_adapter):
    services = build_services(settings)
    base = services.models.add_base("demo", str(demo_model_dir), template="chatml")
    tuned = services.models.add_adapter("tuned", base.id, str(trained_adapter))
    return base.id, tuned.id


@pytest.fixture
def set_file(settings):
    path = settings.work_dir / "judged.jsonl"
    path.write_text("".join(json.dumps({"prompt": p, "reference": "an answer"}) + "\n" for p in PROMPTS),
                    encoding="utf-8")
    return path


def test_a_pairwise_judged_run_reports_position_bias_and_agreement_with_votes(settings, versions, set_file, capsys):
    base, tuned = versions
    store = PrefsStore(settings.prefs_path)
    # Humans: the tuned version won the first prompt; the second is a tie (the judge's flips resolve to ties).
    for prompt, winner in ((PROMPTS[0], "b"), (PROMPTS[1], "tie")):
        store.append(Vote(prompt=prompt, model_a=base, model_b=tuned, response_a="x", response_b="y", winner=winner))
    with JudgeServer(first_wins) as judge:
        code = main(["eval", "run", "--models", f"{base},{tuned}", "--set", str(set_file), "--metrics", "exact_match",
                     "--max-new-tokens", "8", "--temperature", "1.0", "--judge", "pairwise", "--judge-url", judge.base_url,
                     "--judge-model", "judge", "--wait", "--json"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        out = captured.out
        asked = judge.requests
    summary = json.loads(out)
    audit = summary["judge"]
    assert audit["mode"] == "pairwise" and audit["judged"] == 2 * len(PROMPTS) and audit["failures"] == 0
    assert audit["position_bias_rate"] == 1.0  # the first answer always wins, whichever model it is
    assert audit["overlap"] == 2 and audit["human_agreement"] == 0.5 and audit["kappa"] == 0.0
    for model in (base, tuned):
        figures = summary["models"][model]
        assert (figures["win"], figures["loss"], figures["tie"]) == (0, 0, len(PROMPTS))
        assert figures["metrics"]["exact_match"] is not None
    assert asked == 2 * len(PROMPTS)

    # A rater's filled sheet joins the same summary.
    folder = RunFolder(settings, summary["run_id"])
    sheet = human.export_sheet(settings, folder, fmt="csv", blind=False, dimensions=["accuracy"], lang="en")
    with open(sheet, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    score_col = next(i for i, name in enumerate(header) if name.startswith("accuracy") or "(1-5)" in name)
    model_col = header.index(next(name for name in header if name.lower().startswith("model")))
    for row in body:
        row[score_col] = "5" if row[model_col] == tuned else "2"
    filled = settings.work_dir / "filled.csv"
    with open(filled, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    human.import_sheet(settings, folder, filled, lang="en")
    again = summarise(settings, folder)
    assert again.models[tuned].human == {"accuracy": 5.0} and again.models[base].human == {"accuracy": 2.0}
    assert again.judge is not None and again.judge.position_bias_rate == 1.0  # kept on re-summarising


def test_every_checkpoint_of_a_run_is_scored_in_one_run(settings, versions, set_file, capsys):
    _, tuned = versions
    code = main(["eval", "checkpoints", tuned, "--set", str(set_file), "--metrics", "exact_match,lf_bleu4",
                 "--limit", "2", "--max-new-tokens", "8", "--temperature", "1.0", "--wait", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(out)
    assert list(summary["models"]) == [f"{tuned}#checkpoint-1", f"{tuned}#checkpoint-2", tuned]
    assert summary["status"] == "complete" and summary["done"] == 2 * 3
    assert all(m["samples"] == 2 and m["metrics"]["bleu-4"] is not None for m in summary["models"].values())
    folder = RunFolder(settings, summary["run_id"])
    made = sorted((p.model, p.sample, p.error) for p in folder.predictions())
    assert made == sorted((m, i, None) for m in summary["models"] for i in range(2))


def test_a_checkpoint_that_does_not_exist_is_named(settings, versions, set_file, capsys):
    _, tuned = versions
    code = main(["eval", "run", "--models", f"{tuned}#checkpoint-99", "--set", str(set_file)])
    assert code != 0
    assert "checkpoint-99" in capsys.readouterr().err


def test_a_run_first_reports_samples_found_in_the_versions_training_data(settings, demo_model_dir, trained_adapter):
    services = build_services(settings)
    datasets = services.datasets
    seen = datasets.rows(datasets.file_of("sample_sft"))[0]
    base = services.models.add_base("demo", str(demo_model_dir), template="chatml")
    tuned = services.models.add_adapter("tuned", base.id, str(trained_adapter), lineage={"datasets": ["sample_sft"]})
    path = settings.work_dir / "mixed.jsonl"
    lines = [{"prompt": seen["instruction"], "reference": seen["output"]},
             {"prompt": "A question no training row has ever asked about zebras.", "reference": "none"}]
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    folder, _ = services.evals.start({"models": [base.id, tuned.id], "set": str(path), "metrics": ["exact_match"],
                                      "generation": {"max_new_tokens": 2}})
    view = services.evals.wait(folder.run_id, 240)
    assert view.summary is not None and view.summary.status == "complete"
    assert view.summary.models[tuned.id].contaminated == 1 and view.summary.models[tuned.id].contaminated_exact == 1
    assert view.summary.models[base.id].contaminated == 0
    report = folder.contamination()[tuned.id]
    assert [(m["sample"], m["dataset"], m["kind"]) for m in report["matches"]][:1] == [(0, "sample_sft", "exact")]
