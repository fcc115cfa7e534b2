"""Serving on an SSH box: the same engines started there, bound to the box's own loopback, and reached from here
through an SSH tunnel, so the endpoint registered is http://127.0.0.1:PORT/v1 like a local one."""

from __future__ import annotations

import random
import shlex
import sys
import time
import uuid
from pathlib import Path

import yaml

from ...errors import ConflictError, InvalidInputError
from ...i18n import Message
from ...runner.targets import PLAN_FILE, ssh
from ...schemas.jobs import Job, JobSpec
from ...schemas.targets import SshTarget
from ...storage import atomic_write_json, atomic_write_text
from ..jobkinds.registry import ProgressWriter
from ..targets import STAGE_DIR, TargetsService
from ..targets_work import last_line, require_on_box
from . import plan as plans
from .plan import ServeOptions

KIND = "serve"
CONFIG = "serve.yaml"


def submit_remote(serving, version_id: str, options: ServeOptions, name: str) -> Job:
    """Queue a serve job on target `name` after every check passed there (files, engine, GPUs, port)."""
    targets = TargetsService(serving.settings)
    target = targets.get(name)
    if not isinstance(target, SshTarget):
        raise InvalidInputError("err.target.serve_ssh_only", name=name, type=target.type)
    entry = serving.models.get(version_id)
    if entry.kind == "endpoint":
        raise InvalidInputError("err.serve_endpoint", model_id=entry.id)
    targets.require_usable(target)
    extra = [serving.models.get(model_id) for model_id in options.adapters if model_id != entry.id]
    needs = [("targets.what.model", entry.path or "")]
    needs += [("targets.what.adapter", item.adapter) for item in (entry, *extra) if item.adapter]
    require_on_box(targets, target, needs)
    address = targets.address(target)
    remote_port = _remote_port(address, target, options.port)
    if options.engine == "vllm":
        _require_vllm_there(address, target, options)
        plan = plans.vllm_plan(entry, extra, options, remote_port, target.vllm)
    else:
        _require_command(address, target, target.lf_cli, "llamafactory")
        plan = plans.lf_plan(entry, options, remote_port, Path("."), target.lf_cli)
    run_dir = serving.settings.checkpoints_dir / "jobs" / f"serve-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    stage = run_dir / STAGE_DIR
    stage.mkdir(parents=True)
    if plan.config:
        atomic_write_text(stage / CONFIG, yaml.safe_dump(plan.config, sort_keys=False, allow_unicode=True))
    local_port = plans.free_port()
    atomic_write_json(run_dir / PLAN_FILE, {
        "type": "ssh", "target": target.name, "user_host": target.user_host, "port": target.port,
        "key_file": target.key_file, "known_hosts": str(serving.settings.known_hosts_path),
        "remote_root": f"{target.remote_dir.rstrip('/')}/{run_dir.name}", "stage_dir": str(stage),
        "shell": shlex.join(plan.argv), "env": plan.env, "grace_s": serving.settings.stop_grace_s,
        "lost_after_s": serving.settings.target_lost_after_s,
        "tunnel": {"local_port": local_port, "remote_port": remote_port}})
    ProgressWriter(run_dir)("starting", 0, 1, force=True)
    meta = {"version_id": plan.version_id, "engine": plan.engine, "port": local_port, "remote_port": remote_port,
            "base_url": f"http://{plans.HOST}:{local_port}/v1", "served": [list(pair) for pair in plan.served],
            "command": plan.command, "options": options.model_dump(mode="json"), "target": target.name,
            "target_type": target.type}
    spec = JobSpec(kind=KIND, name=f"serve {plan.version_id} @{target.name}", cwd=str(serving.settings.home),
                   argv=[sys.executable, "-m", "llmops.runner.targets.watch", str(run_dir)], run_dir=str(run_dir),
                   devices="none", meta=meta)
    return serving.runner.submit(spec)


def _remote_port(address: ssh.SshAddress, target: SshTarget, wanted: int | None) -> int:
    """The port the server takes on the box's loopback: the one asked for if it is free there, else a free one."""
    for port in [wanted] if wanted else random.sample(range(20000, 60000), 5):
        probe = f"import socket; s = socket.socket(); s.bind(('127.0.0.1', {port}))"
        done = ssh.run(address, f"{ssh.quote(target.python)} -c {ssh.quote(probe)}")
        if done.returncode == 0:
            return int(port)
    if wanted:
        raise ConflictError("err.target.port_in_use_there", port=wanted, name=target.name)
    raise InvalidInputError("err.target.no_port_there", name=target.name, reason=last_line(done))


def _require_command(address: ssh.SshAddress, target: SshTarget, command: str, engine: str) -> None:
    if ssh.run(address, f"command -v {ssh.quote(command)}").returncode != 0:
        raise InvalidInputError("err.target.engine_missing", name=target.name, engine=engine, path=command)


def _require_vllm_there(address: ssh.SshAddress, target: SshTarget, options: ServeOptions) -> None:
    """vLLM must be installed on the box and find as many GPUs there as the tensor-parallel size."""
    _require_command(address, target, target.vllm, "vllm")
    listed = ssh.run(address, "nvidia-smi -L 2>/dev/null")
    count = sum(line.startswith("GPU ") for line in listed.stdout.decode("utf-8", "replace").splitlines())
    if count == 0:
        raise InvalidInputError("err.target.no_gpu_there", name=target.name, what=Message("targets.what.serve"))
    if (options.tensor_parallel_size or 1) > count:
        raise InvalidInputError("err.serve_tp_gpus", size=options.tensor_parallel_size, count=count)
