"""Serve a registered version as an OpenAI-compatible server: a long-running `serve` job whose endpoint version is
registered once the server answers and removed when the job ends, so pickers never offer a dead server."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ...errors import InvalidInputError, JobError, NotFoundError
from ...runner.runner import JobRunner
from ...schemas.jobs import Job, JobSpec, JobStatus
from ...schemas.models import ModelEntry
from ...settings import Settings
from ...storage import atomic_write_text
from ..device import DeviceInfo, probe
from ..jobkinds.registry import ProgressWriter, read_progress
from ..models import ModelRegistry
from . import plan as plans
from .plan import ServeOptions, ServePlan

KIND = "serve"
SUFFIX = "-served"


@dataclass(frozen=True)
class ServedRow:
    """One serve job as `serve list` and the Serve section show it."""

    job_id: str
    status: str
    stage: str
    version_id: str
    engine: str
    base_url: str
    endpoints: list[str]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class ServingService:
    """Plans, starts, watches and stops serve jobs; the endpoint registration is `mark_ready`'s alone."""

    def __init__(self, settings: Settings, runner: JobRunner, models: ModelRegistry, reconciler=None,
                 device: Callable[[], DeviceInfo] = probe):
        self.settings, self.runner, self.models, self.reconciler = settings, runner, models, reconciler
        self.device = device

    def plan(self, version_id: str, options: ServeOptions, run_dir: Path | None = None,
             checked: bool = False) -> ServePlan:
        """The server for `version_id`; `checked` also refuses what cannot start here (the preview skips that)."""
        entry = self.models.get(version_id)
        if entry.kind == "endpoint":
            raise InvalidInputError("err.serve_endpoint", model_id=entry.id)
        port = options.port or plans.free_port()
        if checked:
            plans.require_port(port)
        if options.engine == "vllm":
            extra = [self.models.get(model_id) for model_id in options.adapters if model_id != entry.id]
            executable = (plans.require_vllm(self.settings, self.device(), options) if checked
                          else str(self.settings.vllm or "vllm"))
            return plans.vllm_plan(entry, extra, options, port, executable)
        from ..training import _lf_cli

        return plans.lf_plan(entry, options, port, run_dir or self.settings.checkpoints_dir / "jobs" / "serve-…",
                             _lf_cli() if checked else "llamafactory-cli")

    def submit(self, version_id: str, options: ServeOptions, target: str | None = None) -> Job:
        """Queue the serve job (on an SSH `target`, else here) after every check passed (port, engine); it reports
        `starting` until it answers."""
        if target and target != "local":
            from .remote import submit_remote

            return submit_remote(self, version_id, options, target)
        run_dir = self.settings.checkpoints_dir / "jobs" / f"serve-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        plan = self.plan(version_id, options, run_dir, checked=True)
        run_dir.mkdir(parents=True)
        if plan.config:
            atomic_write_text(Path(plan.config_path), yaml.safe_dump(plan.config, sort_keys=False))
        ProgressWriter(run_dir)("starting", 0, 1, force=True)
        meta = {"version_id": plan.version_id, "engine": plan.engine, "port": plan.port, "base_url": plan.base_url,
                "served": [list(pair) for pair in plan.served], "command": plan.command,
                "options": options.model_dump(mode="json")}
        spec = JobSpec(kind=KIND, name=f"serve {plan.version_id}", argv=plan.argv, cwd=str(self.settings.home),
                       run_dir=str(run_dir), devices=plan.devices, env=plan.env, meta=meta)
        return self.runner.submit(spec)

    def start(self, version_id: str, options: ServeOptions, timeout_s: float = 180.0,
              target: str | None = None) -> tuple[Job, list[ModelEntry]]:
        """Submit and wait until the server answers; returns the job and the endpoint versions registered."""
        job = self.submit(version_id, options, target)
        return self.runner.get(job.id), self.wait_ready(job.id, timeout_s)

    def wait_ready(self, job_id: str, timeout_s: float = 180.0, poll_s: float = 0.3) -> list[ModelEntry]:
        """Block until the job's server answers GET /v1/models (then register it); a job that ends first fails."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.runner.get(job_id)
            if job.status.finished:
                raise JobError("err.serve_exited", job_id=job_id, status=job.status.value,
                               tail=self.runner.log_tail(job_id, 15))
            if job.status is JobStatus.RUNNING and answers(job.meta["base_url"]):
                return self.mark_ready(job)
            if time.monotonic() >= deadline:
                self.runner.stop(job_id)
                raise JobError("err.serve_timeout", job_id=job_id, seconds=int(timeout_s))
            time.sleep(poll_s)

    def mark_ready(self, job: Job) -> list[ModelEntry]:
        """Register one endpoint version per served version (once per job) and report the job `ready`."""
        made = []
        for version_id, model_name in job.meta.get("served", []):
            source = self.models.get(version_id)
            lineage = {"parent_id": source.id, "job_id": job.id, "operation": "serve", "engine": job.meta["engine"],
                       "port": job.meta["port"]}
            made.append(self.models.add_endpoint(f"{source.name}{SUFFIX}"[:100], job.meta["base_url"], model_name,
                                                 version=None, lineage={**lineage, "served_model": model_name}))
        ProgressWriter(Path(job.run_dir))("ready", 1, 1, force=True, endpoints=[entry.id for entry in made])
        return made

    def list(self, limit: int = 200) -> list[ServedRow]:
        """Serve jobs, newest first, with the endpoint versions each one has registered now."""
        endpoints: dict[str, list[str]] = {}
        for entry in self.models.list():
            if entry.kind == "endpoint" and entry.lineage.get("operation") == "serve":
                endpoints.setdefault(entry.lineage.get("job_id"), []).append(entry.id)
        return [ServedRow(job.id, job.status.value, read_progress(job.run_dir).stage, job.meta.get("version_id", ""),
                          job.meta.get("engine", ""), job.meta.get("base_url", ""), endpoints.get(job.id, []))
                for job in self.runner.list(limit) if job.kind == KIND]

    def stop(self, job_id: str, wait_s: float | None = None) -> Job:
        """Stop the whole server tree, then let the one completion pass remove its endpoint versions."""
        job = self.runner.get(job_id)
        if job.kind != KIND:
            raise NotFoundError("err.serve_not_serve_job", job_id=job_id)
        job = self.runner.stop(job_id, wait_s=wait_s if wait_s is not None else self.settings.stop_grace_s + 10)
        if self.reconciler is not None and job.status.finished:
            job = self.reconciler.wait_applied(job_id, timeout_s=10)
        return job

    def sweep(self) -> None:
        """Each reconcile pass: a running server that answers is registered; an ended one's endpoints removed."""
        live = {job.id: job for job in self.runner.list(200) if job.kind == KIND}
        registered = {entry.lineage.get("job_id") for entry in self.models.list()
                      if entry.kind == "endpoint" and entry.lineage.get("operation") == "serve"}
        for job in live.values():
            if job.status is JobStatus.RUNNING and job.id not in registered and answers(job.meta.get("base_url", ""),
                                                                                         timeout_s=0.5):
                self.mark_ready(job)
            elif job.status.finished and job.id in registered:
                retire(self.models, job)


def retire(models: ModelRegistry, job: Job) -> list[str]:
    """Remove the endpoint versions a serve job registered; returns their ids."""
    gone = [entry.id for entry in models.list() if entry.kind == "endpoint"
            and entry.lineage.get("operation") == "serve" and entry.lineage.get("job_id") == job.id]
    for model_id in gone:
        models.remove(model_id)
    return gone


def answers(base_url: str, timeout_s: float = 2.0) -> bool:
    """True when GET {base_url}/models lists at least one model."""
    if not base_url.startswith("http://127.0.0.1:"):
        return False  # only servers this machine started are probed
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout_s) as response:
            return bool(json.loads(response.read()).get("data"))
    except (OSError, ValueError, AttributeError):
        return False
