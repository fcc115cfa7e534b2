"""`data validate|list|stats|register`."""

from __future__ import annotations


def register(dsub) -> None:
    """Add the registry subcommands."""
