"""An evaluation run's report: everything in report.json, a self-contained report.html, and report.pdf via Chromium.

The report is built once as typed data (ReportData); the JSON is that data, the HTML renders it, the PDF prints the
HTML. Only names of key variables ever reach the config; the written text is still scrubbed of every secret value
this process holds, so no key lands in a file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, Field

from ...errors import LLMOpsError
from ...runner.chromium import print_to_pdf
from ...security.credentials import has_userinfo
from ...security.environ import is_secret_name
from ...settings import Settings
from ...storage import atomic_write_text
from . import metrics as registry
from .compare import DEFAULT_THRESHOLD, QUALITY_GROUPS, Change, Comparison, changes, comparison, pair_outcomes
from .compare_samples import MAX_PAGE_SIZE, ErrorAnalysis, SamplePage, error_analysis, side_by_side
from .run_data import RunData, load
from .run_folder import RunFolder

SAMPLES_IN_REPORT = 50
_MIN_SECRET = 8  # shorter values ("1", "true") would scrub ordinary text


class Method(BaseModel):
    """How the run was made: set, metrics, judge, generation settings."""

    set: str
    samples: int
    set_hash: str
    models: list[str]
    metrics: list[dict]  # the registry's description of each metric, in the report's language
    generation: dict
    timeout_s: float
    retries: int
    limit: int | None = None
    judge: dict | None = None  # mode, model, base_url, dimensions, lang: never a key
    judge_audit: dict | None = None


class ReportData(BaseModel):
    """Everything the report shows (report.json)."""

    run_id: str
    name: str
    lang: str
    generated: str
    status: str
    done: int
    total: int
    method: Method
    comparison: Comparison
    baseline: str
    threshold: float
    best: str | None = None
    best_wins: int = 0
    quality_columns: int = 0
    changes: list[Change] = Field(default_factory=list)
    regressions: list[Change] = Field(default_factory=list)
    distributions: dict[str, dict[str, list[float]]] = Field(default_factory=dict)  # column key -> model -> values
    pair_wins: dict[str, dict[str, int]] = Field(default_factory=dict)  # row model -> column model -> wins
    samples: SamplePage  # every sample (up to MAX_PAGE_SIZE); the HTML shows the first `samples_shown`
    samples_shown: int = SAMPLES_IN_REPORT
    errors: ErrorAnalysis


@dataclass(frozen=True)
class ReportPaths:
    """Where the report files are (pdf None when it was not asked for)."""

    html: Path
    json: Path
    pdf: Path | None = None


def report_paths(folder: RunFolder) -> ReportPaths:
    """The report files of a run folder, whether written yet or not."""
    return ReportPaths(html=folder.path / "report.html", json=folder.path / "report.json",
                       pdf=folder.path / "report.pdf")


def build_report(folder: RunFolder | RunData, lang: str = "en", *, baseline: str | None = None,
                 threshold: float = DEFAULT_THRESHOLD, samples: int = SAMPLES_IN_REPORT) -> ReportData:
    """The report's content; `baseline` (a model of the run) defaults to its first; the HTML shows `samples` rows."""
    data = load(folder)
    table = comparison(data, lang)
    baseline = baseline or table.models[0]
    found = changes(table, baseline, threshold=threshold)
    best, wins, quality = _best_version(table)
    summary = data.summary
    return ReportData(
        run_id=data.run_id, name=data.config.name or data.run_id, lang=lang,
        generated=time.strftime("%Y-%m-%d %H:%M:%S"), status=summary.status if summary else "running",
        done=summary.done if summary else len(data.predictions),
        total=summary.total if summary else len(data.samples) * len(data.config.models),
        method=_method(data, lang), comparison=table, baseline=baseline, threshold=threshold, best=best,
        best_wins=wins, quality_columns=quality, changes=found, regressions=[c for c in found if c.regression],
        distributions=_distributions(data, table), pair_wins=_pair_wins(data),
        samples=side_by_side(data, page_size=max(1, min(len(data.samples), MAX_PAGE_SIZE))), samples_shown=samples,
        errors=error_analysis(data))


