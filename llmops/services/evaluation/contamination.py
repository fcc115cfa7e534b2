"""Contamination check: which evaluation prompts or references also occur in the data a model version trained on.

The training data comes from the model registry's lineage: the `datasets` of the version and of every parent
(through `parent_id`), read through the dataset registry. Matches are exact (the corpus dedup key: case and
whitespace ignored) or near (the corpus MinHash with LSH candidates, verified by estimated Jaccard).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from ...errors import InvalidInputError, LLMOpsError, NotFoundError
from ...i18n import Message
from ...schemas.evaluation import EvalSample
from ...settings import Settings
from ..corpus.dedup import (
    MinHasher,
    candidate_pairs,
    estimated_jaccard,
    exact_key,
    lsh_params,
)
from ..datasets import DatasetRegistry
from ..models import ModelRegistry
from .conversion import to_sample
from .sets import EvalSets

DEFAULT_THRESHOLD = 0.8
MIN_CHARS = 8  # texts shorter than this ("yes", "B") match everywhere and say nothing about leakage
MAX_MATCHES_PER_SAMPLE = 5
_MAX_DEPTH = 64  # a parent chain longer than this is a cycle


class ContaminationMatch(BaseModel):
    """One evaluation text found in one training row."""

    sample: int
    field: str  # "prompt" | "reference"
    dataset: str
    row: int  # 1-based row of the dataset file
    train_field: str  # which part of the training row matched
    kind: str  # "exact" | "near"
    similarity: float  # 1.0 for exact; the estimated Jaccard of character 5-grams for near


class DatasetChecked(BaseModel):
    """One training dataset of the lineage, and what came of reading it."""

    name: str
    via: str  # the model version whose lineage names it
    rows: int = 0
    problem: Message | None = None  # why it could not be read (unregistered since, file gone)


class ContaminationReport(BaseModel):
    """Per evaluation sample, where its prompt or reference occurs in the version's training data."""

    set: str
    version: str
    samples: int
    threshold: float
    lineage: list[str] = Field(default_factory=list)  # the version, then its parents
    datasets: list[DatasetChecked] = Field(default_factory=list)
    matches: list[ContaminationMatch] = Field(default_factory=list)
    contaminated: int = 0  # samples with at least one match
    exact: int = 0  # samples with an exact match

    @property
    def rate(self) -> float:
        return self.contaminated / self.samples if self.samples else 0.0


