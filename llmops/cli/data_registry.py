"""`data validate|list|stats|register|versions|preview|dedup|delete|export-csv`."""

from __future__ import annotations

import json
import sys

from ..errors import InvalidInputError
from ..i18n import render, t
from ..services.datasets.results import human_size
from .jobs import add_wait_flags, run_job
from .output import emit
from .types import positive_float, positive_int, text, unit_float

_FORMATS = ("auto", "pt", "alpaca", "sharegpt", "messages", "preference")


def register(dsub) -> None:
    """Add the registry subcommands."""
    cmd = dsub.add_parser("validate", help="check a dataset file; exit 0 when valid, 1 when not")
    cmd.add_argument("file", type=text)
    cmd.add_argument("--format", choices=_FORMATS, default="auto")
    cmd.add_argument("--max-mb", type=positive_float, default=None, help="refuse files larger than this (default 512)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_validate)

    cmd = dsub.add_parser("list", help="every dataset in dataset_info.json")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_list)

    cmd = dsub.add_parser("stats", help="samples, token lengths, duplicates and empty fields of a dataset")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--version", default=None)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_stats)

    cmd = dsub.add_parser("register", help="copy a file into the registry and register it for LLaMA-Factory")
    cmd.add_argument("file", type=text)
    cmd.add_argument("--name", type=text, required=True)
    cmd.add_argument("--format", choices=_FORMATS, default="auto")
    cmd.add_argument("--note", default="")
    cmd.add_argument("--confirm-conversion", action="store_true", help="convert a GBK/GB18030 file to UTF-8")
    cmd.add_argument("--max-mb", type=positive_float, default=None)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_register)

    cmd = dsub.add_parser("versions", help="the versions of a dataset")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_versions)

    cmd = dsub.add_parser("preview", help="one page of a dataset's rows")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--page", type=positive_int, default=1)
    cmd.add_argument("--page-size", type=positive_int, default=20)
    cmd.add_argument("--version", default=None)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_preview)

    cmd = dsub.add_parser("dedup", help="remove duplicates into a new version")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--exact-only", action="store_true")
    cmd.add_argument("--threshold", type=unit_float, default=0.8)
    cmd.add_argument("--note", default="")
    cmd.add_argument("--json", action="store_true")
    add_wait_flags(cmd)
    cmd.set_defaults(handler=_dedup)

    cmd = dsub.add_parser("delete", help="unregister a dataset (its files stay unless --files)")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--files", action="store_true", help="also delete the files the studio wrote")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_delete)

    cmd = dsub.add_parser("export-csv", help="write a dataset as formula-safe CSV")
    cmd.add_argument("name", type=text)
    cmd.add_argument("out", type=text)
    cmd.add_argument("--version", default=None)
    cmd.set_defaults(handler=_export)


def _registry(settings, args):
    from ..services.datasets import DEFAULT_MAX_BYTES, DatasetRegistry

    max_mb = getattr(args, "max_mb", None)
    settings.ensure_dirs()
    return DatasetRegistry(settings, max_bytes=int(max_mb * 2**20) if max_mb else DEFAULT_MAX_BYTES)


def _validate(settings, args) -> int:
    report = _registry(settings, args).validate_file(args.file, args.format)
    head = t("cli.data.validated", settings.lang, path=report.path, format=report.format or "?",
             valid=report.valid_rows, total=report.total_rows, count=report.error_count, encoding=report.encoding)
    emit(report.to_dict(), args.json, "\n".join([head, *report.lines(settings.lang)]))
    return 0 if report.ok else 1


def _list(settings, args) -> int:
    rows = _registry(settings, args).table()
    lines = [f"{'NAME':24} {'KIND':10} {'FORMAT':10} {'SAMPLES':>8} {'SIZE':>9} {'VERSION':7} {'CREATED':25} PROBLEM"]
    lines += [f"{r.name:24} {r.kind:10} {r.format:10} {r.samples if r.samples is not None else '-':>8} "
              f"{human_size(r.size_bytes):>9} {r.version or '-':7} {r.created or '-':25} "
              f"{render(r.problem, settings.lang)}" for r in rows]
    emit([r.to_dict() for r in rows], args.json, "\n".join(lines))
    return 0


def _stats(settings, args) -> int:
    stats = _registry(settings, args).stats(args.name, args.version)
    tokens = ", ".join(f"{k} {v}" for k, v in stats.tokens.items()) or "-"
    empty = ", ".join(f"{k} {v}" for k, v in stats.empty_fields.items() if v) or "none"
    text = (f"{stats.name}: {stats.samples} samples ({stats.format})\ntokens (approx.): {tokens}\n"
            f"exact duplicates: {stats.duplicates}\nempty fields: {empty}")
    emit(stats.to_dict(), args.json, text)
    return 0


def _register(settings, args) -> int:
    try:
        row = _registry(settings, args).upload(args.file, args.name, args.format,
                                               confirm_conversion=args.confirm_conversion, note=args.note)
    except InvalidInputError as exc:
        if exc.key == "err.ds_needs_conversion":
            print(t("cli.error", settings.lang, message=f"{exc.message(settings.lang)} (--confirm-conversion)"),
                  file=sys.stderr)
            return 2
        raise
    emit(row.to_dict(), args.json, f"{row.name}: {row.samples} samples ({row.format}, {row.kind}) -> {row.file}")
    return 0


def _versions(settings, args) -> int:
    items = _registry(settings, args).versions(args.name)
    lines = [f"{v.version:6} {v.samples:>8} {v.created:25} {v.parent or '-':6} {v.file}  {v.note_text(settings.lang)}" for v in items]
    emit([v.to_dict() for v in items], args.json, "\n".join(lines))
    return 0


def _preview(settings, args) -> int:
    page = _registry(settings, args).preview(args.name, args.page, args.page_size, args.version)
    text = "\n".join([f"page {page.page}/{page.pages} ({page.total} rows)",
                      *(json.dumps(row, ensure_ascii=False) for row in page.rows)])
    emit(page.to_dict(), args.json, text)
    return 0


def _dedup(settings, args) -> int:
    registry = _registry(settings, args)
    registry.row(args.name)  # an unknown dataset is refused here, before any job is queued
    job = run_job(settings, args, "dedup", {"name": args.name, "near": not args.exact_only,
                                            "threshold": args.threshold, "note": args.note}, f"dedup {args.name}")
    if job is None:
        return 0
    result = {**job.apply_result, "dataset": registry.row(args.name).to_dict(), "job_id": job.id}
    text = (f"{args.name}: {result['before']} -> {result['after']} rows ({result['exact_removed']} exact, "
            f"{result['near_removed']} near duplicates removed); version {result['version'] or 'unchanged'}")
    emit(result, args.json, text)
    return 0


def _delete(settings, args) -> int:
    removed = _registry(settings, args).delete(args.name, delete_files=args.files)
    emit({"name": args.name, "removed": removed}, args.json, "\n".join([f"{args.name}: unregistered", *removed]))
    return 0


def _export(settings, args) -> int:
    print(_registry(settings, args).export_csv(args.name, args.out, args.version))
    return 0
