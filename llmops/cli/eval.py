"""`eval score|metrics` and `eval sets list|validate|add|preview|sample|split`."""

from __future__ import annotations

import json

from ..i18n import render, t
from .output import emit
from .types import non_negative_int, positive_int, text

_DEFAULT = "lf_bleu4,lf_rouge1,lf_rouge2,lf_rougeL,sacrebleu,exact_match"


def _fraction(value: str) -> float:
    """A number strictly between 0 and 1."""
    number = float(value)
    if not 0.0 < number < 1.0:
        raise ValueError(value)
    return number


def _names(value: str) -> list[str]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise ValueError(value)
    return names


def register(sub) -> None:
    """Add the eval subcommands."""
    group = sub.add_parser("eval", help="score predictions; manage evaluation sets")
    esub = group.add_subparsers(dest="eval_command", required=True)
    cmd = esub.add_parser("score", help="score a predictions file (ours, or LLaMA-Factory's generated_predictions.jsonl)")
    cmd.add_argument("predictions", type=text)
    cmd.add_argument("--metrics", type=_names, default=_names(_DEFAULT), help=f"comma-separated (default {_DEFAULT})")
    cmd.add_argument("--model", type=text, default=None, help="local model folder, for perplexity")
    cmd.add_argument("--accuracy-mode", choices=("auto", "contains", "regex", "choice"), default="auto")
    cmd.add_argument("--accuracy-pattern", default="", help="regex capturing the answer (--accuracy-mode regex)")
    cmd.add_argument("--per-sample", type=text, default=None, help="also write per-sample scores to this JSONL")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_score)
    cmd = esub.add_parser("metrics", help="the metrics registry")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_metrics)
    _register_sets(esub)


def _register_sets(esub) -> None:
    sets = esub.add_parser("sets", help="evaluation sets (files of their own, or SFT datasets)")
    ssub = sets.add_subparsers(dest="sets_command", required=True)
    cmd = ssub.add_parser("list", help="every evaluation set and SFT dataset")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_list)
    cmd = ssub.add_parser("validate", help="check a set file; exit 0 when valid, 1 when not")
    cmd.add_argument("file", type=text)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_validate)
    cmd = ssub.add_parser("add", help="store a valid set file under the workspace")
    cmd.add_argument("file", type=text)
    cmd.add_argument("--name", type=text, required=True)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_add)
    cmd = ssub.add_parser("preview", help="one page of a set's samples")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--page", type=positive_int, default=1)
    cmd.add_argument("--page-size", type=positive_int, default=20)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_preview)
    cmd = ssub.add_parser("sample", help="a seeded random sample of N samples")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--n", type=positive_int, required=True)
    cmd.add_argument("--seed", type=non_negative_int, default=0)
    cmd.add_argument("--save", type=text, default=None, help="store the sample as a new set with this name")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_sample)
    cmd = ssub.add_parser("split", help="hold out part of a dataset: writes an eval version and a train version")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--eval-fraction", type=_fraction, default=0.1)
    cmd.add_argument("--seed", type=non_negative_int, default=0)
    cmd.add_argument("--note", default="")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_split)


def _sets(settings):
    from ..services.evaluation import EvalSets

    return EvalSets(settings)


def _score(settings, args) -> int:
    from ..services.evaluation import score_file
    from ..storage import atomic_write_text

    options = {"accuracy": {"mode": args.accuracy_mode, "pattern": args.accuracy_pattern}}
    report = score_file(settings, args.predictions, args.metrics, options=options, model=args.model)
    if args.per_sample:
        atomic_write_text(args.per_sample, "".join(json.dumps(r) + "\n" for r in report.per_sample))
    lines = [f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in report.summary.items()]
    emit(report.summary, args.json, "\n".join(lines))
    return 0


def _metrics(settings, args) -> int:
    from ..services.evaluation import describe_all

    described = describe_all(settings.lang)
    emit(described, args.json, "\n".join(f"{m['name']:<12} {m['key']:<12} {m['display']}" for m in described))
    return 0


def _list(settings, args) -> int:
    rows = _sets(settings).list()
    text_out = "\n".join(f"{r.name:<24} {r.source:<8} {r.samples if r.samples is not None else '?':>7}  {r.path}"
                         + (f"  ! {render(r.problem, settings.lang)}" if r.problem else "") for r in rows)
    # JSON for scripts stays readable: the problem as text in the CLI's language, not a key.
    emit([{**r.model_dump(), "problem": render(r.problem, settings.lang)} for r in rows], args.json, text_out)
    return 0


def _validate(settings, args) -> int:
    report = _sets(settings).validate_file(args.file)
    lang = settings.lang
    head = t("ev.cli_valid", lang, path=report.path, valid=report.valid_rows) if report.ok else t(
        "ev.cli_invalid", lang, path=report.path, count=report.error_count, valid=report.valid_rows,
        total=report.total_rows)
    emit(report.to_dict(), args.json, "\n".join([head, *report.errors]))
    return 0 if report.ok else 1


def _add(settings, args) -> int:
    info = _sets(settings).add(args.file, args.name)
    emit(info.model_dump(), args.json, f"{info.name}: {info.samples} -> {info.path}")
    return 0


def _dump_samples(samples) -> str:
    return "\n".join(json.dumps(s.model_dump(exclude_defaults=True), ensure_ascii=False) for s in samples)


def _preview(settings, args) -> int:
    page = _sets(settings).preview(args.name, args.page, args.page_size)
    emit(page.model_dump(), args.json, f"{page.name} [{page.page}] {page.total}\n{_dump_samples(page.samples)}")
    return 0


def _sample(settings, args) -> int:
    samples = _sets(settings).sample(args.name, args.n, args.seed, save=args.save)
    emit([s.model_dump() for s in samples], args.json, _dump_samples(samples))
    return 0


def _split(settings, args) -> int:
    result = _sets(settings).split(args.name, args.eval_fraction, args.seed, args.note)
    emit(result.model_dump(), args.json, t("ev.cli_split", settings.lang, dataset=result.dataset,
                                            train_version=result.train_version, eval_version=result.eval_version,
                                            train=result.train_samples, eval=result.eval_samples,
                                            eval_set=result.eval_set))
    return 0
