"""Progress of a LLaMA-Factory run, read from the trainer_log.jsonl it writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

TRAINER_LOG = "trainer_log.jsonl"


@dataclass
class Progress:
    """Where a run stands and the series a chart needs."""

    current_steps: int = 0
    total_steps: int = 0
    percentage: float = 0.0
    elapsed: str = ""
    remaining: str = ""
    steps: list[int] = field(default_factory=list)
    loss: list[float | None] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)

    @property
    def has_points(self) -> bool:
        return bool(self.steps or self.eval_steps)


def read_progress(run_dir: Path) -> Progress:
    """Parse every complete line; a line being written right now is skipped, not an error."""
    progress = Progress()
    path = Path(run_dir) / TRAINER_LOG
    if not path.exists():
        return progress
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            step = int(entry.get("current_steps", 0))
            progress.current_steps = step
            progress.total_steps = int(entry.get("total_steps", progress.total_steps))
            progress.percentage = float(entry.get("percentage", progress.percentage))
            progress.elapsed = entry.get("elapsed_time", progress.elapsed)
            progress.remaining = entry.get("remaining_time", progress.remaining)
            if "loss" in entry:
                progress.steps.append(step)
                progress.loss.append(entry["loss"])
                progress.accuracy.append(entry.get("accuracy"))
            if "eval_loss" in entry:
                progress.eval_steps.append(step)
                progress.eval_loss.append(entry["eval_loss"])
    return progress
