"""The surgery parts, each adding its own subcommands (one line per part)."""


def register_all(ssub) -> None:
    """Add every surgery part's subcommands."""
    from . import surgery_export; surgery_export.register(ssub)
