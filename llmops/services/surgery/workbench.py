"""What the Surgery page asks of the services: each operation checked by its own service, then queued as a job."""

from __future__ import annotations

from ...schemas.jobs import Job
from ...settings import Settings
from ..jobs import JobsService
from . import averaging, convert, export
from .merge import MergePlan

MERGE_KIND = "mergekit"


class SurgeryWorkbench:
    """The surgery services bound to one workspace and its job table."""

    def __init__(self, settings: Settings, jobs: JobsService):
        self.settings, self.jobs = settings, jobs

    def start_merge(self, plan: MergePlan, target: str | None = None) -> Job:
        """Queue a checked mergekit plan on `target` (its completion registers the merged version), as `surgery
        merge` does."""
        return self.jobs.submit(MERGE_KIND, plan.job_params(), f"merge {plan.method} -> {plan.name}", target=target)

    def merge_lora(self, ref: str, **options) -> tuple[export.SavedExport, Job]:
        """Save the export YAML and queue `llamafactory-cli export`."""
        return export.merge_lora(self.settings, self.jobs.runner, ref, **options)

    def convert(self, ref: str, dtype: str, target: str | None = None, **options) -> tuple[convert.ConvertParams, Job]:
        """Queue a dtype cast on `target` (perplexity before and after when a set is named)."""
        return convert.convert(self.settings, self.jobs.runner, ref, dtype, target, **options)

    def gptq(self, plan: export.ExportPlan) -> tuple[export.SavedExport, Job]:
        """Queue a GPTQ export; refused (the YAML saved) where CUDA or its packages are missing."""
        return export.quantize_gptq(self.settings, self.jobs.runner, plan)

    def gguf(self, ref: str, outtype: str, **options) -> Job:
        """Queue llama.cpp's converter; refused when it is not installed."""
        return convert.gguf(self.settings, self.jobs.runner, ref, outtype, **options)

    def average(self, run: str, checkpoints: list[str], **options) -> Job:
        """Queue an SWA / EMA average of a run's checkpoints."""
        return averaging.start_average(self.settings, self.jobs.runner, run, checkpoints, **options)

    def training_jobs(self) -> list[Job]:
        """Recent training jobs, newest first."""
        return [job for job in self.jobs.list(100) if job.kind == "train"]
