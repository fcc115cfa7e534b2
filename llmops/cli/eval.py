"""`eval score|metrics`, `eval sets list|validate|add|preview|sample|split` and `eval run|list|show|stop|resume`."""

from __future__ import annotations

import json

from ..errors import InvalidInputError
from ..i18n import render, t
from .eval_bench import register as register_bench
from .eval_human import register as register_human
from .eval_judge import register as register_judge
from .eval_report import register as register_report
from .output import emit
from .target_opt import add_target
from .types import comma_list, non_negative_int, positive_float, positive_int, text

_DEFAULT = "lf_bleu4,lf_rouge1,lf_rouge2,lf_rougeL,sacrebleu,exact_match"


def _fraction(value: str) -> float:
    """A number strictly between 0 and 1."""
    number = float(value)
    if not 0.0 < number < 1.0:
        raise ValueError(value)
    return number


def register(sub) -> None:
    """Add the eval subcommands."""
    group = sub.add_parser("eval", help="score predictions; manage evaluation sets")
    esub = group.add_subparsers(dest="eval_command", required=True)
    cmd = esub.add_parser("score", help="score a predictions file (ours, or LLaMA-Factory's generated_predictions.jsonl)")
    cmd.add_argument("predictions", type=text)
    cmd.add_argument("--metrics", type=comma_list, default=comma_list(_DEFAULT), help=f"comma-separated (default {_DEFAULT})")
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
    register_human(esub)
    register_judge(esub)
    register_bench(esub)
    register_report(esub)
    _register_runs(esub)


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


# --- evaluation runs ------------------------------------------------------------------------------------


def _register_runs(esub) -> None:
    cmd = esub.add_parser("run", help="evaluate model versions on a set, as a job (stop and resume keep answers)")
    cmd.add_argument("--models", type=comma_list, required=True, help="comma-separated version ids (name@version)")
    cmd.add_argument("--set", type=text, required=True, help="a set name, or a .jsonl set file (read directly)")
    cmd.add_argument("--metrics", type=comma_list, default=None, help="comma-separated (default: what the set allows)")
    cmd.add_argument("--limit", type=positive_int, default=None, help="the first N samples")
    cmd.add_argument("--temperature", type=float, default=0.0)
    cmd.add_argument("--top-p", type=float, default=1.0)
    cmd.add_argument("--max-new-tokens", type=positive_int, default=256)
    cmd.add_argument("--seed", type=non_negative_int, default=0)
    cmd.add_argument("--concurrency", type=positive_int, default=4, help="endpoint requests in flight per model")
    cmd.add_argument("--timeout", type=positive_float, default=120.0, help="seconds per sample")
    cmd.add_argument("--retries", type=non_negative_int, default=1)
    cmd.add_argument("--batch", type=positive_int, default=8, help="samples per batched generate (local models)")
    cmd.add_argument("--perplexity-model", type=text, default=None, help="the version scoring perplexity")
    cmd.add_argument("--judge", choices=("single", "pairwise"), default=None, help="also grade with an LLM judge")
    cmd.add_argument("--judge-url", type=text, default=None, help="the judge's OpenAI-compatible base URL (…/v1)")
    cmd.add_argument("--judge-model", type=text, default=None)
    cmd.add_argument("--judge-key-env", default=None, help="environment variable holding the judge's API key")
    cmd.add_argument("--judge-lang", choices=("en", "zh"), default=None, help="the judge prompt's language")
    cmd.add_argument("--name", default="")
    cmd.add_argument("--wait", action="store_true", help="wait for the run and print its summary last")
    cmd.add_argument("--json", action="store_true")
    add_target(cmd)
    cmd.set_defaults(handler=_run)
    cmd = esub.add_parser("checkpoints", help="score every checkpoint-N of a version's training run, in one run")
    cmd.add_argument("version", type=text, help="a registered version id (name@version)")
    cmd.add_argument("--set", type=text, required=True)
    cmd.add_argument("--metrics", type=comma_list, default=None)
    cmd.add_argument("--limit", type=positive_int, default=None)
    cmd.add_argument("--max-new-tokens", type=positive_int, default=256)
    cmd.add_argument("--temperature", type=float, default=0.0)
    cmd.add_argument("--seed", type=non_negative_int, default=0)
    cmd.add_argument("--wait", action="store_true")
    cmd.add_argument("--json", action="store_true")
    add_target(cmd)
    cmd.set_defaults(handler=_checkpoints)
    cmd = esub.add_parser("list", help="every evaluation run, newest first")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_runs_list)
    cmd = esub.add_parser("show", help="a run's config, progress and summary")
    cmd.add_argument("run", type=text)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_show)
    cmd = esub.add_parser("stop", help="stop a run; what it wrote stays")
    cmd.add_argument("run", type=text)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_stop)
    cmd = esub.add_parser("resume", help="answer what a stopped run has not answered yet")
    cmd.add_argument("run", type=text)
    cmd.add_argument("--wait", action="store_true")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_resume)


def _services(settings):
    from ..services.container import build_services

    return build_services(settings)


