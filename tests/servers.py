"""A real OpenAI-compatible server on 127.0.0.1: `llamafactory-cli api` serving the tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import yaml

from .apphelpers import free_port


class LFApiServer:
    """`llamafactory-cli api` for one model (optionally with a LoRA adapter)."""

    def __init__(self, model_dir: Path, workdir: Path, name: str = "tiny", adapter: Path | None = None):
        self.model_dir, self.workdir, self.name, self.adapter = model_dir, workdir, name, adapter
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> "LFApiServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = {"model_name_or_path": str(self.model_dir), "template": "chatml", "infer_backend": "huggingface",
               "trust_remote_code": True}
        if self.adapter:
            cfg.update(adapter_name_or_path=str(self.adapter), finetuning_type="lora")
        path = self.workdir / f"api-{self.port}.yaml"
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        env = {**os.environ, "API_HOST": "127.0.0.1", "API_PORT": str(self.port), "API_MODEL_NAME": self.name}
        cli = str(Path(sys.executable).parent / "llamafactory-cli")
        log = open(self.workdir / f"api-{self.port}.log", "ab")
        self.proc = subprocess.Popen([cli, "api", str(path)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"api server exited, see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                    if json.loads(response.read())["data"]:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("api server did not come up")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(10)


class QuietHTTPServer(ThreadingHTTPServer):
    """A loopback test server whose handler errors (a client gone mid-reply) never reach the shared stderr."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Count the error instead of printing it: another test may be capturing sys.stderr right now."""
        self.errors = getattr(self, "errors", 0) + 1
