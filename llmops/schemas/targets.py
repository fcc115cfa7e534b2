"""Execution targets: where a job runs (this machine, a Ray or Slurm cluster, a GPU box over SSH); no secret is kept."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_USER_HOST = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,31}@[A-Za-z0-9][A-Za-z0-9.\-]{0,252}$")
_RAY_ADDRESS = re.compile(r"^(ray|http|https)://[A-Za-z0-9][A-Za-z0-9.\-]{0,252}(:\d{1,5})?/?$")
_SLURM_TIME = re.compile(r"^(\d+-)?\d{1,3}(:\d{2}){0,2}$")
LOCAL = "local"


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)


class LocalTarget(_Base):
    """This machine: jobs run under the local supervisor."""

    type: Literal["local"] = "local"


class SlurmTarget(_Base):
    """A Slurm cluster reached through `sbatch`/`squeue`/`sacct`/`scancel` on this machine (run folders on a shared path)."""

    type: Literal["slurm"] = "slurm"
    partition: str = Field("", pattern=r"^[A-Za-z0-9_.\-]*$")
    nodes: int = Field(1, ge=1, le=4096)
    gpus_per_node: int = Field(1, ge=0, le=64)
    time: str = "04:00:00"
    master_port: int = Field(29500, ge=1, le=65535)

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _SLURM_TIME.match(value):
            raise ValueError("time must look like HH:MM:SS, MM or D-HH:MM:SS")
        return value


class SshTarget(_Base):
    """A remote box as `user@host`: keys come from the agent or a key file path (the key itself is never stored)."""

    type: Literal["ssh"] = "ssh"
    user_host: str
    port: int = Field(22, ge=1, le=65535)
    key_file: str = ""
    remote_dir: str = "llmops-runs"
    lf_cli: str = "llamafactory-cli"  # the remote llamafactory-cli (a path when it is not on the remote PATH)
    python: str = "python3"  # the remote Python with llmops's dependencies: it runs evaluation and merge jobs there
    vllm: str = "vllm"  # the remote `vllm` executable, for serving there with the vLLM engine
    fetch_checkpoints: bool = False

    @field_validator("user_host")
    @classmethod
    def _user_host(cls, value: str) -> str:
        if not _USER_HOST.match(value):
            raise ValueError("expected user@host")
        return value

    @field_validator("remote_dir", "lf_cli", "python", "vllm")
    @classmethod
    def _plain(cls, value: str) -> str:
        if not value or "\n" in value or "\x00" in value:
            raise ValueError("must be one line")
        return value


class RayTarget(_Base):
    """A Ray cluster reached through its Jobs API: `ray://host:port` (its head's dashboard serves the API) or the
    dashboard's http(s) address; working files go as the job's runtime_env working_dir, or onto `shared_path`."""

    type: Literal["ray"] = "ray"
    address: str
    dashboard_port: int = Field(8265, ge=1, le=65535)  # used for a ray:// address only
    shared_path: str = ""  # a folder this machine and every Ray node see at the same path
    lf_cli: str = "llamafactory-cli"  # llamafactory-cli on the cluster's nodes (a path when not on their PATH)
    python: str = "python"  # the nodes' Python for evaluation and merge jobs (llmops itself travels with the job)
    fetch_checkpoints: bool = False

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _RAY_ADDRESS.match(value.strip()):
            raise ValueError("expected ray://host:port or the dashboard's http://host:port")
        return value.strip().rstrip("/")

    @field_validator("lf_cli", "shared_path", "python")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\x00" in value:
            raise ValueError("must be one line")
        return value


Target = Annotated[LocalTarget | SlurmTarget | SshTarget | RayTarget, Field(discriminator="type")]


class TargetsFile(BaseModel):
    """configs/targets.json: the user's targets (the local one is implied, never stored)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    targets: list[Target] = Field(default_factory=list)


class Health(BaseModel):
    """The outcome of a target's health check."""

    name: str
    type: str
    ok: bool
    detail: str
