"""What accelerators this machine has — the one probe training, planning and the local backends ask; torch is
imported only on first ask."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from ..lf.render import Placement


@dataclass(frozen=True)
class DeviceInfo:
    """The local accelerators as training sees them."""

    cuda: bool = False
    count: int = 0
    names: tuple[str, ...] = field(default_factory=tuple)
    memory_gb: tuple[float, ...] = field(default_factory=tuple)
    bf16: bool = False

    @property
    def placement(self) -> Placement:
        return Placement(cuda=self.cuda, bf16_supported=self.bf16, gpu_count=self.count)

    @property
    def dtype_name(self) -> str:
        """The torch dtype local inference uses here: bf16 on CUDA that has it, else fp16 on CUDA, else fp32."""
        if not self.cuda:
            return "float32"
        return "bfloat16" if self.bf16 else "float16"

    def describe(self) -> str:
        """One line for the UI and the CLI."""
        if not self.cuda:
            return "CPU only (fp32)"
        gpus = ", ".join(f"{name} {mem:.0f} GB" for name, mem in zip(self.names, self.memory_gb, strict=False))
        return f"{self.count}× CUDA: {gpus} ({'bf16' if self.bf16 else 'fp16'})"


@functools.lru_cache(maxsize=1)
def probe() -> DeviceInfo:
    """Ask torch once; a missing or broken CUDA simply means CPU."""
    import torch

    if not torch.cuda.is_available():
        return DeviceInfo()
    count = torch.cuda.device_count()
    props = [torch.cuda.get_device_properties(index) for index in range(count)]
    return DeviceInfo(
        cuda=True,
        count=count,
        names=tuple(prop.name for prop in props),
        memory_gb=tuple(prop.total_memory / 1024**3 for prop in props),
        bf16=bool(torch.cuda.is_bf16_supported()),
    )
