"""Job kinds: a self-describing registry entry per kind of long-running work, and the worker that runs them."""

from .registry import (
    PROGRESS_FILE,
    JobKind,
    JobProgress,
    ProgressWriter,
    WorkerContext,
    get,
    kinds,
    read_progress,
    submit,
)

__all__ = ["PROGRESS_FILE", "JobKind", "JobProgress", "ProgressWriter", "WorkerContext", "get", "kinds",
           "read_progress", "submit"]
