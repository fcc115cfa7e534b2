"""The process of a worker job: `python -m llmops job-worker RUN_DIR` runs its kind's service code.

SIGABRT (the supervisor's Stop) ends a kind with `graceful_stop` at its next chunk, keeping its partial output;
any other kind is interrupted and writes nothing. result.json is written last, so its presence proves the output.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from ...errors import InvalidInputError, LLMOpsError
from ...runner.evidence import RESULT_FILE
from ...settings import Settings
from ...storage import atomic_write_json
from .registry import (
    ERROR_FILE,
    PARAMS_FILE,
    ProgressWriter,
    WorkerContext,
    error_record,
    get,
    parse_params,
    read_json,
)


class Interrupted(Exception):
    """Stop asked of a kind that cannot keep partial output."""


def run(run_dir: Path, settings: Settings) -> int:
    """Run the job described by RUN_DIR/params.json; 0 on success, 2 on a user error (kept in error.json)."""
    spec = read_json(run_dir / PARAMS_FILE) or {}
    kind = get(str(spec.get("kind")))
    if kind is None or kind.run is None:
        raise InvalidInputError("err.job_worker_spec", path=str(run_dir / PARAMS_FILE))
    stop = threading.Event()

    def on_stop(signum, frame) -> None:
        stop.set()
        if not kind.graceful_stop:
            raise Interrupted()

    for sig in (signal.SIGABRT, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_stop)
    ctx = WorkerContext(settings, run_dir, stop, ProgressWriter(run_dir))
    try:
        result = kind.run(ctx, parse_params(kind, spec.get("params") or {}))
    except Interrupted:
        print("stopped before any output was complete", flush=True)
        return 130
    except LLMOpsError as exc:
        # error.json is what users read, rendered in each reader's language (an empty generation's counts come
        # with it); the log is the operator's and stays in English, whatever language the app started in.
        stats = getattr(getattr(exc, "result", None), "stats", None)
        atomic_write_json(run_dir / ERROR_FILE, error_record(exc, stats))
        print(f"failed ({exc.key}): {exc.message('en')}", flush=True)
        return 2
    atomic_write_json(run_dir / RESULT_FILE, result)
    print(f"done: {RESULT_FILE} written", flush=True)
    return 0

