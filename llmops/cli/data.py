"""`data …`: corpus building, instruction generation and the dataset registry."""

from __future__ import annotations

from . import data_gen, data_registry


def register(sub) -> None:
    """Add the data subcommands."""
    data = sub.add_parser("data", help="build corpora, generate and manage datasets")
    dsub = data.add_subparsers(dest="data_command", required=True)
    data_gen.register(dsub)
    data_registry.register(dsub)
