"""A loopback OpenAI-style server that records every request's path and Authorization header."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

from .servers import QuietHTTPServer

REPLY = json.dumps([{"instruction": "What is checked first?", "output": "The breaker is checked first."}])


class _Recorder(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        return

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        if body.get("stream"):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": None}]}
            payload = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
        else:
            payload = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": REPLY}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def start_recorder() -> QuietHTTPServer:
    """A running recorder on 127.0.0.1; `.seen` lists (path, Authorization) per request."""
    server = QuietHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads, server.seen = True, []
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
