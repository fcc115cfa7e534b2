"""One run folder read once: config, frozen set, predictions, scores, judgements and summary, indexed for lookups."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ...schemas.eval_runs import EvalRunConfig, PairJudgement, PredictionRecord, RunSummary, SingleJudgement
from ...schemas.evaluation import EvalSample
from .run_folder import RunFolder


@dataclass
class RunData:
    """Everything the comparison and the report read from one run folder."""

    run_id: str
    config: EvalRunConfig
    samples: list[EvalSample]
    summary: RunSummary | None
    set_hash: str
    predictions: dict[tuple[str, int], PredictionRecord] = field(default_factory=dict)
    scores: dict[tuple[str, int], dict] = field(default_factory=dict)
    single: dict[tuple[str, int], SingleJudgement] = field(default_factory=dict)
    pairs: list[PairJudgement] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        """The run's models in the order it was asked for, then any found only in its records."""
        extra = sorted({m for m, _ in self.predictions} - set(self.config.models))
        return [*self.config.models, *extra]


def set_hash(folder: RunFolder) -> str:
    """The SHA-256 of the frozen set.jsonl: two runs scored the same samples exactly when these agree."""
    digest = hashlib.sha256()
    try:
        with open(folder.set_path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return ""
    return digest.hexdigest()


def load(folder: RunFolder | RunData) -> RunData:
    """Read a run folder (or pass loaded data through)."""
    if isinstance(folder, RunData):
        return folder
    config = folder.require().config()
    data = RunData(run_id=folder.run_id, config=config, samples=folder.samples(), summary=folder.summary(),
                   set_hash=set_hash(folder))
    data.predictions = {(p.model, p.sample): p for p in folder.predictions()}
    data.scores = {(row["model"], row["sample"]): row for row in folder.scores()}
    for item in folder.judgements():
        if isinstance(item, SingleJudgement):
            data.single[(item.model, item.sample)] = item
        else:
            data.pairs.append(item)
    return data
