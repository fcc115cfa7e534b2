"""The studio at a glance: one typed snapshot read from the services that own each figure (the first tab, the CLI)."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ..schemas.eval_runs import EvalRunConfig
from ..schemas.jobs import Job
from ..schemas.models import ModelEntry
from ..settings import Settings
from .datasets import DatasetRegistry
from .evaluation.run_folder import RunFolder, list_runs
from .evaluation.runs import KIND as EVAL_KIND
from .evaluation.runs import RunView
from .jobkinds import JobProgress, read_progress
from .jobs import JobsService
from .models import ModelRegistry
from .prefs import PrefsStore
from .sysinfo import GpuProbe, SystemInfo, start_cpu_window, system_info

WEEK_DAYS = 7  # "this week": the UTC dates of the last 7 days, today included, by each vote's own timestamp
_SCAN_RUNS = 500  # evaluation runs searched for the current version's last one (newest first)


def is_surgery_kind(kind: str) -> bool:
    """Merge, export, average, sweep and convert jobs: the surgery kinds are named `surgery_*`, bar mergekit's."""
    return kind == "mergekit" or kind.startswith("surgery_")


def _local(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else ""


@dataclass(frozen=True)
class Counts:
    """How much there is: datasets, model versions, jobs per state, votes."""

    datasets: int
    versions: int
    jobs: dict[str, int]
    votes_week: int
    votes_total: int

    @property
    def jobs_total(self) -> int:
        return sum(self.jobs.values())


@dataclass(frozen=True)
class RunningJob:
    """A queued or running job with how far it is."""

    id: str
    name: str
    kind: str
    status: str
    progress: str  # the jobs panel's own cell: steps or done/total
    percent: float | None  # None: the job has not reported a total yet
    eta: str  # H:MM:SS left, '' when unknown
    elapsed_s: float | None


@dataclass(frozen=True)
class RecentJob:
    id: str
    name: str
    kind: str
    status: str
    created: str
    duration_s: float | None


@dataclass(frozen=True)
class RecentEval:
    """An evaluation run: what it compared on which set, how far it got, its figures per model."""

    run_id: str
    name: str
    models: list[str]
    set: str
    status: str
    created: str
    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)  # model -> metric -> figure


@dataclass(frozen=True)
class RecentMerge:
    """A merged version, or a surgery job that has not produced one (yet, or ever)."""

    id: str  # the version id, else the job id
    operation: str
    inputs: list[str]
    status: str  # 'registered' for a version, else the job's state
    created: str
    job_id: str


