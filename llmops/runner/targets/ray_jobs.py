"""Ray: a cluster's Jobs API (`ray.job_submission.JobSubmissionClient`) for health, submit, status, logs and stop."""

from __future__ import annotations

import json
import socket
import urllib.request
from urllib.parse import urlsplit

DASHBOARD_PORT = 8265
# Ray job states that mean the job is still waiting or running.
ACTIVE = {"PENDING", "RUNNING"}


def jobs_address(address: str, dashboard_port: int = DASHBOARD_PORT) -> str:
    """The Jobs API's http(s) address: a dashboard address as given, a `ray://host:port` as its head's dashboard."""
    parts = urlsplit(address if "://" in address else f"http://{address}")
    if parts.scheme == "ray":
        # The Ray Client port does not speak the Jobs API; the head's dashboard serves it on its own port.
        return f"http://{parts.hostname}:{dashboard_port}"
    return f"{parts.scheme}://{parts.netloc}"


def reachable(url: str, timeout_s: float = 5.0) -> str:
    """'' when a TCP connection to the Jobs API opens within the timeout, else why not (the SDK itself has none)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout_s):
            return ""
    except OSError as exc:
        return f"{parts.hostname}:{port}: {exc.strerror or exc}"


def client(url: str):
    """A JobSubmissionClient on `url` (it checks the connection and the cluster's Ray version)."""
    from ray.job_submission import JobSubmissionClient  # heavy: only where a Ray target is used

    return JobSubmissionClient(url)


def probe(url: str, timeout_s: float = 5.0) -> tuple[bool, str]:
    """(usable, detail): the Jobs API answers, and with which Ray version."""
    why = reachable(url, timeout_s)
    if why:
        return False, why
    try:
        client(url)
        with urllib.request.urlopen(f"{url}/api/version", timeout=timeout_s) as answer:
            version = str(json.loads(answer.read()).get("ray_version", "?"))
    except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
        return False, str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return True, version


def submit(url: str, entrypoint: str, runtime_env: dict, submission_id: str, metadata: dict) -> str:
    """Submit one job; returns its submission id."""
    return client(url).submit_job(entrypoint=entrypoint, runtime_env=runtime_env, submission_id=submission_id,
                                  metadata=metadata)


def state(api, submission_id: str) -> tuple[str, int | None, str]:
    """(STATUS, driver exit code or None, message) of a submitted job."""
    info = api.get_job_info(submission_id)
    status = getattr(info.status, "value", str(info.status)).upper()
    return status, getattr(info, "driver_exit_code", None), info.message or ""
