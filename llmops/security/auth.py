"""Login beyond loopback: users with salted scrypt hashes, constant-time checks, failed logins rate-limited."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import InvalidInputError, StorageError
from ..settings import Settings
from ..storage import atomic_write_json, file_lock

_NAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
MIN_PASSWORD = 10
# scrypt cost: ~16 MiB and ~50 ms per check, which makes offline guessing of a stolen file expensive.
_N, _R, _P = 2**14, 8, 1


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost (what only this machine can reach)."""
    name = (host or "").strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def hash_password(password: str, salt: bytes | None = None) -> str:
    """'scrypt$N$r$p$salt$hash' (base64) of `password` with a fresh 16-byte salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32, maxmem=64 * 2**20)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash; compared in constant time."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want), maxmem=64 * 2**20)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


_DUMMY = hash_password("not a password", b"\0" * 16)


class UserStore:
    """Users in a JSON file of salted hashes (LLMOPS_USERS_FILE), plus LLMOPS_USERS='name=HASH …' if set."""

    def __init__(self, settings: Settings):
        self.path = settings.users_path

    def users(self) -> dict[str, str]:
        """name -> stored hash."""
        found: dict[str, str] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                found.update({str(k): str(v["hash"]) for k, v in data.get("users", {}).items()})
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
                raise StorageError("err.sec_users_corrupt", path=str(self.path), reason=type(exc).__name__) from None
        for entry in re.split(r"[;\s]+", os.environ.get("LLMOPS_USERS", "")):
            name, sep, stored = entry.partition("=")
            if sep and _NAME.match(name):
                found[name] = stored
        return found

    def add(self, name: str, password: str) -> Path:
        """Add or replace `name`; the file is written atomically with mode 600."""
        if not _NAME.match(name or ""):
            raise InvalidInputError("err.sec_user_bad_name", name=name)
        if len(password or "") < MIN_PASSWORD:
            raise InvalidInputError("err.sec_password_short", min=MIN_PASSWORD)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.path):
            data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {"users": {}}
            data.setdefault("users", {})[name] = {"hash": hash_password(password)}
            atomic_write_json(self.path, data)
        os.chmod(self.path, 0o600)
        return self.path


class LoginLimiter:
    """Failed logins slow down: per user name after a few misses, and for everyone after many, doubling each time."""

    def __init__(self, free_per_user: int = 3, free_overall: int = 20, base_s: float = 2.0, max_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free_per_user, self.free_overall, self.base_s, self.max_s = free_per_user, free_overall, base_s, max_s
        self.clock = clock
        self._lock = threading.Lock()
        self._fails: dict[str, tuple[int, float]] = {}  # name -> (failures, locked until)
        self._overall: tuple[int, float] = (0, 0.0)

    def _delay(self, failures: int, free: int) -> float:
        return 0.0 if failures < free else min(self.max_s, self.base_s * 2 ** (failures - free))

    def retry_after(self, name: str) -> float:
        """Seconds until `name` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            until = max(self._fails.get(name, (0, 0.0))[1], self._overall[1])
        return max(0.0, until - now)

    def record(self, name: str, ok: bool) -> None:
        """Count one attempt; a success clears that name's failures."""
        now = self.clock()
        with self._lock:
            if ok:
                self._fails.pop(name, None)
                return
            count = self._fails.get(name, (0, 0.0))[0] + 1
            self._fails[name] = (count, now + self._delay(count, self.free_per_user))
            total = self._overall[0] + 1
            self._overall = (total, now + self._delay(total, self.free_overall) if total >= self.free_overall else 0.0)
            if len(self._fails) > 10000:  # bounded memory under a spray of random names
                self._fails = dict(list(self._fails.items())[-5000:])


class Authenticator:
    """The callable Gradio's login asks (name, password) -> bool; locked-out names are refused unchecked."""

    def __init__(self, store: UserStore, limiter: LoginLimiter | None = None):
        self.store = store
        self.limiter = limiter or LoginLimiter()

    def __call__(self, name: str, password: str) -> bool:
        if self.limiter.retry_after(name) > 0:
            return False
        stored = self.store.users().get(name)
        ok = verify_password(password, stored or _DUMMY) and stored is not None  # same work for unknown names
        self.limiter.record(name, ok)
        return ok
