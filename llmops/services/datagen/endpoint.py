"""The endpoint of data generation is the backends' own: one Endpoint, one Secret, one client."""

from __future__ import annotations

from ...backends.openai_compat import Endpoint, Secret

__all__ = ["Endpoint", "Secret"]
