"""Every stage × fine-tuning combination the UI offers is accepted by LLaMA-Factory's own parser."""

from __future__ import annotations

import json
import subprocess
import sys

from llmops.runner.runner import JobRunner
from llmops.schemas.training import FINETUNING_TYPES, PREF_LOSSES, STAGES
from llmops.services.device import DeviceInfo
from llmops.services.training import TrainingService

CHECK = """
import json, os, sys
os.chdir(sys.argv[1])
from llamafactory.hparams import get_train_args
results = {}
for name, args in json.load(open(sys.argv[2])).items():
    try:
        get_train_args(args)
        results[name] = "ok"
    except BaseException as exc:
        results[name] = f"{type(exc).__name__}: {exc}"
print("RESULTS" + json.dumps(results))
"""


def test_lf_parser_accepts_every_offered_combination(settings, demo_model_dir, tmp_path):
    service = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    combos = {}
    for stage in STAGES:
        dataset = {"pt": "sample_pt", "sft": "sample_sft", "dpo": "sample_dpo"}[stage]
        for ft in FINETUNING_TYPES:
            for val in (0.0, 0.1):
                config = service.build(stage, str(demo_model_dir), [dataset], finetuning_type=ft, val_size=val)
                combos[f"{stage}-{ft}-val{val}"] = service.render(config).args
    for loss in PREF_LOSSES:
        config = service.build("dpo", str(demo_model_dir), ["sample_dpo"], pref_loss=loss)
        combos[f"dpo-lora-{loss}"] = service.render(config).args
    args_file = tmp_path / "combos.json"
    args_file.write_text(json.dumps(combos), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", CHECK, str(settings.home), str(args_file)], capture_output=True,
                          text=True, timeout=240)
    line = next(row for row in proc.stdout.splitlines() if row.startswith("RESULTS"))
    results = json.loads(line[len("RESULTS"):])
    assert len(results) == len(combos) == 23
    failures = {name: msg for name, msg in results.items() if msg != "ok"}
    assert not failures, failures
