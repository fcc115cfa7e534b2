"""The machine the studio runs on: CPU, memory, the workspace's disk, and each GPU through NVML."""

from __future__ import annotations

import importlib
import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

NVML_MODULE = "pynvml"  # installed by the nvidia-ml-py package


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as NVML reports it; a figure the device does not report is None, never 0."""

    index: int
    name: str
    memory_used: int
    memory_total: int
    utilisation: int | None
    temperature_c: int | None


@dataclass(frozen=True)
class GpuStatus:
    """Every GPU NVML sees, or why there is none to show (no library, no driver, no device)."""

    gpus: tuple[GpuInfo, ...] = ()
    reason: str = ""

    @property
    def present(self) -> bool:
        return bool(self.gpus)


@dataclass(frozen=True)
class SystemInfo:
    """CPU, memory, disk of the workspace's filesystem, GPUs."""

    cpu_percent: float
    cpu_count: int
    memory_used: int
    memory_total: int
    memory_percent: float
    disk_path: str
    disk_total: int
    disk_used: int
    disk_free: int
    gpu: GpuStatus = field(default_factory=GpuStatus)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["gpu"] = {"present": self.gpu.present, "reason": self.gpu.reason,
                       "gpus": [asdict(g) for g in self.gpu.gpus]}
        return data


def _text(value) -> str:
    """NVML names are bytes in older bindings, str in newer ones."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _optional(nvml, call, *args) -> int | None:
    """A figure some devices do not report (utilisation on a MIG slice, temperature on some boards)."""
    try:
        return int(call(*args))
    except nvml.NVMLError:
        return None


def read_gpus(nvml) -> tuple[GpuInfo, ...]:
    """Every device of an initialised NVML."""
    gpus = []
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        util = _optional(nvml, lambda h: nvml.nvmlDeviceGetUtilizationRates(h).gpu, handle)
        temperature = _optional(nvml, nvml.nvmlDeviceGetTemperature, handle, nvml.NVML_TEMPERATURE_GPU)
        gpus.append(GpuInfo(index, _text(nvml.nvmlDeviceGetName(handle)), int(memory.used), int(memory.total),
                            util, temperature))
    return tuple(gpus)


class GpuProbe:
    """NVML opened once per process; a machine without it is remembered as such, not probed on every refresh."""

    def __init__(self, module: str = NVML_MODULE):
        self.module = module
        self._nvml = None
        self._absent: str | None = None
        self._lock = threading.Lock()

    def _open(self):
        """The initialised binding, or None with `_absent` saying why."""
        if self._nvml is not None or self._absent is not None:
            return self._nvml
        try:
            nvml = importlib.import_module(self.module)
        except ImportError:
            self._absent = f"{self.module} is not installed"
            return None
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:  # no shared library, no driver, no permission: no GPU to show
            self._absent = f"NVML: {exc}"
            return None
        self._nvml = nvml
        return nvml

    def status(self) -> GpuStatus:
        """The GPUs now, or why there are none."""
        with self._lock:
            nvml = self._open()
            if nvml is None:
                return GpuStatus(reason=self._absent or "")
            try:
                gpus = read_gpus(nvml)
            except nvml.NVMLError as exc:  # a device lost or reset between two refreshes
                return GpuStatus(reason=f"NVML: {exc}")
        return GpuStatus(gpus) if gpus else GpuStatus(reason="NVML: no devices")


def start_cpu_window() -> None:
    """Begin the window the next non-blocking CPU reading covers (psutil's first reading is otherwise 0.0)."""
    psutil.cpu_percent(interval=None)


def system_info(home: Path, gpu: GpuProbe, cpu_interval: float | None = None) -> SystemInfo:
    """The figures now; CPU % is over `cpu_interval` seconds, or since the previous call when None (no wait)."""
    memory = psutil.virtual_memory()
    disk = shutil.disk_usage(home)
    return SystemInfo(cpu_percent=float(psutil.cpu_percent(interval=cpu_interval)), cpu_count=psutil.cpu_count() or 1,
                      memory_used=int(memory.total - memory.available), memory_total=int(memory.total),
                      memory_percent=float(memory.percent), disk_path=str(home), disk_total=int(disk.total),
                      disk_used=int(disk.used), disk_free=int(disk.free), gpu=gpu.status())
