"""Two or more runs side by side: their configs key by key with the differences marked, and their curves."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InvalidInputError
from ..lf.trainer_log import read_metric, read_progress
from ..runner.runner import JobRunner
from ..schemas.jobs import Job
from .jobkinds.registry import PARAMS_FILE, read_json

# The figures a comparison overlays, each one trace per run.
CURVES = ("loss", "eval_loss", "reward")
_MISSING = object()


@dataclass(frozen=True)
class ConfigRow:
    """One config key across the runs; `values[i]` is '' where run i has no such key."""

    key: str
    values: list[str]
    differs: bool


@dataclass
class RunCurves:
    """One run's logged figures: name -> (steps, values), only those it logged."""

    job_id: str
    name: str
    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)


@dataclass
class Comparison:
    """Configs and curves of the compared runs, in the order asked for."""

    jobs: list[Job]
    rows: list[ConfigRow]
    curves: list[RunCurves]

    @property
    def differing(self) -> list[str]:
        """The keys whose values are not the same in every run."""
        return [row.key for row in self.rows if row.differs]


def job_config(job: Job) -> dict:
    """What a job ran with: a training's typed config (else the YAML it ran), a worker's parameters."""
    run_dir = Path(job.run_dir)
    if job.kind == "train":
        typed = job.meta.get("config") or {}
        if typed:
            return dict(typed)
        try:
            loaded = yaml.safe_load((run_dir / "train_config.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            loaded = None
        return loaded if isinstance(loaded, dict) else {}
    recorded = read_json(run_dir / PARAMS_FILE) or {}
    params = recorded.get("params", job.meta.get("params", {}))
    return dict(params) if isinstance(params, dict) else {}


def flatten(config: dict, prefix: str = "") -> dict:
    """Nested mappings as dotted keys ('rules.count'); other values as they are."""
    flat: dict = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _shown(value) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, (dict, bool)) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def config_rows(configs: list[dict]) -> list[ConfigRow]:
    """Every key any run has, sorted, with each run's value and whether they differ (an absent key differs)."""
    flats = [flatten(config) for config in configs]
    keys = sorted(set().union(*flats)) if flats else []
    rows = []
    for key in keys:
        raw = [flat.get(key, _MISSING) for flat in flats]
        differs = any(value is _MISSING for value in raw) or len({json.dumps(v, sort_keys=True, default=str)
                                                                   for v in raw}) > 1
        rows.append(ConfigRow(key, [_shown(value) for value in raw], differs))
    return rows


def run_curves(job: Job) -> RunCurves:
    """Loss and eval loss through the trainer-log reader the charts use, plus any logged reward."""
    progress = read_progress(Path(job.run_dir))
    curves = RunCurves(job.id, job.name)
    loss = [(step, value) for step, value in zip(progress.steps, progress.loss, strict=False) if value is not None]
    if loss:
        curves.series["loss"] = ([s for s, _ in loss], [float(v) for _, v in loss])
    if progress.eval_steps:
        curves.series["eval_loss"] = (list(progress.eval_steps), [float(v) for v in progress.eval_loss])
    steps, rewards = read_metric(Path(job.run_dir), "reward")
    if steps:
        curves.series["reward"] = (steps, rewards)
    return curves


def compare(runner: JobRunner, job_ids: list[str]) -> Comparison:
    """The runs `job_ids` (two or more, each once) compared; an unknown id is refused by name."""
    ids = list(dict.fromkeys(job_id.strip() for job_id in job_ids if job_id and job_id.strip()))
    if len(ids) < 2:
        raise InvalidInputError("err.jobs_compare_two", count=len(ids))
    jobs = [runner.get(job_id) for job_id in ids]
    return Comparison(jobs, config_rows([job_config(job) for job in jobs]), [run_curves(job) for job in jobs])
