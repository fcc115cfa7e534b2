"""`eval export-human|import-human|export-samples|contamination`: human sheets, the per-sample table, leakage."""

from __future__ import annotations

from ..i18n import render, t
from .output import emit
from .types import text


def register(esub) -> None:
    """Add the human-sheet, per-sample and contamination subcommands to `eval`."""
    cmd = esub.add_parser("export-human", help="write a rating sheet of a run's answers (blind unless --no-blind)")
    cmd.add_argument("run", type=text)
    cmd.add_argument("--csv", action="store_true", help="CSV instead of XLSX")
    cmd.add_argument("--no-blind", action="store_true", help="show model names instead of shuffled letters")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_export_human)
    cmd = esub.add_parser("import-human", help="validate a filled rating sheet and store its scores")
    cmd.add_argument("run", type=text)
    cmd.add_argument("file", type=text)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_import_human)
    cmd = esub.add_parser("export-samples", help="write the per-sample table of a run (samples.xlsx / samples.csv)")
    cmd.add_argument("run", type=text)
    cmd.add_argument("--csv", action="store_true", help="CSV instead of XLSX")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_export_samples)
    cmd = esub.add_parser("contamination", help="find evaluation samples in a version's training data")
    cmd.add_argument("--set", type=text, required=True, dest="set_name")
    cmd.add_argument("--model", type=text, required=True, help="registered version id (name@version)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_contamination)


def _folder(settings, run: str):
    from ..services.evaluation.run_folder import RunFolder

    return RunFolder(settings, run).require()


def _export_human(settings, args) -> int:
    from ..services.evaluation.human import export_sheet

    path = export_sheet(settings, _folder(settings, args.run), fmt="csv" if args.csv else "xlsx",
                        blind=not args.no_blind, lang=settings.lang)
    emit({"path": str(path)}, args.json, t("hu.cli_exported", settings.lang, path=path))
    return 0


def _import_human(settings, args) -> int:
    from ..services.evaluation.human import aggregate, import_sheet

    folder = _folder(settings, args.run)
    scores = import_sheet(settings, folder, args.file, lang=settings.lang)
    means = aggregate(folder)
    lines = [t("hu.cli_imported", settings.lang, count=len(scores.scores), path=scores.source)]
    lines += [f"{model}: " + ", ".join(f"{d} {v:.2f}" if v is not None else f"{d} -" for d, v in dims.items())
              for model, dims in means.items()]
    emit({"imported": len(scores.scores), "source": scores.source, "human": means}, args.json, "\n".join(lines))
    return 0


def _export_samples(settings, args) -> int:
    from ..services.evaluation.human import export_samples

    path = export_samples(settings, _folder(settings, args.run), "csv" if args.csv else "xlsx")
    emit({"path": str(path)}, args.json, t("hu.cli_exported", settings.lang, path=path))
    return 0


def _contamination(settings, args) -> int:
    from ..services.evaluation.contamination import check

    report = check(settings, args.set_name, args.model)
    lang = settings.lang
    lines = [t("ct.cli_summary", lang, contaminated=report.contaminated, samples=report.samples, set=report.set,
               version=report.version, exact=report.exact)]
    if not report.datasets:
        lines.append(t("ct.cli_no_datasets", lang, version=report.version))
    for item in report.datasets:
        line = t("ct.cli_dataset", lang, name=item.name, via=item.via, rows=item.rows)
        lines.append(f"{line}  ! {render(item.problem, lang)}" if item.problem else line)
    lines += [t("ct.cli_match", lang, **m.model_dump()) for m in report.matches]
    data = report.model_dump(mode="json")
    data["datasets"] = [{**d, "problem": render(i.problem, lang) if i.problem else None}
                        for d, i in zip(data["datasets"], report.datasets)]
    emit(data, args.json, "\n".join(lines))
    return 0
