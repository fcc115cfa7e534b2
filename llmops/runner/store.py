"""The job table in SQLite: shared safely by the app, the CLI and every job supervisor."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConflictError, StorageError
from ..schemas.jobs import Job, JobSpec, JobStatus
from . import evidence, procs

# The table as the first release created it (schema version 1); later versions are migrations below.
_SCHEMA_V1 = """
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

# Version N is reached by running MIGRATIONS[N] on a version N-1 table, each in one transaction.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: tuple(part.strip() for part in _SCHEMA_V1.split(";") if part.strip()),
    # A completion (a registered dataset or model version) is recorded on its job: when it was claimed,
    # when it was applied, what it produced and why it failed; so it is applied once, across restarts.
    2: ("ALTER TABLE jobs ADD COLUMN applying_at REAL",
        "ALTER TABLE jobs ADD COLUMN applied_at REAL",
        "ALTER TABLE jobs ADD COLUMN apply_result TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE jobs ADD COLUMN apply_error TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX IF NOT EXISTS jobs_unapplied ON jobs(applied_at, status)"),
}
SCHEMA_VERSION = max(MIGRATIONS)

# The only columns `update` may set; anything else is a programming error, never interpolated into SQL.
UPDATABLE = frozenset({"status", "started_at", "finished_at", "exit_code", "pid", "pid_start", "sup_pid", "sup_start",
                       "stop_requested", "message", "meta", "applying_at", "applied_at", "apply_result",
                       "apply_error"})

# A supervisor that has not recorded itself within this many seconds of queueing never started.
_START_WINDOW_S = 60.0


def devices_conflict(a: str, b: str) -> bool:
    """Two device sets conflict when they share a GPU, or both are the CPU; 'all' takes every GPU; 'none' (a data
    job that needs no accelerator and little CPU) conflicts with nothing."""
    if "none" in (a, b):
        return False
    if "cpu" in (a, b):
        return a == b
    if "all" in (a, b):
        return True
    return bool(set(a.split(",")) & set(b.split(",")))


class JobStore:
    """CRUD and claims over the job table; every state change is one short transaction."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        self.migrate()

    def schema_version(self) -> int:
        """The version the file is at (0: no table yet)."""
        with self._connect() as conn:
            return _version(conn)

    def migrate(self) -> int:
        """Bring the table to SCHEMA_VERSION, one transaction per step; a newer file is refused, never changed."""
        with self._transaction() as conn:
            current = _version(conn)
            if current > SCHEMA_VERSION:
                raise StorageError("err.jobs_db_newer", path=str(self.path), version=current, supported=SCHEMA_VERSION)
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={int(version)}")
        return SCHEMA_VERSION

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def create(self, spec: JobSpec, log_path: str) -> Job:
        """Insert a PENDING job and return it."""
        job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (id, kind, name, status, argv, env, cwd, run_dir, log_path, devices, meta, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (job_id, spec.kind, spec.name, JobStatus.PENDING.value, json.dumps(spec.argv), json.dumps(spec.env),
                 spec.cwd, spec.run_dir, log_path, spec.devices, json.dumps(spec.meta, ensure_ascii=False),
                 time.time()),
            )
        return self.get(job_id)

    def get(self, job_id: str) -> Job | None:
        """One job, or None."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _to_job(row) if row else None

    def list(self, limit: int = 100, statuses: tuple[JobStatus, ...] = ()) -> list[Job]:
        """Newest first."""
        query, params = "SELECT * FROM jobs", []
        if statuses:
            query += f" WHERE status IN ({','.join('?' * len(statuses))})"
            params = [s.value for s in statuses]
        query += " ORDER BY created_at DESC LIMIT ?"
        with self._connect() as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [_to_job(row) for row in rows]

    def count_by_status(self) -> dict[JobStatus, int]:
        """Jobs per state over the whole table (every state present, zero included); one indexed query."""
        with self._connect() as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        counts = dict.fromkeys(JobStatus, 0)
        for status, count in rows:
            counts[JobStatus(status)] = int(count)
        return counts

    def update(self, job_id: str, **fields) -> None:
        """Set whitelisted columns of one job (see UPDATABLE)."""
        unknown = sorted(set(fields) - UPDATABLE)
        if unknown or not fields:
            raise ValueError(f"not updatable job columns: {unknown or 'none given'}")
        if "status" in fields and isinstance(fields["status"], JobStatus):
            fields["status"] = fields["status"].value
        if "meta" in fields:
            fields["meta"] = json.dumps(fields["meta"], ensure_ascii=False)
        assignments = ", ".join(f"{key}=?" for key in fields)
        with self._transaction() as conn:
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id=?", (*fields.values(), job_id))

    def finish(self, job_id: str, status: JobStatus, exit_code: int | None, message: str = "") -> None:
        """Record the end of a job unless it already has one."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status=?, exit_code=?, message=?, finished_at=? WHERE id=? AND status IN (?,?)",
                (status.value, exit_code, message, time.time(), job_id, JobStatus.PENDING.value,
                 JobStatus.RUNNING.value),
            )

    def delete(self, job_ids: list[str]) -> int:
        """Remove finished jobs' rows in one transaction; none is removed when any of them is queued or running."""
        if not job_ids:
            return 0
        marks = ",".join("?" * len(job_ids))
        with self._transaction() as conn:
            _reconcile(conn)
            active = conn.execute(f"SELECT id, status FROM jobs WHERE id IN ({marks}) AND status IN (?,?)",
                                  (*job_ids, JobStatus.PENDING.value, JobStatus.RUNNING.value)).fetchone()
            if active:
                raise ConflictError("err.jobs_delete_running", job_id=active["id"], status=active["status"])
            return conn.execute(f"DELETE FROM jobs WHERE id IN ({marks})", tuple(job_ids)).rowcount

    def request_stop(self, job_id: str) -> None:
        """Flag a job for stopping; its supervisor acts on it."""
        self.update(job_id, stop_requested=1)

    def try_claim(self, job_id: str, limit: int) -> bool:
        """Move a PENDING job to RUNNING if its device set has room and no older job waits for it."""
        with self._transaction() as conn:
            _reconcile(conn)
            me = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            if me is None or me["status"] != JobStatus.PENDING.value:
                return False
            running = conn.execute("SELECT devices FROM jobs WHERE status=?", (JobStatus.RUNNING.value,)).fetchall()
            if sum(devices_conflict(me["devices"], row["devices"]) for row in running) >= limit:
                return False
            older = conn.execute(
                "SELECT devices FROM jobs WHERE status=? AND created_at<? AND id<>?",
                (JobStatus.PENDING.value, me["created_at"], job_id),
            ).fetchall()
            if any(devices_conflict(me["devices"], row["devices"]) for row in older):
                return False
            conn.execute("UPDATE jobs SET status=?, started_at=? WHERE id=?",
                         (JobStatus.RUNNING.value, time.time(), job_id))
            return True

    def unapplied(self, statuses: tuple[JobStatus, ...], limit: int = 200) -> list[Job]:
        """Finished jobs in `statuses` whose completion has not been recorded yet, oldest first."""
        marks = ",".join("?" * len(statuses))
        with self._connect() as conn:
            rows = conn.execute(f"SELECT * FROM jobs WHERE applied_at IS NULL AND status IN ({marks})"
                                " ORDER BY finished_at, created_at LIMIT ?", (*[s.value for s in statuses], limit))
            return [_to_job(row) for row in rows.fetchall()]

    def claim_completion(self, job_id: str, lease_s: float = 300.0) -> bool:
        """Take the right to apply a job's completion; False when it is applied or another process holds it."""
        now = time.time()
        with self._transaction() as conn:
            cursor = conn.execute("UPDATE jobs SET applying_at=? WHERE id=? AND applied_at IS NULL"
                                  " AND (applying_at IS NULL OR applying_at<?)", (now, job_id, now - lease_s))
            return cursor.rowcount == 1

    def record_completion(self, job_id: str, result: dict, error: str = "") -> None:
        """Record that a job's completion was applied (or failed, with its reason); it is never applied again."""
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET applied_at=?, apply_result=?, apply_error=? WHERE id=?",
                         (time.time(), json.dumps(result, ensure_ascii=False), error, job_id))

    def reconcile(self) -> None:
        """Settle jobs whose processes vanished from their run folder's evidence (a live trainer is re-attached)."""
        # Every poll of every open page lands here: look first, and take the write lock only to change rows.
        with self._connect() as conn:
            if not _vanished(_active_rows(conn)):
                return
        with self._transaction() as conn:
            _reconcile(conn)


