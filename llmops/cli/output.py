"""Output helpers shared by subcommands."""

from __future__ import annotations

import json


def emit(data, as_json: bool, text: str) -> None:
    """Print JSON for scripts or text for people."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else text)
