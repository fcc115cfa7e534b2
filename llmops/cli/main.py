"""Argument parsing and error reporting shared by every subcommand."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import LLMOpsError, is_user_error
from ..i18n import t
from ..settings import Settings
from . import dashboard, data, gate, jobs, lineage, models, pipeline, prefs, serve, surgery, targets, train, users
from . import eval as eval_cli
from .parser import CliParser
from .types import text


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = CliParser(prog="python -m llmops", description="LLMOps studio command line.",
                       epilog=t("sec.cli_epilog"))
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo-model", help="build the tiny local pipeline-check model")
    demo.add_argument("out", type=text, help="output folder")
    demo.add_argument("--overwrite", action="store_true")
    demo.set_defaults(handler=_demo_model)
    train.register(sub)
    jobs.register(sub)
    data.register(sub)
    prefs.register(sub)
    eval_cli.register(sub)
    models.register(sub)
    users.register(sub)
    gate.register(sub)
    surgery.register(sub)
    lineage.register(sub)
    dashboard.register(sub)
    pipeline.register(sub)
    serve.register(sub)
    targets.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors print a message in the user's language: exit 2 for user errors, 1 for failures."""
    args = build_parser().parse_args(argv)
    lang = Settings().lang
    try:
        settings = Settings.from_env()
    except (TypeError, ValueError) as exc:
        return _fail(lang, t("cli.bad_env", lang, reason=exc))
    try:
        return args.handler(settings, args) or 0
    except LLMOpsError as exc:  # storage, backend and job failures exit 1; what the user can fix exits 2
        return _fail(lang, exc.message(lang), code=2 if is_user_error(exc) else 1)
    except OSError as exc:  # a path the user named cannot be read or written
        reason = exc.strerror or str(exc)
        return _fail(lang, t("cli.os_error", lang, path=exc.filename or "-", reason=reason))
    except KeyboardInterrupt:
        print(t("cli.interrupted", lang), file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a defect, reported in one line rather than a traceback
        if os.environ.get("LLMOPS_DEBUG"):
            raise
        return _fail(lang, t("cli.internal", lang, kind=type(exc).__name__, reason=str(exc)[:300]), code=1)


def _fail(lang: str, message: str, code: int = 2) -> int:
    print(t("cli.error", lang, message=message), file=sys.stderr)
    return code


def _demo_model(settings: Settings, args) -> int:
    from ..services import demo_model

    out = demo_model.build(args.out, [settings.sample_docs_dir, settings.sample_datasets_dir], overwrite=args.overwrite)
    print(out)
    return 0
