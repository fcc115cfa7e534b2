"""What every summary adds after the metrics: the judge's figures and audit, and the imported human scores."""

from __future__ import annotations

from ...schemas.eval_runs import ModelSummary, RunSummary
from .run_folder import RunFolder


def judge_figures(folder: RunFolder, summary: RunSummary) -> RunSummary | None:
    """The judge's audit and per-model figures, recomputed from judgements.jsonl (no request is made)."""
    spec = folder.config().judge
    if spec is None or not folder.judgements_path.is_file():
        return None
    from .judging import judge_summary, merge_into_summary

    return merge_into_summary(summary, judge_summary(folder.settings, folder, spec))


def human_figures(folder: RunFolder, summary: RunSummary) -> RunSummary | None:
    """Each model's mean human score per dimension, from the last imported sheet."""
    if not folder.human_dir.is_dir():
        return None
    from .human import aggregate

    for model, dims in aggregate(folder).items():
        summary.models.setdefault(model, ModelSummary()).human = dict(dims)
    return summary


def contamination_figures(folder: RunFolder, summary: RunSummary) -> RunSummary | None:
    """Each model's count of samples found in its own training data (exactly or nearly)."""
    reports = folder.contamination()
    if not reports:
        return None
    for model, report in reports.items():
        entry = summary.models.setdefault(model, ModelSummary())
        entry.contaminated = int(report.get("contaminated", 0))
        entry.contaminated_exact = int(report.get("exact", 0))
    return summary


DEFAULT_EXTRAS = (judge_figures, human_figures, contamination_figures)
