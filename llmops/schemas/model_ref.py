"""What a model location names: a hub id ('org/name') or a local folder — the one rule every caller asks."""

from __future__ import annotations

import re

# 'org/name' with one slash; starts with a letter or digit, so '/abs', './rel', '../up' and '~/home' never match.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def looks_like_hub_id(location: str | None) -> bool:
    """True when `location` has the shape of a hub id rather than a path (it may still exist on disk)."""
    return bool(HUB_ID.match((location or "").strip()))
