"""Start the real app as a subprocess on a free port, for gradio_client and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def connect(url: str, **kwargs):
    """A gradio_client Client whose requests wait out a busy machine: httpx's 5 s default read timeout (the API
    description is fetched at connect) is too short while other tests load both cores; streams keep no limit."""
    import httpx
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(60.0, read=None)}, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    """`python app.py` in its own process, killable like a real crash."""

    def __init__(self, home: Path, port: int | None = None, lang: str = "en", env: dict | None = None,
                 args: tuple[str, ...] = ()):
        self.home, self.port, self.lang = home, port or free_port(), lang
        # Tests keep models and inputs beside the home, so the pytest temp root is an operator-allowed folder
        # unless a test says otherwise (the security tests do).
        self.env = {"LLMOPS_ALLOWED_DIRS": str(home.parent.parent), **(env or {})}
        self.args = tuple(args)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 90.0) -> "AppProcess":
        env = {**os.environ, "LLMOPS_HOME": str(self.home), "LLMOPS_LANG": self.lang, "GRADIO_ANALYTICS_ENABLED": "0",
               "LLMOPS_STRICT_I18N": "1",
               **self.env}
        log = open(self.home / f"app-{self.port}.log", "ab")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(self.port), *self.args],
                                     cwd=ROOT,
                                     env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited early, see {log.name}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("app did not answer in time")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM; if a client's event stream still holds the server after a moment, SIGINT cuts it at once (uvicorn's
        Ctrl+C-twice) rather than sitting out the app's 3 s graceful-shutdown wait on every stop."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(0.3)
                return
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class AppStarter:
    """Starts apps and remembers them, so one place stops every app a test (or a test module) started."""

    def __init__(self, default_home: Path | None = None):
        self.default_home = default_home
        self.started: list[AppProcess] = []

    def __call__(self, home: Path | None = None, *, lang: str = "en", env: dict | None = None, args: tuple = (),
                 launch: bool = True) -> AppProcess:
        """An app on `home` (the starter's default when None), started unless `launch` is False."""
        if home is None and self.default_home is None:
            raise ValueError("this starter has no default home: pass one")
        app = AppProcess(home or self.default_home, lang=lang, env=env, args=args)
        self.started.append(app)
        return app.start() if launch else app

    def stop_all(self) -> None:
        for app in self.started:
            app.stop()
        self.started.clear()


def finished(runner, job_id: str, timeout_s: float, expect: str | None = "COMPLETED"):
    """Wait for a job to end; a timeout or another end state fails with the job's own log, never falls through."""
    job = runner.wait(job_id, timeout_s)
    if not job.status.finished:
        raise AssertionError(f"job {job_id} still {job.status.value} after {timeout_s} s:\n{runner.log_tail(job_id, 40)}")
    if expect is not None and job.status.value != expect:
        raise AssertionError(f"job {job_id} ended {job.status.value} ({job.message}), expected {expect}:\n"
                             f"{runner.log_tail(job_id, 40)}")
    return job
