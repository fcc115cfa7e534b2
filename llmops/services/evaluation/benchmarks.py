"""Standard benchmarks through lm-evaluation-harness: its hf backend on a registered local version, tasks given as
local task YAML beside local JSONL (never the hub), results in an evaluation run folder beside the other results.

    <evals_dir>/<run_id>/
        config.json, set.jsonl   EvalRunConfig (set `benchmark:<task,…>`), no samples of our own
        tasks/                   each task YAML as it ran, its data files copied beside it
        benchmarks.json          lm-eval's figures and sample counts per task
        benchmark_samples.jsonl  one line per scored document: task, doc id, target, filtered answer, metrics
        summary.json             RunSummary (kind "benchmark"), figures keyed `<task>/<metric>,<filter>`

lm_eval is imported only inside the job process that runs a benchmark, never by the app.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ...errors import InvalidInputError, NotFoundError
from ...schemas.eval_runs import EvalRunConfig, ModelSummary, RunSummary
from ...schemas.models import ModelEntry, pickle_only_weights
from ...security.paths import contain
from ...settings import Settings
from ...storage import atomic_write_json, atomic_write_text
from ..models import ModelRegistry
from .run_folder import RunFolder, new_run_id

RESULTS_FILE = "benchmarks.json"
SAMPLES_FILE = "benchmark_samples.jsonl"
SET_PREFIX = "benchmark:"
# Keys that would reach the hub or run code from a task file; a local task needs none of them.
_REFUSED_KEYS = ("include", "class", "dataset_name", "custom_dataset")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TaskFile:
    """One local task: its lm-eval name, its YAML (parsed) and the data files it reads (absolute)."""

    name: str
    path: Path
    config: dict
    data_files: dict[str, Path]


def example_tasks(settings: Settings) -> list[Path]:
    """The example tasks shipped with the app (a generation task and a multiple-choice task, both Chinese)."""
    return sorted(settings.benchmarks_dir.glob("*.yaml"))


def load_task(settings: Settings, path: str | Path) -> TaskFile:
    """A task YAML read and checked: json over local files only, no includes, no code (`!function` is refused)."""
    file = _readable(settings, resolve_task_path(settings, path))
    if not file.is_file():
        raise NotFoundError("err.bench.task_missing", path=str(path))
    try:
        config = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:  # a `!function` tag lands here: safe_load knows no tags
        raise InvalidInputError("err.bench.task_invalid", path=str(file), reason=str(exc)[:300]) from None
    if not isinstance(config, dict) or not isinstance(config.get("task"), str) or not config["task"].strip():
        raise InvalidInputError("err.bench.task_invalid", path=str(file), reason="needs a `task` name")
    refused = [key for key in _REFUSED_KEYS if key in config]
    if config.get("dataset_path") != "json" or refused:
        raise InvalidInputError("err.bench.task_not_local", path=str(file),
                                reason=", ".join(refused) or f"dataset_path {config.get('dataset_path')!r}")
    raw = (config.get("dataset_kwargs") or {}).get("data_files")
    if not isinstance(raw, dict) or not raw:
        raise InvalidInputError("err.bench.task_invalid", path=str(file), reason="dataset_kwargs.data_files {split: file}")
    data_files = {}
    for split, name in raw.items():
        data = _readable(settings, (file.parent / str(name)).resolve())
        if not data.is_file():
            raise NotFoundError("err.bench.task_missing", path=str(data))
        data_files[str(split)] = data
    return TaskFile(config["task"].strip(), file, config, data_files)


def resolve_task_path(settings: Settings, path: str | Path) -> Path:
    """An absolute task path: as given (relative to the working folder), else a shipped example by file name."""
    given = Path(path).expanduser()
    shipped = settings.benchmarks_dir / given
    return (shipped if not given.exists() and shipped.is_file() else given).resolve()


def _readable(settings: Settings, path: Path) -> Path:
    """The shipped examples are always readable; anything else must lie in the allowed roots."""
    if path.resolve().is_relative_to(settings.benchmarks_dir.resolve()):
        return path
    return contain(settings, path)


def _local_entry(settings: Settings, version_id: str) -> ModelEntry:
    entry = ModelRegistry(settings).get(version_id)
    if entry.kind == "endpoint" or not entry.path or not Path(entry.path).is_dir():
        # lm-eval's log-likelihood tasks need the weights; `llamafactory-cli api` has no /v1/completions.
        raise InvalidInputError("err.bench.needs_local", model=version_id)
    if pickle_only_weights(entry.path) and not entry.allow_pickle:
        raise InvalidInputError("err.train.pickle_only", path=entry.path)
    return entry


def prepare_run(settings: Settings, version_id: str, task_files: list[str | Path], *,
                limit: int | None = None) -> RunFolder:
    """Check the model and tasks, then create the run folder with each task frozen under tasks/."""
    _local_entry(settings, version_id)
    tasks = [load_task(settings, path) for path in task_files]
    if not tasks:
        raise InvalidInputError("err.bench.no_tasks")
    names = [task.name for task in tasks]
    if len(set(names)) != len(names):
        raise InvalidInputError("err.bench.duplicate_task", names=", ".join(names))
    run_id = new_run_id()
    folder = RunFolder(settings, run_id)
    config = EvalRunConfig(run_id=run_id, models=[version_id], set=SET_PREFIX + ",".join(names), limit=limit,
                           name=f"benchmark {', '.join(names)}", created=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    folder.create(config, [])
    for task in tasks:
        target = folder.path / "tasks" / task.name
        target.mkdir(parents=True)
        copied = {split: target / f"{split}-{data.name}" for split, data in task.data_files.items()}
        for split, data in task.data_files.items():
            shutil.copyfile(data, copied[split])
        frozen = {**task.config, "dataset_kwargs": {**task.config["dataset_kwargs"],
                                                    "data_files": {s: str(p) for s, p in copied.items()}}}
        atomic_write_text(target / f"{task.name}.yaml", yaml.safe_dump(frozen, allow_unicode=True, sort_keys=False))
    return folder


def start_benchmark(settings: Settings, runner, version_id: str, task_files: list[str | Path], *,
                    limit: int | None = None, batch_size: int = 4, chat_template: bool = False,
                    target: str | None = None):
    """Prepare the run folder here (so a bad task is refused at once) and queue a `benchmark` job for it on
    `target`; a refused target leaves no folder. Returns (the run folder, the job)."""
    from ..jobkinds import submit

    folder = prepare_run(settings, version_id, task_files, limit=limit)
    values = {"run_id": folder.run_id, "model": version_id, "batch_size": batch_size, "chat_template": chat_template}
    try:
        return folder, submit(settings, runner, "benchmark", values, f"benchmark {version_id}", target=target)
    except BaseException:
        shutil.rmtree(folder.path, ignore_errors=True)
        raise


def run_benchmark(settings: Settings, version_id: str, task_files: list[str | Path] | None = None, *,
                  run_id: str | None = None, limit: int | None = None, batch_size: int = 4,
                  chat_template: bool = False, progress: Progress | None = None) -> dict:
    """Run lm-eval's hf backend in this process on `version_id` (base, merged, or base + adapter via peft).

    Either `task_files` (a new run folder is created) or `run_id` (a folder made by prepare_run) names the work.
    Returns what benchmarks.json holds."""
    folder = RunFolder(settings, run_id).require() if run_id else prepare_run(settings, version_id, task_files or [],
                                                                               limit=limit)
    config = folder.config()
    entry = _local_entry(settings, version_id)
    names = config.set[len(SET_PREFIX):].split(",")
    report = progress or (lambda stage, done, total: None)
    report("load", 0, len(names))
    results = _evaluate(folder, entry, names, limit=config.limit, batch_size=batch_size, chat_template=chat_template)
    data = _record(folder, version_id, names, results, config.limit)
    report("done", len(names), len(names))
    return data


def _evaluate(folder: RunFolder, entry: ModelEntry, names: list[str], *, limit: int | None, batch_size: int,
              chat_template: bool) -> dict:
    # Offline: the tasks and the weights are local; nothing may reach the hub. Caches stay in the run folder.
    cache = folder.path / ".cache"
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_DATASETS_CACHE=str(cache))
    import lm_eval
    import torch
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    _relocate_tasks(folder.path / "tasks")
    manager = TaskManager(include_path=str(folder.path / "tasks"), include_defaults=False)
    model = HFLM(pretrained=entry.path, peft=entry.adapter, device="cuda" if torch.cuda.is_available() else "cpu",
                 batch_size=batch_size, trust_remote_code=entry.trust_remote_code)
    try:
        return lm_eval.simple_evaluate(model=model, tasks=names, task_manager=manager, limit=limit, log_samples=True,
                                       bootstrap_iters=0, apply_chat_template=chat_template)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _relocate_tasks(tasks: Path) -> None:
    """Point each frozen task at the data files beside it: a run folder that travelled (to a target) still reads
    its own copies, wherever it was frozen."""
    for path in tasks.glob("*/*.yaml"):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        files = config["dataset_kwargs"]["data_files"]
        here = {split: str(path.parent / Path(name).name) for split, name in files.items()}
        if here != files:
            config["dataset_kwargs"]["data_files"] = here
            atomic_write_text(path, yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def _record(folder: RunFolder, version_id: str, names: list[str], results: dict, limit: int | None) -> dict:
    """Write benchmarks.json, the per-document lines and summary.json; returns benchmarks.json's content."""
    tasks: dict[str, dict] = {}
    lines = []
    for name in names:
        figures = {key: _number(value) for key, value in results["results"].get(name, {}).items()
                   if "," in key and not key.split(",")[0].endswith("_stderr")}
        counts = results.get("n-samples", {}).get(name, {})
        samples = results.get("samples", {}).get(name, [])
        tasks[name] = {"metrics": figures, "samples": len(samples), "effective": counts.get("effective"),
                       "original": counts.get("original"), "higher_is_better": results.get("higher_is_better",
                                                                                            {}).get(name, {})}
        lines += [_sample_line(name, sample, _metric_names(figures)) for sample in samples]
    data = {"run_id": folder.run_id, "model": version_id, "limit": limit, "lm_eval_version": _lm_eval_version(),
            "tasks": tasks, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_text(folder.path / SAMPLES_FILE, "".join(lines))
    atomic_write_json(folder.path / RESULTS_FILE, data)
    flat = {f"{name}/{key}": value for name, task in tasks.items() for key, value in task["metrics"].items()}
    total = sum(task["samples"] for task in tasks.values())
    folder.write_summary(RunSummary(
        run_id=folder.run_id, set=folder.config().set, samples=total, done=total, total=total, status="complete",
        metrics=list(flat), models={version_id: ModelSummary(samples=total, metrics=flat)}, kind="benchmark",
        updated=data["created"]))
    return data


def _sample_line(task: str, sample: dict, metric_names: list[str]) -> str:
    """One scored document as a JSONL line (lm-eval's responses kept as it gave them)."""
    record = {"task": task, "doc_id": sample.get("doc_id"), "target": sample.get("target"),
              "filtered": sample.get("filtered_resps"), "resps": sample.get("resps"),
              **{name: sample.get(name) for name in metric_names}}
    return json.dumps(record, ensure_ascii=False, default=str) + "\n"


def _metric_names(figures: dict) -> list[str]:
    """The metric names (without their filter) of a task's figures, as lm-eval keys them in each sample."""
    return sorted({key.split(",")[0] for key in figures})


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _lm_eval_version() -> str:
    from importlib.metadata import version

    return version("lm_eval")


def read_results(settings: Settings, run_id: str) -> dict:
    """benchmarks.json of a finished benchmark run."""
    path = RunFolder(settings, run_id).require().path / RESULTS_FILE
    if not path.is_file():
        raise NotFoundError("err.bench.no_results", run=run_id)
    return json.loads(path.read_text(encoding="utf-8"))
