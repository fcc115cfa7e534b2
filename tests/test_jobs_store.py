"""The job table's schema versions: a first-release file is migrated in place; updates take only known columns."""

from __future__ import annotations

import sqlite3

import pytest

from llmops.errors import StorageError
from llmops.runner.store import SCHEMA_VERSION, UPDATABLE, JobStore
from llmops.schemas.jobs import JobSpec, JobStatus

# The table exactly as the first release's store.py created it (its _SCHEMA string, copied here on purpose:
# the test must not follow later edits of the migrations it checks).
RELEASE_1_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    argv TEXT NOT NULL,
    env TEXT NOT NULL,
    cwd TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    log_path TEXT NOT NULL,
    devices TEXT NOT NULL,
    meta TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    exit_code INTEGER,
    pid INTEGER,
    pid_start REAL,
    sup_pid INTEGER,
    sup_start REAL,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created_at);
"""


def _release_1_db(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(RELEASE_1_SCHEMA)
    conn.execute("INSERT INTO jobs (id, kind, name, status, argv, env, cwd, run_dir, log_path, devices, meta, created_at,"
                 " finished_at, exit_code, message) VALUES ('old-1', 'train', 'sft run', 'COMPLETED', '[\"true\"]', '{}',"
                 " '/', '/tmp/run', '/tmp/run/job.log', 'cpu', '{\"loop\": true}', 1.0, 2.0, 0, '')")
    conn.commit()
    conn.close()


def test_a_release_1_table_is_migrated_and_keeps_its_jobs(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    _release_1_db(path)
    store = JobStore(path)
    assert store.schema_version() == SCHEMA_VERSION == 2
    old = store.get("old-1")
    assert (old.kind, old.status, old.meta, old.exit_code) == ("train", JobStatus.COMPLETED, {"loop": True}, 0)
    assert old.applied_at is None and old.apply_result == {} and old.apply_error == ""
    # Its completion has not been recorded: the reconciler will look at it once.
    assert [job.id for job in store.unapplied((JobStatus.COMPLETED,))] == ["old-1"]
    assert store.claim_completion("old-1") and not store.claim_completion("old-1")
    store.record_completion("old-1", {"model_ids": ["m@v2"]})
    assert store.unapplied((JobStatus.COMPLETED,)) == []
    # Opening again (the next start) changes nothing; new jobs are created with the new columns.
    again = JobStore(path)
    assert again.schema_version() == 2 and again.get("old-1").apply_result == {"model_ids": ["m@v2"]}
    made = again.create(JobSpec(kind="corpus", name="c", argv=["true"], cwd="/", run_dir=str(tmp_path)), "log")
    assert again.get(made.id).applied_at is None


def test_a_table_from_a_newer_release_is_refused_untouched(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    _release_1_db(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(StorageError, match="newer version") as refused:
        JobStore(path)
    assert refused.value.key == "err.jobs_db_newer"
    conn = sqlite3.connect(path)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 99 and "applied_at" not in columns
    conn.close()


def test_update_takes_only_whitelisted_columns(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.create(JobSpec(kind="corpus", name="c", argv=["true"], cwd="/", run_dir=str(tmp_path)), "log")
    store.update(job.id, message="fine", exit_code=3)
    assert (store.get(job.id).message, store.get(job.id).exit_code) == ("fine", 3)
    for bad in ({"kind": "train"}, {"argv": "[]"}, {"status=status, kind": "x"}, {"message=?, name": "x"}):
        with pytest.raises(ValueError, match="not updatable"):
            store.update(job.id, **bad)
    with pytest.raises(ValueError):
        store.update(job.id)
    after = store.get(job.id)
    assert (after.kind, after.name, after.argv, after.message) == ("corpus", "c", ["true"], "fine")
    assert "kind" not in UPDATABLE and "id" not in UPDATABLE
