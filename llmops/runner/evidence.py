"""How a job ended while nobody watched it, told by the evidence its run folder holds; one entry per job kind.

A job whose supervisor and process are both gone is judged once, by the entry of its kind: training knows
what LLaMA-Factory leaves behind when it finishes; a kind with no entry (or no evidence) is LOST.
Evaluation, merge or serve jobs add their own entry with `register`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..lf import trainer_log
from ..schemas.jobs import JobStatus

GONE = "process gone while nobody was watching it"


@dataclass(frozen=True)
class Verdict:
    """The status a vanished job gets and why (the message shown with the job)."""

    status: JobStatus
    message: str


@dataclass(frozen=True)
class KindEvidence:
    """What proves, for one job kind, that an unwatched run finished: a description and the judge that reads it."""

    kind: str
    proves_completion: str
    judge: Callable[[Path, bool], Verdict]  # (run folder, stop was requested) -> verdict


_REGISTRY: dict[str, KindEvidence] = {}


def register(entry: KindEvidence) -> KindEvidence:
    """Add (or replace) the evidence rule of a job kind."""
    _REGISTRY[entry.kind] = entry
    return entry


def entries() -> list[KindEvidence]:
    """Every registered rule, by kind."""
    return [_REGISTRY[kind] for kind in sorted(_REGISTRY)]


def judge(kind: str, run_dir: str | Path, stop_requested: bool) -> Verdict:
    """The verdict on a job whose processes vanished; LOST when its kind has no rule or its folder is unreadable."""
    entry = _REGISTRY.get(kind)
    if entry is None:
        return Verdict(JobStatus.LOST, GONE)
    try:
        return entry.judge(Path(run_dir), stop_requested)
    except OSError as exc:
        return Verdict(JobStatus.LOST, f"{GONE}; its run folder could not be read ({exc.strerror or exc})")


def _train(run_dir: Path, stop_requested: bool) -> Verdict:
    progress = trainer_log.read_progress(run_dir)
    step = (f"last logged step {progress.current_steps}/{progress.total_steps}" if progress.current_steps
            else "no step logged")
    if trainer_log.final_results(run_dir) is None:
        return Verdict(JobStatus.LOST, f"{GONE}; {step}")
    # LLaMA-Factory also saves and writes its results when it stops early on request.
    status = JobStatus.STOPPED if stop_requested else JobStatus.COMPLETED
    return Verdict(status, f"ended while nobody was watching it: the trainer saved its weights and wrote "
                           f"{' and '.join(trainer_log.FINAL_RESULTS)} ({step}); exit code unknown")


register(KindEvidence(
    kind="train",
    proves_completion=f"weights ({', '.join(trainer_log.WEIGHTS[:3])}, …) and {', '.join(trainer_log.FINAL_RESULTS)}"
                      f" in the run folder; the last step comes from {trainer_log.TRAINER_LOG}",
    judge=_train,
))


# A worker job (`python -m llmops job-worker RUN_DIR`) writes this file last, atomically, once its output is complete.
RESULT_FILE = "result.json"
WORKER_KINDS = ("corpus", "datagen", "dedup", "mockprefs", "benchmark", "eval")


def _worker(run_dir: Path, stop_requested: bool) -> Verdict:
    if not (run_dir / RESULT_FILE).is_file():
        return Verdict(JobStatus.LOST, f"{GONE}; no {RESULT_FILE} was written")
    status = JobStatus.STOPPED if stop_requested else JobStatus.COMPLETED
    return Verdict(status, f"ended while nobody was watching it: the worker wrote {RESULT_FILE}; exit code unknown")


for _kind in WORKER_KINDS:
    register(KindEvidence(kind=_kind, proves_completion=f"{RESULT_FILE} in the run folder, written last by the worker",
                          judge=_worker))


# A model export (`llamafactory-cli export`) writes config.json and the weights, then the tokenizer files last, into
# the folder its job folder's export.json names; a dtype cast is a worker and proves itself like one.
EXPORT_PLAN = "export.json"
_EXPORT_LAST = "tokenizer_config.json"


def _export(run_dir: Path, stop_requested: bool) -> Verdict:
    try:
        plan = json.loads((run_dir / EXPORT_PLAN).read_text(encoding="utf-8"))
        folders = [Path(plan["final"]), Path(plan["partial"])]
    except (ValueError, KeyError, TypeError, FileNotFoundError):
        return Verdict(JobStatus.LOST, f"{GONE}; no readable {EXPORT_PLAN}")
    for folder in folders:
        weights = folder.is_dir() and any(p.suffix == ".safetensors" for p in folder.iterdir())
        if weights and (folder / "config.json").is_file() and (folder / _EXPORT_LAST).is_file():
            status = JobStatus.STOPPED if stop_requested else JobStatus.COMPLETED
            return Verdict(status, f"ended while nobody was watching it: {folder} holds config.json, weights and "
                                   f"{_EXPORT_LAST}; exit code unknown")
    return Verdict(JobStatus.LOST, f"{GONE}; the export folder is incomplete")


register(KindEvidence(kind="surgery_export", judge=_export,
                      proves_completion=f"config.json, *.safetensors and {_EXPORT_LAST} (written last) in the export "
                                        f"folder named by {EXPORT_PLAN}"))
register(KindEvidence(kind="surgery_convert", judge=_worker,
                      proves_completion=f"{RESULT_FILE} in the run folder, written last by the worker"))


def _gguf(run_dir: Path, stop_requested: bool) -> Verdict:
    return Verdict(JobStatus.LOST, f"{GONE}; a GGUF file cut short cannot be told from a whole one: convert again")


register(KindEvidence(kind="surgery_gguf", judge=_gguf,
                      proves_completion="nothing: a GGUF file cut short looks like a whole one, so an unwatched "
                                        "conversion is LOST and is run again"))
