"""All services of one app instance, built from one Settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..backends.cache import LocalModelCache
from ..runner.runner import JobRunner
from ..settings import Settings
from .arena import ArenaService
from .chat import ChatService
from .datasets import DatasetRegistry
from .jobs import JobsService
from .loop import LoopService
from .models import ModelRegistry
from .prefs import PrefsStore
from .training import TrainingService


@dataclass
class Services:
    """What the UI and the CLI are given; nothing heavy is imported to build it."""

    settings: Settings
    runner: JobRunner
    training: TrainingService
    jobs: JobsService
    datasets: DatasetRegistry
    models: ModelRegistry
    prefs: PrefsStore
    arena: ArenaService
    loop: LoopService
    chat: ChatService

    def sync_models(self) -> None:
        """Register the demo model and every completed training job that is not yet a version."""
        self.models.ensure_demo()
        self.models.sync_jobs(self.runner.list(1000))


def build_services(settings: Settings) -> Services:
    """Wire the services together."""
    settings.ensure_dirs()
    runner = JobRunner(settings)
    training = TrainingService(settings, runner)
    models = ModelRegistry(settings)
    prefs = PrefsStore(settings.prefs_path)
    cache = LocalModelCache(settings.local_models_budget_gb)
    return Services(settings=settings, runner=runner, training=training, jobs=JobsService(runner), datasets=DatasetRegistry(settings), models=models,
                    prefs=prefs, arena=ArenaService(models, cache, prefs),
                    loop=LoopService(settings, models, training, runner, prefs), chat=ChatService(models, cache))
