"""One real LLaMA-Factory LoRA SFT run with eval (6 steps, a checkpoint and an eval every 2), for surgery tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from llmops.settings import Settings

STEPS = (2, 4, 6)


def train_lora_run(demo_model_dir: Path, home: Path) -> tuple[Settings, str, Path]:
    """(its settings, the job id, the run folder) of a finished run with checkpoint-2, -4 and -6."""
    from llmops.runner.runner import JobRunner
    from llmops.schemas.jobs import JobStatus
    from llmops.services.device import DeviceInfo
    from llmops.services.training import TrainingService

    settings = Settings(home=home)
    settings.ensure_dirs()
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    # A high learning rate so three checkpoints' LoRA updates differ enough to tell averaging methods apart;
    # val_size holds out a handful of samples so each eval takes a moment, not seconds.
    config = service.build("sft", str(demo_model_dir), ["sample_sft"], run_name="ckpt", max_steps=6, save_steps=2,
                           eval_steps=2, val_size=0.05, logging_steps=1, gradient_accumulation_steps=1,
                           cutoff_len=128, warmup_ratio=0.0, learning_rate=5e-3)
    _, job = service.launch_config(config)
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    run = Path(job.meta.get("output_dir") or job.run_dir)
    assert sorted(p.name for p in run.glob("checkpoint-*")) == [f"checkpoint-{s}" for s in STEPS]
    return settings, job.id, run


def copy_run(run: Path, settings: Settings, name: str = "run") -> Path:
    """The run copied into a test's own workspace (each test edits or deletes parts of it)."""
    target = settings.checkpoints_dir / name
    shutil.copytree(run, target)
    return target


def rewrite_log(run: Path, eval_loss: dict[int, float], loss: dict[int, float] | None = None) -> None:
    """Replace the eval (and train) loss logged at the given steps in the run's trainer_log.jsonl."""
    path = run / "trainer_log.jsonl"
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        step = entry.get("current_steps")
        if "eval_loss" in entry and step in eval_loss:
            entry["eval_loss"] = eval_loss[step]
        if "loss" in entry and loss and step in loss:
            entry["loss"] = loss[step]
        lines.append(json.dumps(entry))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def perturbed_copy(demo_model_dir: Path, out: Path, scale: float, seed: int = 11) -> Path:
    """The demo model with seeded noise of `scale` on every weight, saved beside its tokenizer: a second model of
    the same shapes."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * scale)
    model.save_pretrained(out)
    for name in TOKENIZER_FILES:
        if (demo_model_dir / name).is_file():
            shutil.copy(demo_model_dir / name, out / name)
    return out