def _version(conn: sqlite3.Connection) -> int:
    """PRAGMA user_version; a jobs table from before versions were kept counts as version 1."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='jobs'").fetchone():
        return 1
    return version


def _active_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM jobs WHERE status IN (?,?)",
                        (JobStatus.PENDING.value, JobStatus.RUNNING.value)).fetchall()


def _vanished(rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    """Queued or running jobs whose supervisor and trainer are both gone."""
    now, gone = time.time(), []
    for row in rows:
        if procs.is_alive(row["sup_pid"], row["sup_start"]):
            continue
        if row["sup_pid"] is None and now - row["created_at"] < _START_WINDOW_S:
            continue  # the supervisor is still starting up
        if row["status"] == JobStatus.RUNNING.value and procs.is_alive(row["pid"], row["pid_start"]):
            continue  # supervisor gone but the trainer itself still runs: keep showing it
        gone.append(row)
    return gone


def _reconcile(conn: sqlite3.Connection) -> None:
    """Give each vanished job the status its run folder proves (see runner/evidence.py), LOST by default."""
    for row in _vanished(_active_rows(conn)):
        if row["status"] == JobStatus.RUNNING.value:
            verdict = evidence.judge(row["kind"], row["run_dir"], bool(row["stop_requested"]))
        else:
            verdict = evidence.Verdict(JobStatus.LOST, evidence.GONE)  # never started: nothing to judge
        conn.execute(
            "UPDATE jobs SET status=?, finished_at=?, message=? WHERE id=? AND status IN (?,?)",
            (verdict.status.value, time.time(), verdict.message, row["id"], JobStatus.PENDING.value,
             JobStatus.RUNNING.value),
        )


def _to_job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], kind=row["kind"], name=row["name"], status=JobStatus(row["status"]),
        argv=json.loads(row["argv"]), env=json.loads(row["env"]), cwd=row["cwd"], run_dir=row["run_dir"],
        log_path=row["log_path"], devices=row["devices"], meta=json.loads(row["meta"]),
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        exit_code=row["exit_code"], pid=row["pid"], pid_start=row["pid_start"], sup_pid=row["sup_pid"],
        sup_start=row["sup_start"], stop_requested=bool(row["stop_requested"]), message=row["message"],
        applied_at=row["applied_at"], apply_result=json.loads(row["apply_result"] or "{}"),
        apply_error=row["apply_error"],
    )
