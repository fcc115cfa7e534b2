"""Progress of a LLaMA-Factory run, read from the trainer_log.jsonl it writes."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
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
    # Stage metrics by name (reward, rewards/margins, kl, ...): [(step, value)], drawn beside the loss.
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    @property
    def has_points(self) -> bool:
        return bool(self.steps or self.eval_steps)


# Rewards, margins and KL as RM / PPO / DPO / ORPO / SimPO / KTO / GRPO log them. LLaMA-Factory's trainer_log.jsonl
# carries only `reward` (PPO) and accuracy, the rest is in the trainer's log_history (trainer_state.json, written at
# each save and the end); our GRPO engine writes reward, kl and completion_length into trainer_log.jsonl itself.
CHART_METRICS = ("reward", "rewards/margins", "rewards/chosen", "rewards/rejected", "kl", "odds_ratio_loss",
                 "eval_accuracy", "completion_length")
TRAINER_STATE = "trainer_state.json"


# The jobs panel polls every run every few seconds; a log that has not changed is not parsed again.
_CACHE: OrderedDict[str, tuple[tuple[int, int], Progress]] = OrderedDict()
_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()


def read_progress(run_dir: Path) -> Progress:
    """Parse every complete line; a line being written right now is skipped, not an error."""
    path = Path(run_dir) / TRAINER_LOG
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Progress()
    state = _newest_state(Path(run_dir))
    key, version = str(path), (stat.st_size, stat.st_mtime_ns, *_stamp(state))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached and cached[0] == version:
            _CACHE.move_to_end(key)
            return cached[1]
    progress = _parse(path)
    _add_history(progress, state)
    with _CACHE_LOCK:
        _CACHE[key] = (version, progress)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return progress


def _parse(path: Path) -> Progress:
    progress = Progress()
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
            for name in CHART_METRICS:
                if isinstance(entry.get(name), (int, float)):
                    progress.metrics.setdefault(name, []).append((step, float(entry[name])))
    return progress


def _newest_state(run_dir: Path) -> Path | None:
    """The final trainer_state.json, else the newest checkpoint's (a run still going)."""
    final = run_dir / TRAINER_STATE
    if final.is_file():
        return final
    steps = [(int(p.name.split("-", 1)[1]), p / TRAINER_STATE) for p in run_dir.glob("checkpoint-*")
             if p.name.split("-", 1)[1].isdigit() and (p / TRAINER_STATE).is_file()]
    return max(steps)[1] if steps else None


def _stamp(path: Path | None) -> tuple:
    try:
        stat = path.stat() if path else None
    except FileNotFoundError:
        return ()
    return (str(path), stat.st_size, stat.st_mtime_ns) if stat else ()


def _add_history(progress: Progress, state: Path | None) -> None:
    """Stage metrics from the trainer's log_history, for those trainer_log.jsonl does not carry itself."""
    try:
        history = json.loads(state.read_text(encoding="utf-8")).get("log_history") if state else None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return  # being rewritten at a save: the next poll reads it
    if not isinstance(history, list):
        return
    found: dict[str, list[tuple[int, float]]] = {}
    for entry in history:
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), int):
            continue
        for name in CHART_METRICS:
            if name not in progress.metrics and isinstance(entry.get(name), (int, float)):
                found.setdefault(name, []).append((entry["step"], float(entry[name])))
    progress.metrics.update(found)


# What LLaMA-Factory writes once training is over: the final metrics, after the weights were saved.
FINAL_RESULTS = ("train_results.json", "all_results.json")
WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "model.safetensors.index.json",
           "pytorch_model.bin", "pytorch_model.bin.index.json")


def final_results(run_dir: Path) -> dict | None:
    """The final train metrics when the trainer finished and saved its weights; None when it did not get there."""
    run_dir = Path(run_dir)
    if not any((run_dir / name).is_file() for name in WEIGHTS):
        return None
    results: dict = {}
    for name in FINAL_RESULTS:
        try:
            data = json.loads((run_dir / name).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return None  # absent, or cut short while being written
        if not isinstance(data, dict):
            return None
        results.update(data)
    return results


def read_metric(run_dir: Path, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one logged figure (e.g. 'reward') over every complete line that has it as a number."""
    steps: list[int] = []
    values: list[float] = []
    path = Path(run_dir) / TRAINER_LOG
    if not path.is_file():
        return steps, values
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            value = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                steps.append(int(entry.get("current_steps", 0)))
                values.append(float(value))
    return steps, values
