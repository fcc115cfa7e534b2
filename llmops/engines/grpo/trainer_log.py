"""A TrainerCallback that writes LLaMA-Factory's trainer_log.jsonl lines, with GRPO's reward, KL and lengths added,
so the studio's progress, ETA and chart read a GRPO run like any other; it also ends the run cleanly on SIGABRT."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from transformers import TrainerCallback

TRAINER_LOG = "trainer_log.jsonl"
# TRL's log keys -> the trainer log's (the chart reads the short names).
_KEYS = {"loss": "loss", "learning_rate": "lr", "epoch": "epoch", "reward": "reward", "reward_std": "reward_std",
         "kl": "kl", "completions/mean_length": "completion_length", "entropy": "entropy", "grad_norm": "grad_norm"}


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class TrainerLogWriter(TrainerCallback):
    """Appends one JSON line per logging step; a stop request (SIGABRT, as the runner sends) ends the current step."""

    def __init__(self, output_dir: Path):
        self.path = Path(output_dir) / TRAINER_LOG
        self.started = time.monotonic()
        self.stop_requested = False
        signal.signal(signal.SIGABRT, self._on_abort)

    def _on_abort(self, signum, frame) -> None:
        self.stop_requested = True

    def on_step_end(self, args, state, control, **kwargs):
        if self.stop_requested:
            control.should_training_stop = True
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "train_runtime" in logs:
            return control  # the final summary goes to train_results.json, not the curve
        elapsed = time.monotonic() - self.started
        step, total = state.global_step, state.max_steps or 0
        line = {"current_steps": step, "total_steps": total,
                "percentage": round(100.0 * step / total, 2) if total else 0.0,
                "elapsed_time": _clock(elapsed),
                "remaining_time": _clock(elapsed / step * (total - step)) if step else ""}
        for key, short in _KEYS.items():
            if key in logs:
                line[short] = logs[key]
        for key, value in logs.items():
            if key.startswith("rewards/") and key.endswith("/mean"):
                line[f"reward_{key.split('/')[1]}"] = value
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        return control
