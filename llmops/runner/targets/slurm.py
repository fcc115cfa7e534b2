"""Slurm: the sbatch script for a training YAML, and submit / status / cancel through the cluster's own commands."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# sacct/squeue states that mean the job is still queued or running.
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED", "STAGE_OUT"}
COMMANDS = ("sbatch", "squeue", "sacct", "scancel")


@dataclass(frozen=True)
class SbatchPlan:
    """What one sbatch script asks for."""

    job_name: str
    nodes: int
    gpus_per_node: int
    partition: str
    time: str
    master_port: int
    home: str
    lf_cli: str
    yaml_path: str
    output_dir: str


def render_script(plan: SbatchPlan) -> str:
    """The batch script: one task per node, torchrun per node through FORCE_TORCHRUN, node 0 as the master."""
    head = ["#!/bin/bash", f"#SBATCH --job-name={plan.job_name}", f"#SBATCH --nodes={plan.nodes}",
            "#SBATCH --ntasks-per-node=1", f"#SBATCH --time={plan.time}",
            f"#SBATCH --output={plan.output_dir}/slurm-%j.out"]
    if plan.gpus_per_node:
        head.append(f"#SBATCH --gpus-per-node={plan.gpus_per_node}")
    if plan.partition:
        head.append(f"#SBATCH --partition={plan.partition}")
    nproc = plan.gpus_per_node or 1
    # NODE_RANK must be each task's own, so it is read inside srun's shell, not here.
    per_node = ('FORCE_TORCHRUN=1 NNODES="$SLURM_NNODES" NODE_RANK="$SLURM_PROCID" '
                f'NPROC_PER_NODE={nproc} MASTER_ADDR="$MASTER_ADDR" MASTER_PORT="$MASTER_PORT" '
                f'exec {shlex.quote(plan.lf_cli)} train {shlex.quote(plan.yaml_path)}')
    body = ["set -euo pipefail",
            f"cd {shlex.quote(plan.home)}",
            'export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
            f"export MASTER_PORT={plan.master_port}",
            "export LLAMABOARD_ENABLED=1 PYTHONUNBUFFERED=1",
            f"export LLAMABOARD_WORKDIR={shlex.quote(plan.output_dir)}",
            f"srun --kill-on-bad-exit=1 bash -c {shlex.quote(per_node)}"]
    return "\n".join([*head, "", *body, ""])


@dataclass(frozen=True)
class WorkerPlan:
    """A one-node batch job running an llmops worker (evaluation, merge) in its run folder."""

    job_name: str
    partition: str
    time: str
    gpus: int
    home: str
    python: str
    run_dir: str
    workdir: str = ""  # with `command`: where it starts (the home by default)
    command: str = ""  # a job's own command line, already quoted; empty: the llmops job-worker


def render_worker_script(plan: WorkerPlan) -> str:
    """The batch script of a worker job: the same `job-worker` this machine would run (or the job's own command),
    on a node that shares the home."""
    head = ["#!/bin/bash", f"#SBATCH --job-name={plan.job_name}", "#SBATCH --nodes=1", "#SBATCH --ntasks=1",
            f"#SBATCH --time={plan.time}", f"#SBATCH --output={plan.run_dir}/slurm-%j.out"]
    if plan.gpus:
        head.append(f"#SBATCH --gpus-per-node={plan.gpus}")
    if plan.partition:
        head.append(f"#SBATCH --partition={plan.partition}")
    run = plan.command or f"{shlex.quote(plan.python)} -m llmops job-worker {shlex.quote(plan.run_dir)}"
    body = ["set -euo pipefail", f"cd {shlex.quote(plan.workdir or plan.home)}",
            f"export LLMOPS_HOME={shlex.quote(plan.home)} PYTHONUNBUFFERED=1", f"exec {run}"]
    return "\n".join([*head, "", *body, ""])


def missing_commands() -> list[str]:
    """The Slurm commands not found on PATH."""
    return [name for name in COMMANDS if shutil.which(name) is None]


def submit(script: Path, timeout_s: float = 60.0) -> str:
    """`sbatch --parsable SCRIPT`; returns the Slurm job id."""
    done = subprocess.run(["sbatch", "--parsable", str(script)], capture_output=True, text=True, timeout=timeout_s,
                          stdin=subprocess.DEVNULL, cwd=str(script.parent))
    if done.returncode != 0 or not done.stdout.strip():
        raise OSError(f"sbatch failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return done.stdout.strip().split(";")[0]


def state(job_id: str, timeout_s: float = 30.0) -> tuple[str, int | None]:
    """(STATE, exit code or None): squeue while it is queued or running, sacct once it left the queue; '' if unknown."""
    queued = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True,
                            timeout=timeout_s, stdin=subprocess.DEVNULL)
    now = queued.stdout.strip().split()
    if queued.returncode == 0 and now:
        return now[0].upper(), None
    done = subprocess.run(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State,ExitCode"], capture_output=True,
                          text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    rows = [row for row in done.stdout.strip().splitlines() if row.strip()]
    if done.returncode != 0 or not rows:
        return "", None
    name, _, code = rows[0].partition("|")
    exit_code = int(code.split(":")[0]) if code.split(":")[0].isdigit() else None
    return name.split()[0].upper() if name.split() else "", exit_code


def cancel(job_id: str, timeout_s: float = 30.0) -> None:
    """`scancel` the job (Slurm signals every step, then kills after its own grace)."""
    subprocess.run(["scancel", job_id], capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
