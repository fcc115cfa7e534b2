"""Evaluation sets: JSONL files of their own, or any registered SFT dataset read as one; preview, sample, split.

A set name is a file under Settings.eval_sets_dir (`<name>.jsonl`), else a registered SFT dataset (`name`, or
`name@vN` for one of its versions): the last user turn becomes the prompt, the assistant's answer the reference,
and earlier turns the history.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from pydantic import ValidationError as PydanticError

from ...errors import ConflictError, InvalidInputError, NotFoundError, pydantic_details
from ...i18n import Lines, Message
from ...schemas.evaluation import EvalSample, EvalSetInfo, SetPreview, SplitResult, dump_samples
from ...security.paths import contain
from ...settings import Settings
from ...storage import atomic_write_bytes, safe_name
from ..datasets import DatasetRegistry, ValidationReport
from ..datasets.records import Issue
from ..datasets.validate import MAX_REPORTED, message_of, open_source, read_file
from .conversion import to_sample

SUFFIX = ".jsonl"
_MAX_PAGE = 500


def check_line(row: object) -> tuple[EvalSample | None, Issue | None]:
    """One set line as a sample, or the problem with it (its line filled in by the caller)."""
    try:
        sample = EvalSample.model_validate(row)
    except PydanticError as exc:
        return None, Issue(0, "ev.r_sample", {"details": pydantic_details(exc, limit=3)})
    if not sample.prompt.strip():
        return None, Issue(0, "ds.r_empty", {"field": "prompt"})
    return sample, None


class EvalSets:
    """The evaluation sets of one workspace."""

    def __init__(self, settings: Settings, datasets: DatasetRegistry | None = None):
        self.settings = settings
        self.datasets = datasets or DatasetRegistry(settings)

    @property
    def root(self) -> Path:
        return self.settings.eval_sets_dir

    # --- files of our own ----------------------------------------------------------------------------

    def _read(self, path: Path, label: str) -> tuple[list[EvalSample], ValidationReport]:
        """Every sample of a set file, streamed, and the line-level report."""
        report = ValidationReport(path=label, format="eval", layout="eval")
        samples: list[EvalSample] = []
        issues: list[Issue] = []
        source, encoding = open_source(path, label)
        report.encoding = encoding or report.encoding
        for item in source:
            if isinstance(item, Issue):
                issues.append(item)
                continue
            line, row = item
            sample, issue = check_line(row)
            if issue is not None:
                issues.append(Issue(line, issue.key, issue.params))
            else:
                samples.append(sample)
        report.valid_rows, report.total_rows, report.error_count = len(samples), len(samples) + len(issues), len(issues)
        report.messages = [message_of(i, label, source.unit) for i in issues[:MAX_REPORTED]]
        if len(issues) > MAX_REPORTED:
            report.messages.append(Message("ds.more_errors", {"count": len(issues) - MAX_REPORTED}))
        return samples, report

    def validate_file(self, path: Path | str, *, label: str | None = None) -> ValidationReport:
        """Check a set file line by line (a file-level problem is the report's single error)."""
        path = contain(self.settings, path)
        label = label or str(path)
        if path.suffix.lower() != SUFFIX:
            raise InvalidInputError("err.ev_set_suffix", path=label)
        return self._read(path, label)[1]

    def add(self, path: Path | str, name: str) -> EvalSetInfo:
        """Store a valid set file under the evaluation folder as `name`."""
        name = safe_name(name, "evaluation set name")
        report = self.validate_file(path)
        if not report.ok:
            raise InvalidInputError("err.ev_set_invalid", path=report.path, count=report.error_count,
                                  errors=Lines(tuple(report.messages[:10])))
        samples, _ = self._read(Path(path), report.path)
        return self._write(name, samples)

    def _write(self, name: str, samples: list[EvalSample]) -> EvalSetInfo:
        target = self.root / f"{safe_name(name, 'evaluation set name')}{SUFFIX}"
        try:
            atomic_write_bytes(target, dump_samples(samples), overwrite=False)
        except FileExistsError:
            raise ConflictError("err.ev_set_exists", name=name) from None
        return EvalSetInfo(name=name, source="set", path=str(target), samples=len(samples))

    # --- names ---------------------------------------------------------------------------------------

    def list(self) -> list[EvalSetInfo]:
        """Set files first, then every registered SFT dataset (each can be evaluated on)."""
        out = []
        for path in sorted(self.root.glob(f"*{SUFFIX}")) if self.root.is_dir() else []:
            info = EvalSetInfo(name=path.stem, source="set", path=str(path))
            try:
                samples, report = self._read(path, path.name)
                info.samples = len(samples)
                if report.messages:
                    info.problem = Message("ev.set_problems", {"count": report.error_count,
                                                               "first": report.messages[0]})
            except InvalidInputError as exc:
                info.problem = Message(exc.key, exc.params)
            out.append(info)
        for row in self.datasets.table():
            if row.kind == "sft" and row.format in ("alpaca", "sharegpt", "messages"):
                out.append(EvalSetInfo(name=row.name, source="dataset", path=row.path, samples=row.samples,
                                       format=row.format, problem=row.problem))
        return out

    def load(self, name: str) -> list[EvalSample]:
        """Every sample of the set called `name`."""
        if not (name or "").strip():
            raise NotFoundError("err.ev_set_unknown", name=name)
        own = self.root / f"{name}{SUFFIX}"
        if "/" not in name and own.is_file():
            samples, report = self._read(own, own.name)
            if report.error_count:
                raise InvalidInputError("err.ev_set_invalid", path=own.name, count=report.error_count,
                                      errors=Lines(tuple(report.messages[:10])))
            return samples
        dataset, _, version = name.partition("@")
        return self._from_dataset(dataset, version or None)

    def _from_dataset(self, name: str, version: str | None) -> list[EvalSample]:
        try:
            # The registry's own resolution of a name (and version) to a file and its shape.
            target = self.datasets.resolve(name, version)
        except NotFoundError:
            raise NotFoundError("err.ev_set_unknown", name=name) from None
        if target.shape.kind != "sft":
            raise InvalidInputError("err.ev_not_sft", name=name, format=target.shape.format)
        parsed, _ = read_file(target.path, target.path.name)
        samples, problems = [], []
        for line, row in parsed.rows:
            sample, issue = to_sample(row, target.shape)
            if issue is None:
                samples.append(sample)
            else:
                problems.append(message_of(Issue(line, issue.key, issue.params), target.path.name, parsed.unit))
        if problems or parsed.issues:
            problems += [message_of(i, target.path.name, parsed.unit) for i in parsed.issues]
            raise InvalidInputError("err.ev_set_invalid", path=target.path.name, count=len(problems),
                                  errors=Lines(tuple(problems[:10])))
        return samples

    # --- reading -------------------------------------------------------------------------------------

    def preview(self, name: str, page: int = 1, page_size: int = 20) -> SetPreview:
        """One page of samples (pages count from 1; out-of-range pages are clamped)."""
        samples = self.load(name)
        page_size = min(max(1, int(page_size)), _MAX_PAGE)
        page = min(max(1, int(page)), max(1, math.ceil(len(samples) / page_size)))
        chunk = samples[(page - 1) * page_size: page * page_size]
        return SetPreview(name=name, page=page, page_size=page_size, total=len(samples), samples=chunk)

    def sample(self, name: str, n: int, seed: int = 0, save: str | None = None) -> list[EvalSample]:
        """N samples drawn at random (the same seed draws the same ones), in the set's order; optionally saved."""
        if n < 1:
            raise InvalidInputError("err.ev_bad_count", n=n)
        samples = self.load(name)
        chosen = sorted(random.Random(seed).sample(range(len(samples)), min(n, len(samples))))
        picked = [samples[i] for i in chosen]
        if save:
            self._write(save, picked)
        return picked

    def split(self, dataset: str, eval_fraction: float = 0.1, seed: int = 0, note: str = "") -> SplitResult:
        """Hold out a fraction of a dataset: an eval version and a train version (the registered one) are written."""
        if not 0.0 < eval_fraction < 1.0:
            raise InvalidInputError("err.ev_bad_fraction", fraction=eval_fraction)
        self.load(dataset)  # refuses a name that is no SFT dataset, or rows that are no samples
        registry = self.datasets
        with registry.locked(safe_name(dataset, "dataset name")):
            target = registry.resolve(dataset)
            rows = registry.rows(target.path)
            held = max(1, round(len(rows) * eval_fraction))
            if held >= len(rows):
                raise InvalidInputError("err.ev_split_too_small", name=dataset, samples=len(rows))
            order = list(range(len(rows)))
            random.Random(seed).shuffle(order)
            eval_index = set(order[:held])
            eval_rows = [r for i, r in enumerate(rows) if i in eval_index]
            train_rows = [r for i, r in enumerate(rows) if i not in eval_index]
            # The parent the notes name: the registered version, or the one adopting a hand-registered file.
            parent = target.version.version if target.version else (
                target.manifest.next_version() if target.manifest else "v1")
            params = {"fraction": eval_fraction, "seed": seed, "parent": parent}
            eval_version, train_version = registry.add_versions(target, [
                (eval_rows, Message("ev.note_split_eval", params), note),
                (train_rows, Message("ev.note_split_train", params), note)], current=1)
        return SplitResult(dataset=dataset, train_version=train_version, eval_version=eval_version,
                           train_samples=len(train_rows), eval_samples=len(eval_rows),
                           eval_set=f"{dataset}@{eval_version}")
