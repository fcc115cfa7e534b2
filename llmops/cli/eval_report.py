"""`eval compare RUN [--with RUN2]` and `eval report RUN`: the comparison table and the report files of a run."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .types import positive_float, text


def register(esub) -> None:
    """Add `eval compare` and `eval report` to the eval subcommands."""
    cmd = esub.add_parser("compare", help="every figure of a run's versions, best marked; or two runs on one set")
    cmd.add_argument("run", type=text)
    cmd.add_argument("--with", dest="other", type=text, default=None, help="a second run on the same set")
    cmd.add_argument("--baseline", type=text, default=None, help="flag regressions against this version")
    cmd.add_argument("--threshold", type=positive_float, default=0.02, help="relative change counted (0.02 = 2%%)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_compare)
    cmd = esub.add_parser("report", help="write report.html, report.json and report.pdf into the run folder")
    cmd.add_argument("run", type=text)
    cmd.add_argument("--baseline", type=text, default=None)
    cmd.add_argument("--no-pdf", action="store_true", help="skip the PDF (it needs Chromium)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_report)


def _table_text(table) -> str:
    head = ["model", *(c.label for c in table.columns)]
    lines = ["\t".join(head)]
    for row in table.rows:
        cells = [row.model]
        for column in table.columns:
            value = row.values.get(column.key)
            mark = "*" if row.model in column.best else ""
            cells.append("-" if value is None else f"{value:.4g}{mark}")
        lines.append("\t".join(cells))
    return "\n".join(lines)


def _compare(settings, args) -> int:
    from ..services.evaluation.compare import compare_runs, comparison, regressions
    from ..services.evaluation.run_folder import RunFolder

    folder = RunFolder(settings, args.run).require()
    if args.other:
        result = compare_runs(folder, RunFolder(settings, args.other).require(), settings.lang,
                              threshold=args.threshold)
        lines = [f"{c.model} {c.label}: {c.baseline_value:.4g} -> {c.value:.4g} ({c.delta:+.4g})"
                 + (" !" if c.regression else "") for c in result.changes]
        emit(result.model_dump(mode="json"), args.json, "\n".join(lines) or "-")
        return 0
    table = comparison(folder, settings.lang)
    baseline = args.baseline or (table.models[0] if table.models else None)
    flagged = regressions(table, baseline, threshold=args.threshold) if baseline else []
    data = {**table.model_dump(mode="json"), "baseline": baseline,
            "regressions": [c.model_dump(mode="json") for c in flagged]}
    extra = [f"! {c.model} {c.label}: {c.baseline_value:.4g} -> {c.value:.4g}" for c in flagged]
    emit(data, args.json, "\n".join([_table_text(table), *extra]))
    return 0


def _report(settings, args) -> int:
    from ..services.evaluation.report import write_report
    from ..services.evaluation.run_folder import RunFolder

    folder = RunFolder(settings, args.run).require()
    paths = write_report(settings, folder, settings.lang, baseline=args.baseline, pdf=not args.no_pdf)
    written = {"html": str(paths.html), "json": str(paths.json), "pdf": str(paths.pdf) if paths.pdf else None}
    emit(written, args.json, t("evr.cli_report", settings.lang, **{k: v or "-" for k, v in written.items()}))
    return 0
