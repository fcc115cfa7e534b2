"""`eval judge RUN_ID`: an LLM judge over a run's predictions, its figures merged into the run's summary."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .types import non_negative_int, positive_float, positive_int, text


def _pair(value: str) -> tuple[str, str]:
    """'A,B': two model ids."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(value)
    return parts[0], parts[1]


def register(esub) -> None:
    """Add `eval judge` to the eval subcommands."""
    cmd = esub.add_parser("judge", help="grade a run's answers with an LLM judge (single rubric or pairwise)")
    cmd.add_argument("run_id", type=text)
    cmd.add_argument("--mode", choices=("single", "pairwise"), default="single")
    cmd.add_argument("--judge-url", type=text, required=True, help="OpenAI-compatible base URL (…/v1)")
    cmd.add_argument("--judge-model", type=text, required=True)
    cmd.add_argument("--judge-key-env", default=None, help="environment variable holding the judge's API key")
    cmd.add_argument("--lang", choices=("en", "zh"), default=None, help="language of the default prompt")
    cmd.add_argument("--dimensions", default=None, help="comma-separated rubric dimensions (single mode)")
    cmd.add_argument("--template", type=text, default=None, help="a file holding the prompt template")
    cmd.add_argument("--pair", type=_pair, action="append", default=[], help="MODEL_A,MODEL_B (repeatable)")
    cmd.add_argument("--concurrency", type=positive_int, default=4)
    cmd.add_argument("--timeout", type=positive_float, default=60.0, help="seconds per request")
    cmd.add_argument("--retries", type=non_negative_int, default=2)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_judge)


def _spec(settings, args):
    from pathlib import Path

    import pydantic

    from ..errors import InvalidInputError, pydantic_details
    from ..schemas.eval_runs import JudgeSpec

    fields = {"mode": args.mode, "base_url": args.judge_url, "model": args.judge_model,
              "api_key_env": args.judge_key_env or None, "lang": args.lang or settings.lang,
              "pairs": args.pair, "concurrency": args.concurrency, "timeout_s": args.timeout,
              "retries": args.retries}
    if args.dimensions:
        fields["dimensions"] = [d.strip() for d in args.dimensions.split(",") if d.strip()]
    if args.template:
        fields["template"] = Path(args.template).read_text(encoding="utf-8")
    try:
        return JudgeSpec(**fields)
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.ev_judge_spec_invalid", details=pydantic_details(exc, "judge")) from None


def _judge(settings, args) -> int:
    from ..services.evaluation.judging import judge_run, merge_into_summary
    from ..services.evaluation.run_folder import RunFolder

    folder = RunFolder(settings, args.run_id).require()
    outcome = judge_run(settings, folder, _spec(settings, args))
    summary = folder.summary()
    if summary is not None:
        folder.write_summary(merge_into_summary(summary, outcome))
    audit = outcome.summary
    data = {"judge": audit.model_dump(mode="json"), "models": outcome.models, "pairwise": outcome.pairwise,
            "new": outcome.new}
    lang = settings.lang
    lines = [t("ev.judge_cli_done", lang, model=audit.model, mode=audit.mode, judged=audit.judged,
               failures=audit.failures, new=outcome.new)]
    for model, figures in outcome.models.items():
        shown = "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
        tally = outcome.pairwise.get(model)
        if tally:
            shown += f"  win={tally['win']} loss={tally['loss']} tie={tally['tie']}"
        lines.append(f"{model:<24} {shown}")
    if audit.mode == "pairwise":
        lines.append(t("ev.judge_cli_audit", lang, bias=_num(audit.position_bias_rate),
                       agreement=_num(audit.human_agreement), kappa=_num(audit.kappa), overlap=audit.overlap))
    emit(data, args.json, "\n".join(lines))
    return 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
