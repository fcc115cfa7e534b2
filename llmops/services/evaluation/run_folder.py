"""One evaluation run's folder: where each file lives, and the only code that reads or appends them.

    <evals_dir>/<run_id>/
        config.json         EvalRunConfig
        set.jsonl           the samples the run uses, frozen when it starts (a resume sees the same ones)
        predictions.jsonl   PredictionRecord per line, appended as answers arrive
        scores.jsonl        per-sample metric values: {"sample", "model", <metric key>: value | null, ...}
        judgements.jsonl    SingleJudgement / PairJudgement per line
        summary.json        RunSummary
        contamination.json  per model: where the set's samples occur in the data its lineage was trained on
        human/              blind key, exported sheets, imported human scores
        report.html, report.pdf, report.json, samples.csv, samples.xlsx

Append-only JSONL survives a crash: a torn last line is ignored on read and completed by the next append.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from ...errors import NotFoundError
from ...schemas.eval_runs import (
    RUN_ID_PATTERN,
    EvalRunConfig,
    PairJudgement,
    PredictionRecord,
    RunSummary,
    SingleJudgement,
)
from ...schemas.evaluation import EvalSample, dump_samples
from ...settings import Settings
from ...storage import atomic_write_bytes, atomic_write_json, file_lock

_RUN_ID = re.compile(RUN_ID_PATTERN)
_JUDGEMENT = TypeAdapter(SingleJudgement | PairJudgement)


def new_run_id() -> str:
    """A fresh, sortable run id: ev-YYYYmmdd-HHMMSS-xxxxxx."""
    return f"ev-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


class RunFolder:
    """The files of one evaluation run."""

    def __init__(self, settings: Settings, run_id: str):
        if not _RUN_ID.match(run_id or ""):
            raise NotFoundError("err.ev_run_unknown", run=run_id)
        self.settings, self.run_id = settings, run_id
        self.path = settings.evals_dir / run_id
        self._append_lock = threading.Lock()

    # --- where things are -------------------------------------------------------------------------------
    config_path = property(lambda self: self.path / "config.json")
    set_path = property(lambda self: self.path / "set.jsonl")
    predictions_path = property(lambda self: self.path / "predictions.jsonl")
    scores_path = property(lambda self: self.path / "scores.jsonl")
    judgements_path = property(lambda self: self.path / "judgements.jsonl")
    summary_path = property(lambda self: self.path / "summary.json")
    human_dir = property(lambda self: self.path / "human")
    contamination_path = property(lambda self: self.path / "contamination.json")

    def exists(self) -> bool:
        return self.config_path.is_file()

    def require(self) -> RunFolder:
        """This folder, or NotFoundError when the run was never created."""
        if not self.exists():
            raise NotFoundError("err.ev_run_unknown", run=self.run_id)
        return self

    # --- config and set ---------------------------------------------------------------------------------
    def create(self, config: EvalRunConfig, samples: list[EvalSample]) -> None:
        """Write config.json and the frozen set; refuses an existing run."""
        self.path.mkdir(parents=True, exist_ok=False)
        atomic_write_bytes(self.set_path, dump_samples(samples))
        atomic_write_json(self.config_path, config.model_dump(mode="json"))

    def config(self) -> EvalRunConfig:
        self.require()
        return EvalRunConfig.model_validate_json(self.config_path.read_text(encoding="utf-8"))

    def samples(self) -> list[EvalSample]:
        return [EvalSample.model_validate(row) for row in _rows(self.set_path)]

    # --- append-only records ----------------------------------------------------------------------------
    def append(self, path: Path, record: BaseModel | dict) -> None:
        """Add one line to a JSONL file of this run, whole or not at all (threads and processes alike)."""
        data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
        line = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
        with self._append_lock, file_lock(path):
            _heal_torn_tail(path)
            with open(path, "ab") as handle:
                handle.write(line)
                handle.flush()

    def predictions(self) -> list[PredictionRecord]:
        """Every readable prediction line; for a (model, sample) written twice the last one counts."""
        latest: dict[tuple[str, int], PredictionRecord] = {}
        for row in _rows(self.predictions_path):
            try:
                record = PredictionRecord.model_validate(row)
            except PydanticError:
                continue
            latest[(record.model, record.sample)] = record
        return list(latest.values())

    def judgements(self) -> list[SingleJudgement | PairJudgement]:
        """Every readable judgement line, the last one winning for the same (sample, models, order)."""
        latest: dict[tuple, SingleJudgement | PairJudgement] = {}
        for row in _rows(self.judgements_path):
            try:
                item = _JUDGEMENT.validate_python(row)
            except PydanticError:
                continue
            key = (item.sample, item.model) if item.kind == "single" else (item.sample, item.a, item.b, item.order)
            latest[key] = item
        return list(latest.values())

    def scores(self) -> list[dict]:
        """Per-sample metric values, one dict per (model, sample), the last written winning."""
        latest: dict[tuple, dict] = {}
        for row in _rows(self.scores_path):
            if isinstance(row.get("model"), str) and isinstance(row.get("sample"), int):
                latest[(row["model"], row["sample"])] = row
        return list(latest.values())

    # --- summary ----------------------------------------------------------------------------------------
    def write_summary(self, summary: RunSummary) -> None:
        atomic_write_json(self.summary_path, summary.model_dump(mode="json"))

    def summary(self) -> RunSummary | None:
        """The last summary written, or None before the first one."""
        try:
            return RunSummary.model_validate_json(self.summary_path.read_text(encoding="utf-8"))
        except (OSError, PydanticError):
            return None


    def write_contamination(self, reports: dict[str, dict]) -> None:
        atomic_write_json(self.contamination_path, reports)

    def contamination(self) -> dict[str, dict] | None:
        """Model -> its contamination report (a ContaminationReport as JSON), or None before the check ran."""
        try:
            data = json.loads(self.contamination_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def list_runs(settings: Settings) -> list[RunFolder]:
    """Every run folder of the workspace, newest first."""
    root = settings.evals_dir
    if not root.is_dir():
        return []
    names = sorted((p.name for p in root.iterdir() if _RUN_ID.match(p.name)), reverse=True)
    return [folder for folder in (RunFolder(settings, name) for name in names) if folder.exists()]


def _rows(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSONL file; a torn or foreign line is skipped (it was never a whole record)."""
    try:
        handle = open(path, encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            if not line.endswith("\n"):
                return  # a write cut short by a crash
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                yield row


def _heal_torn_tail(path: Path) -> None:
    """End a line a crash cut short, so the next record starts on a line of its own."""
    try:
        with open(path, "rb+") as handle:
            handle.seek(0, 2)
            if handle.tell() == 0:
                return
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
    except FileNotFoundError:
        return
