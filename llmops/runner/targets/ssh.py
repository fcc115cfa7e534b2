"""SSH as subprocesses: argv building, reachability, copying a folder over and back, running remote commands."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

UNREACHABLE, REFUSED, OK = "unreachable", "refused", "ok"
_SSH_FAILED = 255  # ssh's own exit status when the connection or the login failed


@dataclass(frozen=True)
class SshAddress:
    """How to reach one box; `key_file` is a path (the agent is used without it), never the key."""

    user_host: str
    port: int = 22
    key_file: str = ""
    known_hosts: str = ""
    connect_timeout_s: int = 5

    def base(self, program: str = "ssh") -> list[str]:
        """ssh/scp options: batch mode (never a password prompt), a known_hosts file of the studio's own."""
        opts = [program, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.connect_timeout_s}",
                "-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=5",
                "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR"]
        if self.known_hosts:
            opts += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        if self.key_file:
            opts += ["-i", self.key_file, "-o", "IdentitiesOnly=yes"]
        opts += ["-p" if program == "ssh" else "-P", str(self.port)]
        return opts

    def argv(self, remote_command: str) -> list[str]:
        """ssh argv that runs `remote_command` (already quoted for the remote shell)."""
        return [*self.base(), self.user_host, remote_command]


def quote(*parts: str) -> str:
    """One remote shell command from words, each quoted."""
    return " ".join(shlex.quote(part) for part in parts)


def run(address: SshAddress, remote_command: str, timeout_s: float = 30.0,
        stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a remote command; a timeout reads as a failed connection (status 255)."""
    try:
        return subprocess.run(address.argv(remote_command), input=stdin, capture_output=True, timeout=timeout_s,
                              stdin=None if stdin is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess([], _SSH_FAILED, b"", b"timed out")


def probe(address: SshAddress) -> tuple[str, str]:
    """(OK|REFUSED|UNREACHABLE, detail): can we log in without a password?"""
    done = run(address, "true", timeout_s=address.connect_timeout_s + 10)
    if done.returncode == 0:
        return OK, ""
    detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = detail[-1] if detail else f"ssh exit status {done.returncode}"
    if "permission denied" in detail.lower() or "too many authentication failures" in detail.lower():
        return REFUSED, detail
    return UNREACHABLE, detail


def connection_failed(done: subprocess.CompletedProcess) -> bool:
    """True when ssh itself failed (not the remote command)."""
    return done.returncode == _SSH_FAILED


def send_folder(address: SshAddress, local: Path, remote: str, timeout_s: float = 600.0) -> None:
    """Copy `local`'s content into `remote` (created) with tar over one ssh connection."""
    with subprocess.Popen(["tar", "-C", str(local), "-cf", "-", "."], stdout=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as pack:
        done = subprocess.run(address.argv(f"mkdir -p {shlex.quote(remote)} && tar -xf - -C {shlex.quote(remote)}"),
                              stdin=pack.stdout, capture_output=True, timeout=timeout_s)
        pack.wait(timeout=timeout_s)
    if done.returncode != 0 or pack.returncode != 0:
        raise OSError(f"copy to {address.user_host}:{remote} failed: {done.stderr.decode('utf-8', 'replace')[-300:]}")


def fetch_folder(address: SshAddress, remote: str, local: Path, exclude: tuple[str, ...] = (),
                 timeout_s: float = 600.0) -> None:
    """Copy `remote`'s content into `local` with tar over one ssh connection."""
    local.mkdir(parents=True, exist_ok=True)
    excludes = " ".join(f"--exclude={shlex.quote(pattern)}" for pattern in exclude)
    remote_cmd = f"tar -C {shlex.quote(remote)} {excludes} -cf - ."
    with subprocess.Popen(address.argv(remote_cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL) as pull:
        unpack = subprocess.run(["tar", "-xf", "-", "-C", str(local)], stdin=pull.stdout, capture_output=True,
                                timeout=timeout_s)
        err = pull.stderr.read() if pull.stderr else b""
        pull.wait(timeout=timeout_s)
    if pull.returncode != 0 or unpack.returncode != 0:
        reason = (err or unpack.stderr).decode("utf-8", "replace")[-300:]
        raise OSError(f"fetch from {address.user_host}:{remote} failed: {reason}")


class Tunnel:
    """A port here forwarded to a port on the box's own loopback (`ssh -N -L`), reopened whenever it dropped: a
    server there stays unreachable from its network and answers here as 127.0.0.1."""

    def __init__(self, address: SshAddress, local_port: int, remote_port: int):
        self.address, self.local_port, self.remote_port = address, int(local_port), int(remote_port)
        self.proc: subprocess.Popen | None = None

    def keep(self) -> None:
        """Open the tunnel, or reopen it when its ssh ended."""
        if self.proc is not None and self.proc.poll() is None:
            return
        forward = f"127.0.0.1:{self.local_port}:127.0.0.1:{self.remote_port}"
        self.proc = subprocess.Popen([*self.address.base(), "-N", "-o", "ExitOnForwardFailure=yes", "-L", forward,
                                      self.address.user_host], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        # Its stderr is the job log's: a refused forward says why there.

    def close(self) -> None:
        """Close the tunnel."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
