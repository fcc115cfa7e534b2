"""`surgery ...`: merges, checkpoint selection, averaging and compression, each a job."""

from __future__ import annotations

from . import surgery_ckpt, surgery_export, surgery_merge, surgery_sweep


def register(sub) -> None:
    """Add the surgery subcommands: each part's module adds its own."""
    group = sub.add_parser("surgery", help="merge, average, pick checkpoints, compress")
    ssub = group.add_subparsers(dest="surgery_command", required=True)
    for part in (surgery_merge, surgery_export, surgery_ckpt, surgery_sweep):
        part.register(ssub)
