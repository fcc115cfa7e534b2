"""`--target NAME` on the commands that launch jobs (each service refuses, clearly, a target it cannot use)."""

from __future__ import annotations

from ..i18n import t
from .types import text


def add_target(parser) -> None:
    """Give a launching command its `--target NAME`."""
    parser.add_argument("--target", type=text, default=None, metavar="NAME", help=t("cli.target_help"))

