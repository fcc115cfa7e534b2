"""The copy-paste commands for a rendered config: single GPU, multi-GPU, multi-node."""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Commands:
    """Three ways to run one YAML by hand, from the studio's home folder."""

    single: str
    multi_gpu: str
    multi_node: str

    def as_text(self, home: str) -> str:
        """A block a user can paste into a terminal."""
        return (
            f"cd {shlex.quote(home)}\n"
            f"{self.single}\n\n"
            f"# all GPUs of this machine\n{self.multi_gpu}\n\n"
            f"# several machines: run on each, NODE_RANK=0..NNODES-1\n{self.multi_node}\n"
        )


def train_argv(cli: str, yaml_path: str) -> list[str]:
    """The argv the runner launches (never a shell string)."""
    return [cli, "train", yaml_path]


def commands_for(yaml_rel: str, gpus: int = 8) -> Commands:
    """Commands for a YAML path given relative to the home."""
    target = shlex.quote(yaml_rel)
    return Commands(
        single=f"llamafactory-cli train {target}",
        multi_gpu=f"FORCE_TORCHRUN=1 NPROC_PER_NODE={gpus} llamafactory-cli train {target}",
        multi_node=(
            f"FORCE_TORCHRUN=1 NNODES=2 NODE_RANK=0 NPROC_PER_NODE={gpus} "
            f"MASTER_ADDR=192.168.0.1 MASTER_PORT=29500 llamafactory-cli train {target}"
        ),
    )
