"""Argument parsing and error reporting shared by every subcommand."""

from __future__ import annotations

import argparse
import sys

from ..errors import LLMOpsError
from ..settings import Settings
from ..i18n import t
from . import data, jobs, prefs, train, users


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="python -m llmops", description="LLMOps studio command line.",
                                     epilog=t("sec.cli_epilog"))
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo-model", help="build the tiny local pipeline-check model")
    demo.add_argument("out", help="output folder")
    demo.add_argument("--overwrite", action="store_true")
    demo.set_defaults(handler=_demo_model)
    train.register(sub)
    jobs.register(sub)
    data.register(sub)
    prefs.register(sub)
    users.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print a message in the user's language and exit 2."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return args.handler(settings, args) or 0
    except LLMOpsError as exc:
        print(f"error: {exc.message(settings.lang)}", file=sys.stderr)
        return 2


def _demo_model(settings: Settings, args) -> int:
    from ..services import demo_model

    out = demo_model.build(args.out, [settings.sample_docs_dir, settings.sample_datasets_dir], overwrite=args.overwrite)
    print(out)
    return 0
