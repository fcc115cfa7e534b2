"""Jobs: what the runner is asked to run and what it knows about each run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class JobStatus(str, Enum):
    """Life of a job. LOST means its process vanished while nobody was watching."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    LOST = "LOST"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.LOST)


@dataclass(frozen=True)
class JobSpec:
    """A request to run one argv in one folder; `devices` is 'cpu', 'all' or a GPU list like '0,1'."""

    kind: str
    name: str
    argv: list[str]
    cwd: str
    run_dir: str
    devices: str = "cpu"
    env: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    # Names of the app's secret variables this job needs (e.g. a serve job's key); every other secret is withheld.
    secret_env: tuple[str, ...] = ()
    # Secrets typed for this one job (e.g. an API key): handed to its process environment, never to the table.
    secret_values: dict[str, str] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Job:
    """A row of the job table."""

    id: str
    kind: str
    name: str
    status: JobStatus
    argv: list[str]
    cwd: str
    run_dir: str
    log_path: str
    devices: str
    created_at: float
    env: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    pid: int | None = None
    pid_start: float | None = None
    sup_pid: int | None = None
    sup_start: float | None = None
    stop_requested: bool = False
    message: str = ""
    applied_at: float | None = None  # when its completion took effect (or failed to); None: not yet
    apply_result: dict = field(default_factory=dict)
    apply_error: str = ""

    def to_dict(self) -> dict:
        """Plain JSON-able view for the CLI and the API."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["status"] = self.status.value
        data.pop("env")
        return data
