"""All services of one app instance, built from one Settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..backends.cache import LocalModelCache
from ..runner.runner import JobRunner
from ..security.credentials import credential_choices
from ..settings import Settings
from .arena import ArenaService
from .chat import ChatService
from .dashboard import DashboardService
from .datasets import DatasetRegistry
from .evaluation.runs import EvalRuns
from .grpo import GrpoService
from .jobkinds import kinds as job_kinds
from .jobs import JobsService
from .jobs_admin import JobsAdmin
from .loop import LoopService
from .models import ModelRegistry
from .pipelines import PipelineService, StageContext
from .prefs import PrefsStore
from .reconciler import Reconciler
from .serving import ServingService
from .targets import TargetsService
from .training import TrainingService
from .workspace import WorkspaceWatch


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
    reconciler: Reconciler
    workspace: WorkspaceWatch
    chat: ChatService
    evals: EvalRuns
    dashboard: DashboardService
    grpo: GrpoService
    jobs_admin: JobsAdmin
    pipelines: PipelineService
    serving: ServingService | None = None
    targets: TargetsService | None = None

    def credential_choices(self) -> list[tuple[str, str]]:
        """The key variables the operator bound to hosts, as (label, variable) pairs for a picker."""
        return credential_choices(self.settings)

    def sync_models(self) -> None:
        """Register the demo model and apply every finished job that has not taken effect yet."""
        self.reconciler.run_once()


def build_services(settings: Settings) -> Services:
    """Wire the services together."""
    settings.ensure_dirs()
    # Every kind's evidence rule is known before the runner judges a job that ended while nobody watched it.
    job_kinds()
    runner = JobRunner(settings)
    training = TrainingService(settings, runner)
    models = ModelRegistry(settings)
    prefs = PrefsStore(settings.prefs_path)
    cache = LocalModelCache(settings.local_models_budget_gb)
    loop = LoopService(settings, models, training, runner, prefs)
    jobs, datasets = JobsService(runner), DatasetRegistry(settings)
    evals = EvalRuns(settings, runner, models)
    reconciler = Reconciler(runner, models, loop)
    grpo = GrpoService(settings, runner)
    pipelines = PipelineService(StageContext(settings, runner, training, evals, models, loop, grpo))
    reconciler.after_pass.append(pipelines.advance_all)
    serving = ServingService(settings, runner, models, reconciler)
    reconciler.after_pass.append(serving.sweep)
    return Services(serving=serving, targets=TargetsService(settings), settings=settings, runner=runner, training=training, jobs=jobs,
                    datasets=datasets, models=models, prefs=prefs,
                    arena=ArenaService(models, cache, prefs), loop=loop, chat=ChatService(models, cache),
                    reconciler=reconciler, workspace=WorkspaceWatch(settings), evals=evals,
                    dashboard=DashboardService(settings, jobs, datasets, models, prefs),
                    grpo=grpo, jobs_admin=JobsAdmin(settings, training), pipelines=pipelines)
