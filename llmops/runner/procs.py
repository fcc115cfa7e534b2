"""Process identity and whole-tree signalling; pid reuse is guarded by start times."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import psutil


def start_time(pid: int) -> float | None:
    """The kernel's start time of `pid`, or None when it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def is_alive(pid: int | None, started: float | None) -> bool:
    """True only for the very process recorded: same pid, same start time, not a zombie."""
    if not pid or started is None:
        return False
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - started) > 0.05:
            return False  # the pid was reused by another process
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants, leaves first."""
    try:
        root = psutil.Process(pid)
        return [*reversed(root.children(recursive=True)), root]
    except psutil.NoSuchProcess:
        return []


def signal_tree(pid: int, sig: int) -> None:
    """Send `sig` to every process of the tree, children before their parent."""
    for proc in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.send_signal(sig)


def kill_tree(pid: int, pgid: int | None = None, timeout: float = 5.0) -> None:
    """SIGKILL the tree and its process group, then wait until none of it is left."""
    members = tree(pid)
    if pgid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    for proc in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.kill()
    psutil.wait_procs(members, timeout=timeout)


def group_members(pgid: int) -> list[int]:
    """Pids still in process group `pgid` (children that re-parented included)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
    return found


def wait_gone(pids: list[int], timeout: float) -> bool:
    """Wait until none of `pids` runs; True if they all ended in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(pid) and _not_zombie(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
