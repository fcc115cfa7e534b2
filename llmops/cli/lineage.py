"""`lineage ID [--json] [--down]`: where an artifact came from (and what came from it), from a terminal."""

from __future__ import annotations

from .output import emit
from .types import text


def register(sub) -> None:
    """Add the lineage command."""
    cmd = sub.add_parser("lineage", help="where a version, dataset, job or evaluation came from")
    cmd.add_argument("id", type=text, help="name@version, dataset or dataset/vN, a job id or an evaluation run id")
    cmd.add_argument("--down", action="store_true", help="also list what came from it")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_lineage)


def _lineage(settings, args) -> int:
    from ..services.lineage.service import LineageService, render_text

    view = LineageService(settings).view(args.id, down=args.down)
    emit(view.to_dict(), args.json, render_text(view, settings.lang))
    return 0
