"""API keys bound to hosts: a key variable is sent only to the base URLs the operator bound it to.

Bindings come from two places no API of the app writes: the LLMOPS_KEY_BINDINGS environment variable
("VAR=url[,url] VAR2=url", entries separated by spaces or ';') and <home>/configs/credentials.yaml
(a mapping VAR -> url or list of urls). Both are merged; a file that others may write is refused.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from urllib.parse import urlsplit

import yaml

from ..errors import InvalidInputError, PermissionDeniedError, StorageError
from ..settings import Settings

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class KeyNotBound(PermissionDeniedError):
    """A key variable was aimed at a base URL it is not bound to."""


@dataclass(frozen=True)
class Target:
    """A base URL reduced to what decides where a request goes: scheme, host, port and path."""

    scheme: str
    host: str
    port: int
    path: str

    def covers(self, other: Target) -> bool:
        """True when `other` is this URL or lies below its path on the same scheme, host and port."""
        same = (self.scheme, self.host, self.port) == (other.scheme, other.host, other.port)
        return same and (other.path == self.path or other.path.startswith(self.path.rstrip("/") + "/"))


def has_userinfo(url: str) -> bool:
    """True when `url` carries a user name or password (user:pass@host); such a URL is never accepted or shown."""
    text = (url or "").strip()
    authority = text.split("://", 1)[1] if "://" in text else text
    return "@" in re.split(r"[/?#\\]", authority, maxsplit=1)[0]


def target(url: str) -> Target | None:
    """The Target of an http(s) URL, or None when it is not one (or carries user-info)."""
    if has_userinfo(url) or "\\" in (url or "") or any(ch.isspace() for ch in (url or "").strip()):
        return None
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    path = re.sub(r"/+", "/", parts.path or "/").rstrip("/") or "/"
    if "/../" in path + "/" or "/./" in path + "/":
        return None  # a dotted path could climb out of the bound prefix on the server side
    return Target(scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORTS[scheme], path)


def parse_bindings(text: str, source: str = "LLMOPS_KEY_BINDINGS") -> dict[str, tuple[str, ...]]:
    """'VAR=url[,url] VAR2=url' as {VAR: (url, …)}; a malformed entry is an error, not ignored."""
    found: dict[str, tuple[str, ...]] = {}
    for entry in re.split(r"[;\s]+", text or ""):
        if not entry:
            continue
        name, sep, urls = entry.partition("=")
        _add(found, name, [u for u in urls.split(",") if u] if sep else [], source)
    return found


def _add(found: dict[str, tuple[str, ...]], name: str, urls: list, source: str) -> None:
    name = str(name).strip()
    if not _ENV_NAME.match(name):
        raise InvalidInputError("err.sec_bindings_invalid", source=source, reason=f"bad variable name {name[:40]!r}")
    if not urls or not all(isinstance(u, str) and target(u) for u in urls):
        raise InvalidInputError("err.sec_bindings_invalid", source=source,
                              reason=f"{name} needs one or more http(s) URLs without user-info")
    found[name] = found.get(name, ()) + tuple(u.strip() for u in urls)


def _file_bindings(settings: Settings) -> dict[str, tuple[str, ...]]:
    path = settings.credentials_path
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    source = str(path)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionDeniedError("err.sec_bindings_invalid", source=source, reason="others may write it (chmod 600)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StorageError("err.sec_bindings_invalid", source=source, reason=type(exc).__name__) from None
    if not isinstance(data, dict):
        raise InvalidInputError("err.sec_bindings_invalid", source=source, reason="expected VAR: [url, …]")
    found: dict[str, tuple[str, ...]] = {}
    for name, urls in data.items():
        _add(found, str(name), [urls] if isinstance(urls, str) else list(urls or []), source)
    return found


def bindings(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Every bound key variable and its base URLs (environment and file merged); read fresh at each call."""
    merged = parse_bindings(settings.key_bindings)
    for name, urls in _file_bindings(settings).items():
        merged[name] = merged.get(name, ()) + urls
    return merged


def credential_choices(settings: Settings) -> list[tuple[str, str]]:
    """(label, variable) pairs for a picker: each bound variable with the hosts it may be sent to."""
    return [(f"{name} → {', '.join(urls)}", name) for name, urls in sorted(bindings(settings).items())]


def is_bound(settings: Settings, env_name: str, url: str) -> bool:
    """True when the key in `env_name` may be sent to the base URL `url`."""
    wanted = target(url)
    if wanted is None:
        return False
    return any(t is not None and t.covers(wanted) for t in map(target, bindings(settings).get(env_name, ())))


def require_bound(settings: Settings, env_name: str, url: str) -> None:
    """Refuse (before any request is made) to send the key in `env_name` to a URL it is not bound to.

    Enforced when the settings are restricted (the app); the CLI's user names both key and URL themselves.
    """
    if has_userinfo(url):
        raise InvalidInputError("err.sec_url_userinfo")
    if settings.restricted and not is_bound(settings, env_name, url):
        raise KeyNotBound("err.sec_key_unbound", env=env_name, url=url, file=str(settings.credentials_path))
