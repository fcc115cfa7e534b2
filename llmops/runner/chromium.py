"""Headless Chromium printing an HTML file to PDF: found like the browser tests find it, killed whole on timeout."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import JobError, NotFoundError
from ..settings import Settings
from . import procs

# Where scripts/ensure_browser.sh puts Debian's Chromium, then the names other systems use.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# The flags the browser tests run with: no sandbox (root in containers), nothing reaching the network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
INSTALL_HINT = "bash scripts/ensure_browser.sh"


def find_chromium(settings: Settings) -> Path:
    """The Chromium binary: LLMOPS_CHROMIUM when set, else the system's, else playwright's own download."""
    if settings.chromium is not None:
        if _runnable(settings.chromium):
            return settings.chromium
        raise NotFoundError("err.ev_chromium_missing", where=str(settings.chromium), command=INSTALL_HINT)
    candidates = [SYSTEM_CHROMIUM, *(Path(p) for p in map(shutil.which, _NAMES) if p), *_playwright_builds()]
    for candidate in candidates:
        if _runnable(candidate):
            return candidate
    raise NotFoundError("err.ev_chromium_missing", where=", ".join(str(c) for c in candidates[:3]),
                        command=INSTALL_HINT)


def print_to_pdf(settings: Settings, html: Path, pdf: Path, *, timeout_s: float = 120.0) -> Path:
    """Print `html` (a local file, scripts run first) to `pdf`; the whole browser tree dies on timeout."""
    binary = find_chromium(settings)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_name(pdf.name + ".part")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="llmops-chromium-") as profile:
        # A profile of its own, so two prints (or a user's browser) never share a lock.
        argv = [str(binary), *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                "--run-all-compositor-stages-before-draw", "--virtual-time-budget=15000",
                f"--print-to-pdf={partial}", html.resolve().as_uri()]
        code, output = _run(argv, timeout_s)
    if code is None:
        partial.unlink(missing_ok=True)
        raise JobError("err.ev_pdf_failed", reason=f"timeout after {timeout_s:g} s")
    if not _is_pdf(partial):
        partial.unlink(missing_ok=True)
        raise JobError("err.ev_pdf_failed", reason=f"exit {code}: {output[-500:].strip()}")
    os.replace(partial, pdf)
    return pdf


def _run(argv: list[str], timeout_s: float) -> tuple[int | None, str]:
    """Run `argv` in its own session; (exit code or None on timeout, its last output). Nothing of it outlives us."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            # Chromium leaves helpers (zygote, crashpad) behind its main process: end the whole group.
            procs.kill_tree(proc.pid, pgid=proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        log.seek(0)
        return code, log.read()[-4000:].decode("utf-8", "replace")


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(5) == b"%PDF-"
    except FileNotFoundError:
        return False


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _playwright_builds() -> list[Path]:
    """Chromium builds `playwright install` put in its cache (PLAYWRIGHT_BROWSERS_PATH or ~/.cache/ms-playwright)."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    if not root.is_dir():
        return []
    found = sorted(root.glob("chromium-*/chrome-linux*/chrome"), reverse=True)
    return found + sorted(root.glob("chromium_headless_shell-*/chrome-linux*/headless_shell"), reverse=True)
