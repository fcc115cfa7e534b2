"""What each picker offers, read from the workspace each time it is asked (never cached at page build)."""

from __future__ import annotations

from ..services.container import Services
from ..services.datagen import PRESET


def pt_choices(services: Services) -> list[str]:
    """Corpus picker: the shipped documents, then registered pre-training datasets (newest names last)."""
    return [PRESET, *services.training.datasets_for_stage("pt")]


def sft_choices(services: Services) -> list[str]:
    """Registered datasets an SFT run (and mock preferences) can read."""
    return services.training.datasets_for_stage("sft")


def dataset_names(services: Services) -> list[str]:
    """Every registered dataset name."""
    return list(services.training.dataset_entries())


def version_ids(services: Services) -> list[str]:
    """Every registered model version, in registration order."""
    return [entry.id for entry in services.models.list()]


def newest_version(services: Services) -> str | None:
    """The version registered last: the sensible 'current' one."""
    entries = services.models.list()
    return entries[-1].id if entries else None
