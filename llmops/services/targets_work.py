"""Worker jobs (evaluation, benchmark, merge, sweep, average, dtype cast) on a target: every check before the job exists,
then the plan its watcher runs.

The far side runs the same `python -m llmops job-worker` in a run folder of its own, with a home made of what the
kind ships; the watcher brings back result.json and what the kind names, so the local completion applies as usual.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import replace
from pathlib import Path

from ..errors import InvalidInputError
from ..i18n import Message, t
from ..runner.targets import PLAN_FILE, ray_jobs, slurm, ssh
from ..schemas.jobs import JobSpec
from ..schemas.targets import LocalTarget, RayTarget, SlurmTarget, SshTarget
from ..settings import Settings
from ..storage import atomic_write_json, atomic_write_text
from .jobkinds.registry import PARAMS_FILE, REMOTE_HOME, JobKind, RemoteWork
from .targets import STAGE_DIR, TargetsService, stage_files


def worker_wrap(settings: Settings, kind: JobKind, params, name: str):
    """None for this machine; else a JobSpec wrapper sending the job to target `name`, once every check passed."""
    service = TargetsService(settings)
    target = service.get(name)
    if isinstance(target, LocalTarget):
        return None
    if kind.remote is None:
        raise InvalidInputError("err.target.local_only", name=name, what=Message(kind.title_key))
    if isinstance(target, RayTarget) and not target.shared_path:
        raise InvalidInputError("err.target.ray_needs_shared", name=name, what=Message(kind.title_key))
    service.require_usable(target)
    work = kind.remote(settings, params)
    if isinstance(target, SshTarget):
        require_remote(service, target, work)
    elif isinstance(target, SlurmTarget):
        # A Slurm cluster shares this machine's file system: what the job reads is checked here.
        for what, value in work.needs:
            if value.startswith("/") and not Path(value).exists():
                raise InvalidInputError("err.target.missing_on_target", what=t(what), path=value, name=name)
    return lambda spec: _wrap(service, target, kind, work, spec)


def require_remote(service: TargetsService, target: SshTarget, work: RemoteWork) -> None:
    """The remote Python must import what the job needs, and the weights it reads must already be on the box."""
    address = service.address(target)
    modules = ", ".join(work.imports)
    done = ssh.run(address, f"{ssh.quote(target.python)} -c {ssh.quote(f'import {modules}')}")
    if done.returncode != 0:
        raise InvalidInputError("err.target.remote_python", name=target.name, python=target.python, modules=modules,
                                reason=last_line(done))
    require_on_box(service, target, work.needs)


def require_on_box(service: TargetsService, target: SshTarget, needs) -> None:
    """Each (what, path) with an absolute path must exist on the box (a hub name is the remote's to resolve)."""
    address = service.address(target)
    for what, value in needs:
        if value.startswith(("/", "~")) and ssh.run(address, f"test -e {ssh.quote(value)}").returncode != 0:
            raise InvalidInputError("err.target.missing_on_target", what=t(what), path=value, name=target.name)


def last_line(done) -> str:
    """The last line a failed remote command printed, for a refusal's reason."""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return (lines[-1] if lines else f"exit status {done.returncode}")[:300]


def _wrap(service: TargetsService, target, kind: JobKind, work: RemoteWork, spec: JobSpec) -> JobSpec:
    """The same job, run by a watcher that mirrors the target's run of it into this job."""
    settings, run_dir = service.settings, Path(spec.run_dir)
    worker = {"fetch": [list(item) for item in work.fetch], "result": work.result}
    if isinstance(target, SlurmTarget):
        plan = {"type": "slurm", "target": target.name, "script": str(_sbatch(settings, target, run_dir))}
    else:
        stage = _stage(run_dir / STAGE_DIR, kind, work)
        shell = f'LLMOPS_HOME="$PWD/{REMOTE_HOME}" {{python}} -m llmops job-worker "$PWD"'
        if isinstance(target, SshTarget):
            plan = {"type": "ssh", "target": target.name, "user_host": target.user_host, "port": target.port,
                    "key_file": target.key_file, "known_hosts": str(settings.known_hosts_path),
                    "remote_root": f"{target.remote_dir.rstrip('/')}/{run_dir.name}-{uuid.uuid4().hex[:6]}",
                    "stage_dir": str(stage), "shell": shell.format(python=ssh.quote(target.python)), "env": {},
                    "grace_s": settings.stop_grace_s, "worker": worker}
        else:
            sid = f"llmops-{run_dir.name[:40]}-{uuid.uuid4().hex[:8]}"
            root = f"{target.shared_path.rstrip('/')}/{sid}"
            runtime_env = {"env_vars": {"PYTHONUNBUFFERED": "1"}}
            plan = {"type": "ray", "target": target.name, "submission_id": sid, "shared_root": root,
                    "url": ray_jobs.jobs_address(target.address, target.dashboard_port), "stage_dir": str(stage),
                    "entrypoint": f"cd {ssh.quote(root)} && {shell.format(python=ssh.quote(target.python))}",
                    "runtime_env": runtime_env, "worker": worker}
    plan["lost_after_s"] = settings.target_lost_after_s
    atomic_write_json(run_dir / PLAN_FILE, plan)
    argv = [sys.executable, "-m", "llmops.runner.targets.watch", str(run_dir)]
    return replace(spec, argv=argv, devices="none", meta={**spec.meta, "target": target.name,
                                                          "target_type": target.type})


def _stage(stage: Path, kind: JobKind, work: RemoteWork) -> Path:
    """The remote run folder as built here: params.json as the far side reads it, and what the kind ships."""
    stage_files(stage, work.ship, package=True)
    atomic_write_json(stage / PARAMS_FILE, {"kind": kind.name, "params": work.params})
    for folder in (REMOTE_HOME, *work.folders):
        (stage / folder).mkdir(parents=True, exist_ok=True)
    for where, content in work.write:
        (stage / where).parent.mkdir(parents=True, exist_ok=True)
        (stage / where).write_bytes(content)
    return stage


def _sbatch(settings: Settings, target: SlurmTarget, run_dir: Path) -> Path:
    """A one-node batch script running the worker in place: the cluster sees this home at the same path."""
    text = slurm.render_worker_script(slurm.WorkerPlan(
        job_name=run_dir.name[:64], partition=target.partition, time=target.time, gpus=min(target.gpus_per_node, 1),
        home=str(settings.home), python=sys.executable, run_dir=str(run_dir)))
    script = run_dir / "job.sbatch"
    atomic_write_text(script, text)
    return script
