"""`data corpus` and `data sft-gen`."""

from __future__ import annotations


def register(dsub) -> None:
    """Add the generation subcommands."""
