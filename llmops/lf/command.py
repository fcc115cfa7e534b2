"""The copy-paste commands for a rendered config: single GPU, multi-GPU, multi-node."""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass

from ..errors import InvalidInputError

_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}"
                   r"[A-Za-z0-9])?)*$")


@dataclass(frozen=True)
class Target:
    """The machine(s) the printed commands are for; 0 GPUs means 'not known here'."""

    gpus_per_node: int = 0
    nnodes: int = 2
    master_addr: str = ""
    master_port: int = 29500

    def __post_init__(self):
        if not (0 <= self.gpus_per_node <= 4096 and 1 <= self.nnodes <= 4096 and 1 <= self.master_port <= 65535):
            raise InvalidInputError("err.train.bad_node_count")
        addr = (self.master_addr or "").strip()
        if addr and not _is_host(addr):
            raise InvalidInputError("err.train.bad_master_addr", addr=addr)
        object.__setattr__(self, "master_addr", addr)

    def with_detected(self, gpu_count: int) -> Target:
        """This target, its GPU count filled from the local probe when the user left it at 0."""
        if self.gpus_per_node or gpu_count <= 0:
            return self
        return Target(gpu_count, self.nnodes, self.master_addr, self.master_port)


def _is_host(addr: str) -> bool:
    try:
        ipaddress.ip_address(addr)
        return True
    except ValueError:
        return bool(_HOST.match(addr))


@dataclass(frozen=True)
class Commands:
    """Three ways to run one YAML by hand, from the studio's home folder."""

    single: str
    multi_gpu: str
    multi_node: str
    gpus_known: bool = True

    def as_text(self, home: str) -> str:
        """A block a user can paste into a terminal."""
        note = "" if self.gpus_known else " (no GPU detected here: set NPROC_PER_NODE to the target's GPU count)"
        return (
            f"cd {shlex.quote(home)}\n"
            f"{self.single}\n\n"
            f"# all GPUs of one machine{note}\n{self.multi_gpu}\n\n"
            f"# several machines: run on each with NODE_RANK=0..NNODES-1\n{self.multi_node}\n"
        )


def train_argv(cli: str, yaml_path: str) -> list[str]:
    """The argv the runner launches (never a shell string)."""
    return [cli, "train", yaml_path]


def commands_for(yaml_rel: str, target: Target | None = None, use_ray: bool = False) -> Commands:
    """Commands for a YAML path given relative to the home, for `target` (GPU count, nodes, master); `use_ray` runs
    the single command in LLaMA-Factory's Ray mode (its workers placed by Ray, no torchrun)."""
    target = target or Target()
    path = shlex.quote(yaml_rel)
    gpus = target.gpus_per_node or 1
    # An unknown master address stays a shell check, so a pasted command stops with a message instead of hanging.
    addr = shlex.quote(target.master_addr) if target.master_addr else '"${MASTER_ADDR:?address of node 0}"'
    return Commands(
        single=f"{'USE_RAY=1 ' if use_ray else ''}llamafactory-cli train {path}",
        multi_gpu=f"FORCE_TORCHRUN=1 NPROC_PER_NODE={gpus} llamafactory-cli train {path}",
        multi_node=(
            f'FORCE_TORCHRUN=1 NNODES={target.nnodes} NODE_RANK="${{NODE_RANK:-0}}" NPROC_PER_NODE={gpus} '
            f"MASTER_ADDR={addr} MASTER_PORT={target.master_port} llamafactory-cli train {path}"
        ),
        gpus_known=bool(target.gpus_per_node),
    )
