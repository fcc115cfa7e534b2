"""Each surgery part adds its own subcommands (one line per part)."""

from __future__ import annotations


def register_all(ssub) -> None:
    """Add every part's subcommands to the surgery group."""
    from . import surgery_ckpt; surgery_ckpt.register(ssub)
