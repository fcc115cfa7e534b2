"""`data corpus`, `data sft-gen` and `data mock-prefs`."""

from __future__ import annotations

from ..errors import InvalidInputError
from ..i18n import t
from ..services.datagen.common import parse_options
from .jobs import WorkerError, add_wait_flags, run_job
from .output import emit
from .types import non_negative_int, positive_float, positive_int, text, unit_float


def register(dsub) -> None:
    """Add the generation subcommands."""
    corpus = dsub.add_parser("corpus", help="build a pre-training corpus from documents and register it")
    corpus.add_argument("--source", nargs="+", action="extend", required=True, type=text, metavar="PATH",
                        help="files or folders (repeatable); the word 'preset' means the shipped sample documents")
    corpus.add_argument("--out", help="write the JSONL here (must not exist) instead of data/llmops/")
    corpus.add_argument("--max-tokens", type=positive_int, help="token budget per chunk (default 512)")
    corpus.add_argument("--near-threshold", type=unit_float, help="MinHash near-duplicate threshold (default 0.8)")
    corpus.add_argument("--tokenizer", help="model folder whose tokenizer measures chunks (default: estimate)")
    corpus.add_argument("--min-chars", type=non_negative_int, help="drop chunks shorter than this (default 20)")
    corpus.add_argument("--languages", nargs="+", choices=("zh", "en", "other"), help="languages to keep")
    corpus.add_argument("--text-field", help="JSON/JSONL field holding the text (default text)")
    corpus.add_argument("--csv-column", help="CSV column holding the text (default text)")
    corpus.add_argument("--json", action="store_true")
    add_wait_flags(corpus)
    corpus.set_defaults(handler=_corpus)

    gen = dsub.add_parser("sft-gen", help="generate instruction data (alpaca) from a corpus and register it")
    gen.add_argument("--corpus", required=True, type=text,
                     help="corpus JSONL, registered corpus dataset, document folder/file, or 'preset'")
    gen.add_argument("--mode", choices=("rules", "llm"), default="rules")
    gen.add_argument("--out", help="write the JSON here (must not exist) instead of data/llmops/")
    gen.add_argument("--seed", type=int, default=0, help="rules mode: template choice seed")
    gen.add_argument("--count", type=int, default=None, help="rules mode: keep a seeded sample of N pairs")
    gen.add_argument("--base-url", help="llm mode: OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    gen.add_argument("--model", help="llm mode: model name served by the endpoint")
    gen.add_argument("--api-key-env", metavar="VAR",
                     help="llm mode: environment variable holding the API key (omit for keyless local servers)")
    gen.add_argument("--pairs-per-chunk", type=positive_int, help="llm mode (default 3)")
    gen.add_argument("--concurrency", type=positive_int, help="llm mode: parallel requests (default 4)")
    gen.add_argument("--timeout", type=positive_float, help="llm mode: seconds per request (default 60)")
    gen.add_argument("--max-retries", type=non_negative_int, help="llm mode: retries on timeouts, 429 and 5xx (default 3)")
    gen.add_argument("--max-chunks", type=positive_int, help="llm mode: use only the first N chunks")
    gen.add_argument("--max-tokens", type=positive_int, help="llm mode: answer length limit (default 1024)")
    gen.add_argument("--json", action="store_true")
    add_wait_flags(gen)
    gen.set_defaults(handler=_sft_gen)

    mock = dsub.add_parser("mock-prefs", help="append synthetic preference votes derived from SFT data")
    mock.add_argument("--sft", required=True, type=text, help="registered SFT dataset name or an alpaca .json/.jsonl file")
    mock.add_argument("--limit", type=positive_int, help="use only the first N pairs")
    mock.add_argument("--seed", type=int, default=0)
    mock.add_argument("--json", action="store_true")
    add_wait_flags(mock)
    mock.set_defaults(handler=_mock_prefs)


def _corpus(settings, args) -> int:
    from ..services.corpus import CorpusOptions
    from ..services.datagen import resolve_sources

    overrides = {"max_tokens": args.max_tokens, "near_threshold": args.near_threshold, "tokenizer": args.tokenizer,
                 "min_chars": args.min_chars, "languages": args.languages, "text_field": args.text_field,
                 "csv_column": args.csv_column}
    options = parse_options(CorpusOptions, {k: v for k, v in overrides.items() if v is not None})
    resolve_sources(settings, args.source)  # a missing source is refused here, before any job is queued
    job = run_job(settings, args, "corpus", {"sources": list(args.source), "options": options.model_dump(),
                                             "out": args.out}, "corpus " + " ".join(args.source))
    if job is None:
        return 0
    built = job.apply_result
    data = {"path": built["path"], "dataset_name": built["dataset_name"], "stats": built["stats"], "job_id": job.id}
    emit(data, args.json, t("gen.corpus_done", settings.lang, name=built["dataset_name"],
                            records=built["stats"]["records"], tokens=built["stats"]["tokens"], path=built["path"]))
    return 0


def _sft_gen(settings, args) -> int:
    params: dict = {"corpus": args.corpus, "mode": args.mode, "out": args.out}
    secret_env: tuple[str, ...] = ()
    if args.mode == "rules":
        params["rules"] = {"seed": args.seed, "count": args.count}
    else:
        params.update(_llm_params(settings, args))
        secret_env = (args.api_key_env,) if args.api_key_env else ()
    try:
        job = run_job(settings, args, "datagen", params, f"sft-gen {args.mode} {args.corpus}", secret_env=secret_env)
    except WorkerError as exc:
        if args.json and exc.stats:  # scripts still get the counts; the message goes to stderr and the exit code is 2
            emit({"path": None, "dataset_name": None, "stats": exc.stats}, True, "")
        raise
    if job is None:
        return 0
    result = job.apply_result
    data = {"path": result["path"], "dataset_name": result["dataset_name"], "stats": result["stats"], "job_id": job.id}
    text = t("gen.sft_done", settings.lang, pairs=result["pairs"], path=result["path"], name=result["dataset_name"])
    if result["stats"].get("stopped"):
        text += "\n" + t("gen.llm_stopped", settings.lang, pairs=result["pairs"])
    emit(data, args.json, text)
    return 0


def _llm_params(settings, args) -> dict:
    """The LLM half of a datagen job; the endpoint (and its key's binding) is checked before anything is queued."""
    from ..services.datagen import Endpoint, LLMGenOptions

    missing = [flag for flag, value in (("--base-url", args.base_url), ("--model", args.model)) if not value]
    if missing:
        raise InvalidInputError("err.gen_llm_args", missing=", ".join(missing))
    endpoint = Endpoint.from_env(args.base_url, args.model, args.api_key_env, settings)
    options = {"pairs_per_chunk": args.pairs_per_chunk, "max_workers": args.concurrency, "timeout_s": args.timeout,
               "max_retries": args.max_retries, "max_chunks": args.max_chunks, "max_tokens": args.max_tokens}
    options = parse_options(LLMGenOptions, {k: v for k, v in options.items() if v is not None})
    return {"base_url": endpoint.base_url, "model": endpoint.model, "key_env": args.api_key_env,
            "llm": options.model_dump()}


def _mock_prefs(settings, args) -> int:
    job = run_job(settings, args, "mockprefs", {"sft": args.sft, "limit": args.limit, "seed": args.seed},
                  f"mock-prefs {args.sft}")
    if job is None:
        return 0
    made = job.apply_result
    emit(made, args.json, t("gen.mock_done", settings.lang, count=made["count"], path=made["prefs_path"],
                            session=made["session"]))
    return 0