def lineage_datasets(settings: Settings, version_id: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(the version and its parents, [(dataset, the version naming it)]), each dataset once, nearest first."""
    registry = ModelRegistry(settings)
    chain: list[str] = []
    found: list[tuple[str, str]] = []
    current: str | None = version_id
    while current and current not in chain and len(chain) < _MAX_DEPTH:
        entry = registry.get(current)  # an unknown id raises NotFoundError, a broken parent link too
        chain.append(entry.id)
        names = entry.lineage.get("datasets") or []
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else names
        for name in names:
            if isinstance(name, str) and name and name not in {d for d, _ in found}:
                found.append((name, entry.id))
        current = entry.parent_id
    return chain, found


def _row_texts(row: object, shape) -> list[tuple[str, str]]:
    """(field, text) pairs of one training row: its prompt and answer when it is SFT, else every string in it."""
    if shape is not None and shape.kind == "sft":
        sample, _ = to_sample(row, shape)
        if sample is not None:
            return [("prompt", sample.prompt), ("reference", sample.reference or "")]
    out: list[tuple[str, str]] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, str):
            out.append((path, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, path)

    walk(row, "")
    return out


def _training_texts(settings: Settings, found: list[tuple[str, str]]) -> tuple[list[DatasetChecked], list[tuple]]:
    """Every training text as (dataset, row, field, text), and what was read of each dataset."""
    datasets = DatasetRegistry(settings)
    checked, texts = [], []
    for name, via in found:
        item = DatasetChecked(name=name, via=via)
        checked.append(item)
        dataset, _, version = name.partition("@")
        try:
            target = datasets.resolve(dataset, version or None)
            rows = datasets.rows(target.path)
        except LLMOpsError as exc:
            item.problem = Message(exc.key, exc.params)
            continue
        item.rows = len(rows)
        for number, row in enumerate(rows, start=1):
            texts += [(name, number, part, text) for part, text in _row_texts(row, target.shape)
                      if len(text.strip()) >= MIN_CHARS]
    return checked, texts


def _eval_texts(samples: Sequence[EvalSample]) -> list[tuple[int, str, str]]:
    out = []
    for index, sample in enumerate(samples):
        for part, text in (("prompt", sample.prompt), ("reference", sample.reference or "")):
            if len(text.strip()) >= MIN_CHARS:
                out.append((index, part, text))
    return out


def _find(evals: list[tuple], train: list[tuple], threshold: float) -> list[ContaminationMatch]:
    """Exact matches by key, then near ones among LSH candidates that cross from the eval side to the train side."""
    by_key: dict[bytes, list[int]] = {}
    for j, (_, _, _, text) in enumerate(train):
        by_key.setdefault(exact_key(text), []).append(j)
    found: dict[tuple[int, int], tuple[str, float]] = {}
    for i, (_, _, text) in enumerate(evals):
        for j in by_key.get(exact_key(text), []):
            found[(i, j)] = ("exact", 1.0)
    if evals and train:
        sigs = MinHasher().signatures([e[2] for e in evals] + [r[3] for r in train])
        pairs = candidate_pairs(sigs, *lsh_params(threshold))
        n = len(evals)
        pairs = pairs[(pairs[:, 0] < n) & (pairs[:, 1] >= n)] if len(pairs) else pairs
        if len(pairs):
            similarity = estimated_jaccard(sigs, pairs)
            for (i, j), value in zip(pairs[similarity >= threshold], similarity[similarity >= threshold]):
                found.setdefault((int(i), int(j) - n), ("near", round(float(value), 4)))
    out = []
    for (i, j), (kind, value) in found.items():
        sample, part, _ = evals[i]
        dataset, row, train_part, _ = train[j]
        out.append(ContaminationMatch(sample=sample, field=part, dataset=dataset, row=row, train_field=train_part,
                                      kind=kind, similarity=value))
    return out


def _keep_best(matches: list[ContaminationMatch]) -> list[ContaminationMatch]:
    """The strongest few matches per sample, exact first."""
    matches.sort(key=lambda m: (m.sample, m.kind != "exact", -m.similarity, m.dataset, m.row, m.field))
    kept, per_sample = [], {}
    for match in matches:
        per_sample[match.sample] = per_sample.get(match.sample, 0) + 1
        if per_sample[match.sample] <= MAX_MATCHES_PER_SAMPLE:
            kept.append(match)
    return kept


def check(settings: Settings, set_name_or_samples: str | Sequence[EvalSample], version_id: str, *,
          threshold: float = DEFAULT_THRESHOLD) -> ContaminationReport:
    """Where the evaluation set's prompts and references occur in the training data of `version_id`'s lineage."""
    if not 0.0 < threshold <= 1.0:
        raise InvalidInputError("err.ct_threshold", threshold=threshold)
    if isinstance(set_name_or_samples, str):
        name, samples = set_name_or_samples, EvalSets(settings).load(set_name_or_samples)
    else:
        name, samples = "", list(set_name_or_samples)
    if not samples:
        raise NotFoundError("err.ct_no_samples", name=name)
    chain, found = lineage_datasets(settings, version_id)
    checked, train = _training_texts(settings, found)
    matches = _keep_best(_find(_eval_texts(samples), train, threshold)) if train else []
    exact = {m.sample for m in matches if m.kind == "exact"}
    return ContaminationReport(set=name, version=version_id, samples=len(samples), threshold=threshold,
                               lineage=chain, datasets=checked, matches=matches,
                               contaminated=len({m.sample for m in matches}), exact=len(exact))



def contamination_reports(settings: Settings, folder) -> dict[str, dict]:
    """Before a run answers anything: for each version it evaluates, where the run's samples occur in its training data."""
    samples = folder.samples()
    reports: dict[str, dict] = {}
    for model in folder.config().models:
        version = model.partition("#")[0]  # a checkpoint was trained on its version's data
        report = check(settings, samples, version)
        reports[model] = report.model_copy(update={"set": folder.config().set}).model_dump(mode="json")
    return reports
