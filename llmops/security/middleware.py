"""An ASGI guard in front of the whole Gradio app: Host and Origin checks, no foreign CORS, an upload cap, login limits.

It wraps the outermost app (so Gradio's own CORS middleware sits inside it and can never echo a foreign origin
on a refusal), and every check runs before a byte of the body reaches Gradio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from ..i18n import t
from .auth import LoginLimiter, is_loopback_host

# Routes this app never uses; Gradio serves them to anyone who asks, so they are closed here.
CLOSED_PREFIXES = ("/gradio_api/proxy=", "/gradio_api/vibe", "/gradio_api/undo-vibe", "/gradio_api/dev/",
                   "/monitoring", "/gradio_api/mcp")
# Room for multipart headers around a file exactly at the cap (the file itself is capped by Gradio's own check).
BODY_SLACK = 64 * 1024
_LOGIN_BODY_MAX = 16 * 1024


@dataclass
class Policy:
    """What the guard lets through."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    max_upload_bytes: int = 200 * 2**20
    limiter: LoginLimiter | None = None
    lang: str = "en"
    closed_prefixes: tuple[str, ...] = field(default=CLOSED_PREFIXES)

    @property
    def max_body_bytes(self) -> int:
        return self.max_upload_bytes + BODY_SLACK


def host_name(host: str) -> str:
    """The name part of a Host header ('[::1]:7860' -> '::1', 'Example.com:80' -> 'example.com')."""
    text = (host or "").strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def host_allowed(host: str | None, policy: Policy) -> bool:
    """Loopback names or a configured host; anything else is a DNS-rebinding or misrouted request."""
    if not host or any(ch in host for ch in "/@\\ "):
        return False
    name = host_name(host).rstrip(".")
    return is_loopback_host(name) or name in policy.allowed_hosts


def origin_allowed(origin: str, host: str, policy: Policy) -> bool:
    """The app's own origin (same host and port as the Host header) or a configured one; 'null' never is."""
    text = origin.strip().lower().rstrip("/")
    if text in policy.allowed_origins:
        return True
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == host.strip().lower()


class SecurityMiddleware:
    """The guard itself; `app` is the whole Gradio (FastAPI) app."""

    def __init__(self, app, policy: Policy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan: Gradio's queue starts here
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        reason = self._refusal(scope, headers)
        if reason:
            await self._refuse(scope, send, 403, reason)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > self.policy.max_body_bytes):
            await self._refuse(scope, send, 413, self._too_large())
            return
        if scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login") and self.policy.limiter:
            receive = await self._login_gate(scope, receive, send)
            if receive is None:
                return
        await self._forward(scope, receive, send)

    def _refusal(self, scope, headers: dict[str, str]) -> str | None:
        host = headers.get("host")
        if not host_allowed(host, self.policy):
            return "host not allowed"
        origin = headers.get("origin")
        if origin is not None and not origin_allowed(origin, host or "", self.policy):
            return "cross-origin request"
        if scope["path"].startswith(self.policy.closed_prefixes):
            return "route closed"
        return None

    def _too_large(self) -> str:
        return t("err.sec_upload_too_large", self.policy.lang, limit=f"{self.policy.max_upload_bytes / 2**20:g}")

    async def _forward(self, scope, receive, send) -> None:
        """Pass the request on while counting its body; past the cap it is cut off and answered 413."""
        state = {"seen": 0, "over": False, "started": False}

        async def counted_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > self.policy.max_body_bytes:
                    state["over"] = True
                    return {"type": "http.disconnect"}  # Gradio stops reading; nothing complete is stored
            return message

        async def guarded_send(message):
            if state["over"]:
                return  # whatever Gradio answers to a cut-off body is replaced by our 413
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await self._refuse(scope, send, 413, self._too_large())

    async def _login_gate(self, scope, receive, send):
        """Answer 429 for a locked-out name without asking Gradio; else replay the (small) form body."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > _LOGIN_BODY_MAX:
                await self._refuse(scope, send, 413, self._too_large())
                return None
        body = b"".join(chunks)
        name = (parse_qs(body.decode("utf-8", "replace")).get("username") or [""])[0].strip()
        wait = self.policy.limiter.retry_after(name)
        if wait > 0:
            await self._refuse(scope, send, 429, "too many failed logins", {"retry-after": str(int(wait) + 1)})
            return None
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    async def _refuse(self, scope, send, status: int, reason: str, extra: dict | None = None) -> None:
        """A plain refusal with no CORS headers at all."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        message = reason if status == 413 else t("err.sec_forbidden", self.policy.lang, reason=reason)
        body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), *((k.encode(), v.encode()) for k, v in (extra or {}).items())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
