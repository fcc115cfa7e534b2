"""What each picker offers, read from the workspace each time it is asked (never cached at page build)."""

from __future__ import annotations

from ..i18n import t
from ..services.container import Services
from ..services.datagen import PRESET

HUB_PRESETS = ("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen3-8B",
               "meta-llama/Llama-3.1-8B-Instruct", "THUDM/glm-4-9b-chat")


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


def base_model_choices(services: Services, lang: str) -> list[tuple[str, str]]:
    """What a training can start from: the demo model, local model folders, then common hub ids."""
    choices = [(t("ui.model.demo", lang), "demo")]
    models_dir = services.settings.models_dir
    if models_dir.exists():
        choices += [(p.name, str(p)) for p in sorted(models_dir.iterdir()) if (p / "config.json").exists()]
    return choices + [(hub, hub) for hub in HUB_PRESETS]
