"""What a serve job runs: the engine's argv, environment and config for one version, built once for the preview
and the launch alike, with the checks that refuse a start before anything runs."""

from __future__ import annotations

import json
import os
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from ...errors import ConflictError, InvalidInputError, pydantic_details
from ...schemas.models import ModelEntry
from ...settings import Settings
from ..device import DeviceInfo

HOST = "127.0.0.1"
ENGINES = ("llamafactory", "vllm")
VLLM_DTYPES = ("auto", "half", "float16", "bfloat16", "float", "float32")
# vLLM's --max-lora-rank accepts only these values (its default is 16).
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


class ServeOptions(BaseModel):
    """What a user tunes for one server; the vLLM-only fields are refused for the LLaMA-Factory engine."""

    model_config = ConfigDict(extra="forbid")

    engine: Literal["llamafactory", "vllm"] = "llamafactory"
    port: int | None = Field(None, ge=1024, le=65535)
    template: str | None = Field(None, max_length=64)
    # More adapter versions of the same base on one vLLM server (`--lora-modules`).
    adapters: list[str] = Field(default_factory=list, max_length=32)
    tensor_parallel_size: int | None = Field(None, ge=1, le=64)
    gpu_memory_utilization: float | None = Field(None, gt=0.0, le=1.0)
    max_model_len: int | None = Field(None, ge=16)
    dtype: Literal["auto", "half", "float16", "bfloat16", "float", "float32"] | None = None

    @pydantic.model_validator(mode="after")
    def _engine_fields(self) -> ServeOptions:
        if self.engine == "llamafactory":
            used = [name for name in ("tensor_parallel_size", "gpu_memory_utilization", "max_model_len", "dtype")
                    if getattr(self, name) is not None] + (["adapters"] if self.adapters else [])
            if used:
                raise ValueError(f"only the vllm engine takes {', '.join(used)}")
        return self


def parse_options(values: dict) -> ServeOptions:
    """Typed options; refused values become one user error."""
    try:
        return ServeOptions(**values)
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.serve_options", details=pydantic_details(exc)) from None


def options_from_pairs(pairs: list[str], **given) -> ServeOptions:
    """Options from `--set KEY=VALUE` pairs (adapters comma-separated) and the named flags."""
    values: dict = {key: value for key, value in given.items() if value is not None}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise InvalidInputError("err.serve_set_pair", pair=pair)
        values[key] = [part.strip() for part in value.split(",") if part.strip()] if key == "adapters" else value
    return parse_options(values)


@dataclass(frozen=True)
class ServePlan:
    """One server: what runs, where it answers, and which registered versions it serves under which model name."""

    engine: str
    version_id: str
    port: int
    argv: list[str]
    env: dict[str, str]
    devices: str
    served: list[tuple[str, str]]  # (version id, the model name a client asks for)
    config: dict = field(default_factory=dict)  # the LLaMA-Factory api YAML (empty for vLLM)
    config_path: str = ""

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def command(self) -> str:
        """The exact command, to copy into a terminal."""
        prefix = " ".join(f"{key}={shlex.quote(value)}" for key, value in self.env.items())
        return f"{prefix} {shlex.join(self.argv)}".strip()


def port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (a socket left in TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe_socket.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind((HOST, 0))
        return int(probe_socket.getsockname()[1])


def require_port(port: int) -> None:
    """Refuse a port something already listens on, before any job is created."""
    if not port_free(port):
        raise ConflictError("err.serve_port_in_use", port=port)


def lf_plan(entry: ModelEntry, options: ServeOptions, port: int, run_dir: Path, lf_cli: str) -> ServePlan:
    """`llamafactory-cli api` for a base, base + adapter or merged version."""
    config = {"model_name_or_path": entry.path, "template": options.template or entry.template or "default",
              "infer_backend": "huggingface", "trust_remote_code": bool(entry.trust_remote_code)}
    if entry.kind == "adapter":
        config.update(adapter_name_or_path=entry.adapter, finetuning_type="lora")
    path = str(Path(run_dir) / "serve.yaml")
    env = {"API_HOST": HOST, "API_PORT": str(port), "API_MODEL_NAME": entry.id}
    # One server per job, never in a device queue: a server that waited for a training to end would never answer.
    return ServePlan("llamafactory", entry.id, port, [lf_cli, "api", path], env, "none", [(entry.id, entry.id)],
                     config, path)


def vllm_plan(entry: ModelEntry, extra: list[ModelEntry], options: ServeOptions, port: int,
              executable: str) -> ServePlan:
    """`vllm serve MODEL ...` with every adapter version as a LoRA module of the one base."""
    adapters = ([entry] if entry.kind == "adapter" else []) + list(extra)
    for other in extra:
        if other.kind != "adapter" or other.path != entry.path:
            raise InvalidInputError("err.serve_vllm_adapter_base", model_id=other.id, base=entry.path)
    argv = [executable, "serve", str(entry.path), "--host", HOST, "--port", str(port)]
    if not adapters:
        argv += ["--served-model-name", entry.id]
    else:
        argv += ["--enable-lora", "--lora-modules", *[f"{item.id}={item.adapter}" for item in adapters]]
        rank = max(_lora_rank(item.adapter) for item in adapters)
        if rank > 16:
            argv += ["--max-lora-rank", str(next((r for r in VLLM_LORA_RANKS if r >= rank), VLLM_LORA_RANKS[-1]))]
    for flag, value in (("--tensor-parallel-size", options.tensor_parallel_size),
                        ("--gpu-memory-utilization", options.gpu_memory_utilization),
                        ("--max-model-len", options.max_model_len), ("--dtype", options.dtype)):
        if value is not None:
            argv += [flag, str(value)]
    if entry.trust_remote_code:
        argv.append("--trust-remote-code")
    gpus = ",".join(str(index) for index in range(options.tensor_parallel_size or 1))
    served = [(item.id, item.id) for item in adapters] or [(entry.id, entry.id)]
    return ServePlan("vllm", entry.id, port, argv, {}, gpus, served)


def require_vllm(settings: Settings, device: DeviceInfo, options: ServeOptions) -> str:
    """The vLLM executable, or a clear refusal: not set, not an executable, or no GPU to run it on."""
    if settings.vllm is None:
        raise InvalidInputError("err.serve_vllm_unset")
    path = Path(settings.vllm)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise InvalidInputError("err.serve_vllm_not_exec", path=str(path))
    if not device.cuda:
        raise InvalidInputError("err.serve_no_gpu")
    if (options.tensor_parallel_size or 1) > device.count:
        raise InvalidInputError("err.serve_tp_gpus", size=options.tensor_parallel_size, count=device.count)
    return str(path)


def _lora_rank(adapter: str | None) -> int:
    try:
        data = json.loads((Path(adapter or "") / "adapter_config.json").read_text(encoding="utf-8"))
        return int(data.get("r") or 0)
    except (OSError, ValueError, TypeError):
        return 0
