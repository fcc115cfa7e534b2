"""Every `surgery` subcommand, one module each."""

from __future__ import annotations


def register_all(ssub) -> None:
    """Add each part's subcommands."""
    from . import surgery_merge; surgery_merge.register(ssub)  # noqa: I001, E702 - one line per part