def _run(settings, args) -> int:
    services = _services(settings)
    values = {"models": args.models, "set": args.set, "metrics": args.metrics or [], "limit": args.limit,
              "generation": {"temperature": args.temperature, "top_p": args.top_p,
                             "max_new_tokens": args.max_new_tokens, "seed": args.seed},
              "concurrency": args.concurrency, "timeout_s": args.timeout, "retries": args.retries,
              "local_batch": args.batch, "perplexity_model": args.perplexity_model, "name": args.name,
              "judge": _judge_values(settings, args)}
    folder, job = services.evals.start(values, target=args.target)
    total = len(folder.samples()) * len(args.models)
    started = t("evr.cli_started", settings.lang, run=folder.run_id, job_id=job.id, total=total)
    return _after_submit(settings, services, args, folder.run_id, job, started)


def _checkpoints(settings, args) -> int:
    services = _services(settings)
    values = {"set": args.set, "metrics": args.metrics or [], "limit": args.limit,
              "generation": {"max_new_tokens": args.max_new_tokens, "temperature": args.temperature,
                             "seed": args.seed}}
    folder, job = services.evals.score_checkpoints(args.version, values, target=args.target)
    total = len(folder.samples()) * len(folder.config().models)
    started = t("evr.cli_started", settings.lang, run=folder.run_id, job_id=job.id, total=total)
    return _after_submit(settings, services, args, folder.run_id, job, started)


def _judge_values(settings, args) -> dict | None:
    """The run's judge from --judge and its flags; the URL and model are required with it."""
    if args.judge is None:
        return None
    for flag, value in (("--judge-url", args.judge_url), ("--judge-model", args.judge_model)):
        if not value:
            raise InvalidInputError("err.cli_option_needs", option=flag, needs="--judge")
    return {"mode": args.judge, "base_url": args.judge_url, "model": args.judge_model,
            "api_key_env": args.judge_key_env or None, "lang": args.judge_lang or settings.lang}


def _resume(settings, args) -> int:
    services = _services(settings)
    job = services.evals.resume(args.run)
    return _after_submit(settings, services, args, args.run, job,
                         t("evr.cli_resumed", settings.lang, run=args.run, job_id=job.id))


def _after_submit(settings, services, args, run_id: str, job, started: str) -> int:
    """Without --wait: the run and job ids. With it: wait (Ctrl-C stops the run, keeping its answers), then the
    summary, printed last (with --json, the only thing on stdout)."""
    import sys

    from .jobs import checked, wait_applied

    if not args.wait:
        emit({"run_id": run_id, "job_id": job.id}, args.json, started)
        return 0
    print(started, file=sys.stderr)
    job = wait_applied(settings, services, job)
    checked(settings, job)
    view = services.evals.show(run_id)
    emit(view.summary.model_dump(mode="json") if view.summary else view.to_dict(), args.json, _summary_text(view))
    return 0


def _summary_text(view) -> str:
    summary = view.summary
    if summary is None:
        return f"{view.config.run_id}: {view.status}"
    lines = [f"{summary.run_id}  {summary.status}  {summary.done}/{summary.total}  set {summary.set}"]
    head = ["MODEL".ljust(32), *(key[:10].rjust(10) for key in summary.metrics), "LAT_S".rjust(7), "TOK/S".rjust(7),
            "  ERRORS"]
    lines.append(" ".join(head))
    for model, row in summary.models.items():
        cells = [model.ljust(32), *(_cell(row.metrics.get(key)) for key in summary.metrics),
                 _cell(row.latency_mean_s, 7), _cell(row.tokens_per_s, 7),
                 "  " + ", ".join(f"{k} {v}" for k, v in row.errors.items() if v)]
        lines.append(" ".join(cells))
    return "\n".join(lines)


def _cell(value, width: int = 10) -> str:
    return (f"{value:.2f}" if isinstance(value, (int, float)) else "-").rjust(width)


def _runs_list(settings, args) -> int:
    views = _services(settings).evals.list()
    lines = [f"{'RUN':27} {'STATUS':9} {'DONE':>11}  {'SET':20} MODELS"]
    for v in views:
        done = f"{v.summary.done}/{v.summary.total}" if v.summary else f"{v.progress.done}/{v.progress.total}"
        lines.append(f"{v.config.run_id:27} {v.status:9} {done:>11}  {v.config.set[-20:]:20} "
                     f"{','.join(v.config.models)}  {v.config.name}")
    emit([v.to_dict() for v in views], args.json, "\n".join(lines))
    return 0


def _show(settings, args) -> int:
    view = _services(settings).evals.show(args.run)
    progress = view.progress
    text_out = (f"{_summary_text(view)}\nstatus: {view.status}  job: {view.job.id if view.job else '-'}  "
                f"progress: {progress.stage} {progress.done}/{progress.total} {progress.counts.get('eta_s') or ''}")
    emit(view.to_dict(), args.json, text_out)
    return 0


def _stop(settings, args) -> int:
    job = _services(settings).evals.stop(args.run)
    key = "evr.cli_stopped" if job is not None else "evr.cli_not_running"
    emit({"run_id": args.run, "job_id": job.id if job else None}, args.json, t(key, settings.lang, run=args.run))
    return 0
