"""All services of one app instance, built from one Settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..runner.runner import JobRunner
from ..settings import Settings
from .jobs import JobsService
from .training import TrainingService


@dataclass
class Services:
    """What the UI and the CLI are given; nothing heavy is imported to build it."""

    settings: Settings
    runner: JobRunner
    training: TrainingService
    jobs: JobsService


def build_services(settings: Settings) -> Services:
    """Wire the services together."""
    settings.ensure_dirs()
    runner = JobRunner(settings)
    return Services(settings=settings, runner=runner, training=TrainingService(settings, runner),
                    jobs=JobsService(runner))