@dataclass(frozen=True)
class CurrentVersion:
    """The chat backend's version and the newest evaluation that included it."""

    id: str
    kind: str
    parent: str
    created: str
    last_eval: RecentEval | None


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard shows, taken at one moment."""

    taken_at: str
    took_ms: float
    counts: Counts
    running: list[RunningJob]
    recent_jobs: list[RecentJob]
    recent_evals: list[RecentEval]
    recent_merges: list[RecentMerge]
    current: CurrentVersion | None
    system: SystemInfo

    def to_dict(self) -> dict:
        """Plain JSON-able view (the CLI's --json and the API)."""
        data = asdict(self)
        data["counts"]["jobs_total"] = self.counts.jobs_total
        data["system"] = self.system.to_dict()
        return data


class DashboardService:
    """Builds snapshots; holds only caches of things that never change once written (an eval run's config)."""

    def __init__(self, settings: Settings, jobs: JobsService, datasets: DatasetRegistry, models: ModelRegistry,
                 prefs: PrefsStore, gpu: GpuProbe | None = None):
        self.settings, self.jobs, self.datasets, self.models, self.prefs = settings, jobs, datasets, models, prefs
        self.gpu = gpu or GpuProbe()
        self._configs: dict[str, EvalRunConfig] = {}
        self._lock = threading.Lock()
        start_cpu_window()  # the page's first CPU figure then covers the seconds since the app started

    def snapshot(self, recent: int = 8, cpu_interval: float | None = None) -> Snapshot:
        """The figures now; `recent` rows per recent list."""
        start = time.perf_counter()
        counts = self.counts()
        active = self.jobs.active(50)
        latest = self.jobs.list(max(recent, 50))
        evals = self._eval_runs(active + latest)
        current = self.models.default()
        snapshot = Snapshot(
            taken_at=datetime.now().astimezone().isoformat(timespec="seconds"), took_ms=0.0, counts=counts,
            running=[self._running(job) for job in active], recent_jobs=[_recent_job(j) for j in latest[:recent]],
            recent_evals=[_eval_row(run.view()) for run in evals[:recent]], recent_merges=self._merges(latest, recent),
            current=self._current(current, evals) if current else None, system=self.system(cpu_interval))
        return replace(snapshot, took_ms=round((time.perf_counter() - start) * 1000, 1))

    def running(self) -> list[RunningJob]:
        """Queued and running jobs with their progress (read from their run folders, which change every step)."""
        return [self._running(job) for job in self.jobs.active(50)]

    def system(self, cpu_interval: float | None = None) -> SystemInfo:
        """CPU, memory, the workspace's disk and the GPUs, now."""
        return system_info(self.settings.home, self.gpu, cpu_interval)

    def counts(self) -> Counts:
        """Counts from each owner: the dataset registry, the model registry, the job table, the prefs log."""
        by_state = {status.value: n for status, n in self.jobs.counts().items()}
        aggregates = self.prefs.aggregates()
        today = datetime.now(UTC).date()
        week = {(today - timedelta(days=back)).isoformat() for back in range(WEEK_DAYS)}
        votes_week = sum(n for (_source, day), n in aggregates.days.items() if day in week)
        return Counts(datasets=len(self.datasets.entries()), versions=len(self.models.list()), jobs=by_state,
                      votes_week=votes_week, votes_total=aggregates.total())

    # --- parts ------------------------------------------------------------------------------------------

    def _running(self, job: Job) -> RunningJob:
        view = self.jobs.progress_view(job)
        elapsed = time.time() - job.started_at if job.started_at else None
        return RunningJob(job.id, job.name, job.kind, job.status.value, view.cell, view.percent, view.eta, elapsed)

    def _config(self, folder: RunFolder) -> EvalRunConfig:
        """A run's config.json, read once: it is written when the run is created and never changed."""
        with self._lock:
            cached = self._configs.get(folder.run_id)
        if cached is None:
            cached = folder.config()
            with self._lock:
                self._configs[folder.run_id] = cached
        return cached

    def _eval_runs(self, jobs: list[Job]) -> list[_RunRef]:
        """Every run folder newest first (configs cached, summaries read for the first ones only)."""
        newest: dict[str, Job] = {}
        for job in sorted(jobs, key=lambda j: j.created_at, reverse=True):
            run_id = (job.meta.get("params") or {}).get("run_id") if job.kind == EVAL_KIND else None
            if run_id:
                newest.setdefault(run_id, job)
        return [_RunRef(self._config(folder), folder, newest.get(folder.run_id))
                for folder in list_runs(self.settings)[:_SCAN_RUNS]]

    def _current(self, entry: ModelEntry, evals: list[_RunRef]) -> CurrentVersion:
        last = next((run for run in evals if entry.id in run.config.models), None)
        return CurrentVersion(entry.id, entry.kind, entry.lineage.get("parent_id") or "", entry.created,
                              _eval_row(last.view()) if last else None)

    def _merges(self, latest: list[Job], recent: int) -> list[RecentMerge]:
        merged = [e for e in self.models.list() if e.kind == "merged"]
        rows = [RecentMerge(e.id, str(e.lineage.get("operation") or "merge"),
                            [str(i) for i in e.lineage.get("inputs") or []], "registered", e.created,
                            str(e.lineage.get("job_id") or "")) for e in merged]
        produced = {row.job_id for row in rows if row.job_id}
        for job in latest:
            if is_surgery_kind(job.kind) and job.id not in produced and not job.apply_result.get("path"):
                rows.append(RecentMerge(job.id, job.kind, [], job.status.value, _local(job.created_at), job.id))
        return sorted(rows, key=lambda row: _sort_key(row.created), reverse=True)[:recent]


@dataclass(frozen=True)
class _RunRef:
    """A run folder with its (cached) config and newest job; its summary is read only when a row shows it."""

    config: EvalRunConfig
    folder: RunFolder
    job: Job | None

    def view(self) -> RunView:
        progress = read_progress(self.job.run_dir) if self.job else JobProgress()
        return RunView(self.config, self.folder.summary(), progress, self.job, self.folder.path)


def _eval_row(view: RunView) -> RecentEval:
    summary = view.summary
    metrics = {model: dict(figures.metrics) for model, figures in summary.models.items()} if summary else {}
    config = view.config
    return RecentEval(config.run_id, config.name, list(config.models), config.set, view.status, config.created,
                      metrics)


def _recent_job(job: Job) -> RecentJob:
    duration = ((job.finished_at or time.time()) - job.started_at) if job.started_at else None
    return RecentJob(job.id, job.name, job.kind, job.status.value, _local(job.created_at), duration)


def _sort_key(stamp: str) -> float:
    """ISO stamps from the registry and the job table, comparable; an unreadable one sorts last."""
    try:
        parsed = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return 0.0
    return (parsed if parsed.tzinfo else parsed.astimezone()).timestamp()
