"""Each surgery part adds its own subcommands."""

from __future__ import annotations


def register_all(ssub) -> None:
    """Add every part's subcommands to the surgery group."""
    from . import surgery_ckpt, surgery_export

    for part in (surgery_export, surgery_ckpt):
        part.register(ssub)
