"""Contamination check: evaluation samples found, exactly or nearly, in the datasets a version's lineage names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.errors import NotFoundError
from llmops.schemas.evaluation import EvalSample
from llmops.services.datasets import DatasetRegistry
from llmops.services.evaluation import EvalSets
from llmops.services.evaluation.contamination import check, lineage_datasets
from llmops.services.models import ModelRegistry
from tests.test_cli_errors import run_cli
from tests.test_models import fake_adapter

LONG = ("When the inverter shows fault F012 the insulation resistance between the photovoltaic array and ground has "
        "dropped below the safe limit of one megaohm; check the cable glands and the connectors for moisture first.")
EVAL = [
    {"prompt": "What does fault code F012 mean on the HX-110 inverter?", "reference": "Insulation resistance low."},
    {"prompt": "Explain the F012 insulation fault in detail.", "reference": LONG},
    {"prompt": "How often does the logger upload its data?", "reference": "Every fifteen minutes by default."},
]
TRAIN_A = [  # sample 0's prompt, with other case and spacing
    {"instruction": "what does fault code  F012 mean on the\nHX-110 inverter?", "input": "", "output": "Low insulation."},
    {"instruction": "Name a colour of the sky.", "input": "", "output": "Blue, on a clear day."},
]
TRAIN_B = [  # sample 1's reference with one character changed: a near duplicate
    {"instruction": "Describe the grid relay test sequence.", "input": "", "output": "Open, wait, close, measure."},
    {"instruction": "Why F012?", "input": "", "output": LONG.replace("megaohm;", "megohm;")},
]


def _jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def lineage(settings, tmp_path):
    """base -> adapter (trained on train_b) -> merged -> adapter (trained on train_a and a dataset since deleted)."""
    datasets = DatasetRegistry(settings)
    datasets.upload(_jsonl(tmp_path / "a.jsonl", TRAIN_A), "train_a")
    datasets.upload(_jsonl(tmp_path / "b.jsonl", TRAIN_B), "train_b")
    for folder in ("base", "merged"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "config.json").write_text("{}", encoding="utf-8")
    models = ModelRegistry(settings)
    base = models.add_base("plant", str(tmp_path / "base"))
    first = models.add_adapter("plant", base.id, str(fake_adapter(tmp_path / "a1")),
                               lineage={"datasets": ["train_b"], "stage": "sft"})
    merged = models.add_merged("plant", str(tmp_path / "merged"), lineage={"parent_id": first.id})
    last = models.add_adapter("plant", merged.id, str(fake_adapter(tmp_path / "a2")),
                              lineage={"datasets": ["train_a", "gone"], "stage": "sft"})
    EvalSets(settings).add(_jsonl(tmp_path / "held.jsonl", EVAL), "held")
    return [last.id, merged.id, first.id, base.id]


def test_exact_and_near_duplicates_are_found_through_the_parents(settings, lineage):
    chain, found = lineage_datasets(settings, lineage[0])
    assert chain == lineage
    assert found == [("train_a", lineage[0]), ("gone", lineage[0]), ("train_b", lineage[2])]
    report = check(settings, "held", lineage[0])
    assert (report.samples, report.contaminated, report.exact) == (3, 2, 1)
    by_sample = {m.sample: m for m in report.matches}
    exact, near = by_sample[0], by_sample[1]
    assert (exact.dataset, exact.row, exact.field, exact.train_field, exact.kind, exact.similarity) == (
        "train_a", 1, "prompt", "prompt", "exact", 1.0)
    assert (near.dataset, near.row, near.field, near.train_field, near.kind) == (
        "train_b", 2, "reference", "reference", "near")
    assert report.threshold <= near.similarity < 1.0
    assert 2 not in by_sample
    checked = {d.name: d for d in report.datasets}
    assert checked["train_a"].rows == 2 and checked["train_b"].via == lineage[2]
    assert checked["gone"].problem is not None and checked["gone"].rows == 0
    # The base alone trained on nothing; the first adapter saw only train_b.
    assert check(settings, "held", lineage[3]).matches == []
    assert {m.dataset for m in check(settings, "held", lineage[2]).matches} == {"train_b"}


def test_samples_can_be_passed_directly_and_the_threshold_matters(settings, lineage):
    samples = [EvalSample(prompt="Explain it.", reference=LONG.replace("moisture", "water"))]
    loose = check(settings, samples, lineage[0], threshold=0.5)
    assert [(m.dataset, m.row, m.kind) for m in loose.matches] == [("train_b", 2, "near")]
    assert check(settings, samples, lineage[0], threshold=0.99).matches == []
    with pytest.raises(NotFoundError):
        check(settings, samples, "nobody@v1.0")


def test_cli_reports_the_matches(settings, lineage):
    code, out, err = run_cli(["eval", "contamination", "--set", "held", "--model", lineage[0], "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["contaminated"] == 2 and {m["kind"] for m in data["matches"]} == {"exact", "near"}
    assert isinstance(next(d for d in data["datasets"] if d["name"] == "gone")["problem"], str)
    code, out, _ = run_cli(["eval", "contamination", "--set", "held", "--model", lineage[0]])
    assert code == 0 and "2 of 3 sample(s) of 'held'" in out and "train_a row 1 (exact, 1.0)" in out
