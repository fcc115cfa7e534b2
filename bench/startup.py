"""App start to first HTTP 200: this studio vs `llamafactory-cli webui`, measured in the same run."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_to_200(argv: list[str], port: int, env: dict, timeout: float = 120.0) -> float:
    """Seconds from process start to the first HTTP 200 on the port."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=env.get("CWD", ROOT), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"no answer from {argv[0]} in {timeout}s")
    finally:
        proc.terminate()
        proc.wait(20)


def main(rounds: int = 3) -> None:
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as home:
        for _ in range(rounds):
            port = free_port()
            env = {**os.environ, "LLMOPS_HOME": home, "GRADIO_ANALYTICS_ENABLED": "0"}
            ours.append(time_to_200([sys.executable, str(ROOT / "app.py"), "--port", str(port)], port, env))
            port = free_port()
            env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
                   "GRADIO_ANALYTICS_ENABLED": "0", "CWD": home}
            theirs.append(time_to_200([str(BIN / "llamafactory-cli"), "webui"], port, env))
    ours_med, theirs_med = statistics.median(ours), statistics.median(theirs)
    print(f"llmops app.py        start->200: median {ours_med:.2f}s  runs {[round(x, 2) for x in ours]}")
    print(f"llamafactory webui   start->200: median {theirs_med:.2f}s  runs {[round(x, 2) for x in theirs]}")
    print(f"ratio ours/theirs: {ours_med / theirs_med:.2f} (target <= 0.50)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
