"""`--target NAME` on the commands that launch jobs: a target where one makes sense, a clear refusal elsewhere."""

from __future__ import annotations

from ..i18n import t
from ..services.targets import TargetsService
from .types import text


def add_target(parser) -> None:
    """Give a launching command its `--target NAME`."""
    parser.add_argument("--target", type=text, default=None, metavar="NAME", help=t("cli.target_help"))


def require_local(settings, args, what_key: str) -> None:
    """Refuse `--target` naming anything but this machine, for work that runs only here."""
    TargetsService(settings).require_local(getattr(args, "target", None), what_key)
