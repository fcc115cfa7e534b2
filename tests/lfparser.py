"""LLaMA-Factory's own argument parser in one long-lived process, so its import is paid once per test session."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

# One request per stdin line: [home, {name: args}]; one "RESULTS{...}" line back per request. Each request runs in
# its own home (dataset paths are relative to it), exactly as one `python -c` per request would.
SERVE = """
import json, os, sys
from llamafactory.hparams import get_train_args
for request in sys.stdin:
    home, combos = json.loads(request)
    os.chdir(home)
    results = {}
    for name, args in combos.items():
        try:
            get_train_args(args)
            results[name] = "ok"
        except BaseException as exc:
            results[name] = f"{type(exc).__name__}: {exc}"
    print("RESULTS" + json.dumps(results), flush=True)
"""


class LFParser:
    """`get_train_args` on each named args dict, answered by one worker process."""

    def __init__(self, log: Path):
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        self._log = open(log, "ab")  # noqa: SIM115 - held open for the worker's whole life
        self.proc = subprocess.Popen([sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, env=env)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # the worker exited

    def check(self, home: Path, combos: dict, timeout_s: float = 240) -> dict[str, str]:
        """{name: "ok" or the parser's error} for every args dict, parsed with `home` as the working folder."""
        self.proc.stdin.write(json.dumps([str(home), combos]) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self._lines.get(timeout=timeout_s)
            if not line:
                raise AssertionError(f"the LLaMA-Factory parser process exited, see {self._log.name}")
            if line.startswith("RESULTS"):
                return json.loads(line[len("RESULTS"):])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
