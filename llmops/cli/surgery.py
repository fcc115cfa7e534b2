"""`surgery ...`: merges, checkpoint selection, averaging and compression, each a job."""
from __future__ import annotations
from . import surgery_parts
def register(sub) -> None:
    """Add the surgery subcommands."""
    group = sub.add_parser("surgery", help="merge, average, pick checkpoints, compress")
    ssub = group.add_subparsers(dest="surgery_command", required=True)
    surgery_parts.register_all(ssub)
