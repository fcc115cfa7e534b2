"""What changed in the workspace: one cheap fingerprint per topic, read by the page's live refresh."""

from __future__ import annotations

import os
from pathlib import Path

from ..settings import Settings

# A topic names a store; pickers and tables subscribe to the topics they show.
TOPICS = ("datasets", "models", "jobs", "prefs", "configs", "evals", "pipelines", "targets")


def _stamp(path: Path) -> str:
    """mtime and size of one file or folder; '-' when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


class WorkspaceWatch:
    """Fingerprints of the stores behind each topic; a stat call per file, no reads, no locks."""

    def __init__(self, settings: Settings):
        work = settings.work_dir
        self._paths: dict[str, tuple[Path, ...]] = {
            "datasets": (settings.dataset_info_path, work / "datasets"),
            "models": (work / "models.json", work / "loop.json"),
            # The job table runs in WAL mode: writes land in the -wal file first.
            "jobs": (settings.jobs_db_path, Path(f"{settings.jobs_db_path}-wal")),
            "prefs": (settings.prefs_path,),
            "configs": (settings.generated_configs_dir,),
            # A new run folder or set file changes its folder's mtime; a run's progress is read from the jobs topic.
            "evals": (settings.evals_dir, settings.eval_sets_dir),
            # Every write of a run's state also replaces the runs folder's revision file.
            "pipelines": (settings.pipelines_dir, settings.pipeline_runs_dir / "revision"),
            # The targets file is replaced whole on every change (atomic write), so its stamp moves.
            "targets": (settings.targets_path,),
        }

    def revision(self) -> dict[str, str]:
        """Topic -> fingerprint; two equal fingerprints mean nothing a picker shows has changed."""
        return {topic: "|".join(_stamp(path) for path in paths) for topic, paths in self._paths.items()}

    @staticmethod
    def changed(before: dict[str, str] | None, after: dict[str, str]) -> set[str]:
        """Topics whose fingerprint differs (every topic when there is no earlier revision)."""
        if not before:
            return set(after)
        return {topic for topic, stamp in after.items() if before.get(topic) != stamp}