def write_report(settings: Settings, folder: RunFolder, lang: str, *, baseline: str | None = None,
                 threshold: float = DEFAULT_THRESHOLD, pdf: bool = True) -> ReportPaths:
    """Write report.json and report.html into the run folder, then report.pdf.

    Without a Chromium the PDF step raises NotFoundError saying how to get one; HTML and JSON are on disk by then."""
    from .report_html import render

    data = load(folder)
    report = build_report(data, lang, baseline=baseline, threshold=threshold)
    paths = report_paths(folder)
    judge = data.config.judge
    secrets = _secret_values(judge.api_key_env if judge else None)
    atomic_write_text(paths.json, _scrub(report.model_dump_json(indent=1), secrets))
    atomic_write_text(paths.html, _scrub(render(report), secrets))
    if not pdf:
        return replace(paths, pdf=None)
    print_to_pdf(settings, paths.html, paths.pdf)
    return paths


# --- parts -----------------------------------------------------------------------------------------------------
def _method(data: RunData, lang: str) -> Method:
    config = data.config
    metrics = []
    for key in (list(data.summary.metrics) if data.summary and data.summary.metrics else config.metrics):
        try:
            metrics.append(registry.get(key).describe(lang))
        except LLMOpsError:  # a metric this version no longer knows is listed by its key alone
            metrics.append({"key": key, "name": key, "display": key, "help": "", "higher_is_better": True})
    judge = audit = None
    if config.judge is not None:
        spec = config.judge
        judge = {"mode": spec.mode, "model": spec.model, "lang": spec.lang, "dimensions": list(spec.dimensions),
                 "base_url": "(hidden: carries credentials)" if has_userinfo(spec.base_url) else spec.base_url}
    if data.summary and data.summary.judge is not None:
        audit = data.summary.judge.model_dump(mode="json")
    return Method(set=config.set, samples=len(data.samples), set_hash=data.set_hash, models=list(config.models),
                  metrics=metrics, generation=config.generation.model_dump(mode="json"), timeout_s=config.timeout_s,
                  retries=config.retries, limit=config.limit, judge=judge, judge_audit=audit)


def _best_version(table: Comparison) -> tuple[str | None, int, int]:
    """The model best on the most quality columns (the run's order breaks a tie), its count, and how many there are."""
    quality = [c for c in table.columns if c.group in QUALITY_GROUPS and c.best]
    if not quality:
        return None, 0, 0
    wins = {m: sum(1 for c in quality if m in c.best) for m in table.models}
    best = max(table.models, key=lambda m: (wins[m], -table.models.index(m)))
    return best, wins[best], len(quality)


def _distributions(data: RunData, table: Comparison) -> dict[str, dict[str, list[float]]]:
    """Per-sample values behind each metric and judge column, per model."""
    out: dict[str, dict[str, list[float]]] = {}
    for column in table.columns:
        per_model: dict[str, list[float]] = {}
        for model in table.models:
            if column.group == "metric":
                values = [row.get(column.name) for (m, _), row in sorted(data.scores.items()) if m == model]
            elif column.group == "judge":
                values = [j.scores.get(column.name) for (m, _), j in sorted(data.single.items()) if m == model]
            else:
                break
            per_model[model] = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if any(per_model.values()):
            out[column.key] = per_model
    return out


def _pair_wins(data: RunData) -> dict[str, dict[str, int]]:
    wins: dict[str, dict[str, int]] = {}
    for (_, a, b), outcome in pair_outcomes(data).items():
        if outcome != "tie":
            winner, loser = (a, b) if outcome == "a" else (b, a)
            wins.setdefault(winner, {}).setdefault(loser, 0)
            wins[winner][loser] += 1
    return wins


def _secret_values(key_env: str | None) -> list[str]:
    """Every secret value this process could leak: the judge's key variable and any variable named like a secret."""
    names = {name for name in os.environ if is_secret_name(name)} | ({key_env} if key_env else set())
    return sorted({os.environ[n] for n in names if len(os.environ.get(n, "")) >= _MIN_SECRET}, key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    return text
