"""A small OpenAI-compatible judge on 127.0.0.1 whose verdicts are known in advance.

The answer being judged tells the rubric judge how to misbehave ("html", "e500", "prose", "range", "float",
"missing", "fence", "slow", "echo"); otherwise it grades every dimension with the first digit of the answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from .servers import QuietHTTPServer

DIMENSIONS = ("accuracy", "relevance", "fluency", "professionalism")
_PAIR = re.compile(r"\[(?:Answer|回答) A\]\n(.*?)\n\n\[(?:Answer|回答) B\]\n(.*?)\n\n", re.DOTALL)
_SINGLE = re.compile(r"\[(?:Assistant's answer|助手的回答)\]\n(.*?)\n\n", re.DOTALL)


@dataclass
class Reply:
    """What the server answers: a chat message's content, or (raw) a whole body of its own."""

    content: str
    status: int = 200
    raw: bool = False
    content_type: str = "application/json"
    delay: float = 0.0


# (prompt, how many times this prompt was asked before, request headers) -> Reply
Behaviour = Callable[[str, int, dict], Reply]


def answers(prompt: str) -> tuple[str, str]:
    """Answers A and B of a default pairwise prompt (en or zh)."""
    found = _PAIR.search(prompt)
    assert found, prompt
    return found.group(1), found.group(2)


def longer_wins(prompt: str, n: int, headers: dict) -> Reply:
    """A consistent judge: the longer answer wins whatever its position; equal lengths tie."""
    first, second = answers(prompt)
    winner = "A" if len(first) > len(second) else "B" if len(second) > len(first) else "tie"
    return Reply(json.dumps({"winner": winner, "reason": "longer"}))


def first_wins(prompt: str, n: int, headers: dict) -> Reply:
    """A judge with total position bias: answer A always wins."""
    return Reply(json.dumps({"winner": "A", "reason": "first"}))


def rubric(prompt: str, n: int, headers: dict) -> Reply:
    """A rubric judge steered by the answer it grades (see the module's docstring)."""
    found = _SINGLE.search(prompt)
    assert found, prompt
    answer = found.group(1)
    digit = re.search(r"[1-5]", answer)
    scores = dict.fromkeys(DIMENSIONS, int(digit.group()) if digit else 3)
    word = answer.split()[0] if answer.split() else ""
    if word == "html":
        return Reply("<html><body>Gateway</body></html>", raw=True, content_type="text/html")
    if word == "e500":
        return Reply(f"<html>upstream failed for {headers.get('authorization', '')}</html>", status=500, raw=True,
                     content_type="text/html")
    if word == "prose":
        return Reply("The answer is quite good, I would give it a four.")
    if word == "range":
        scores["accuracy"] = 7
    if word == "float":
        scores["fluency"] = 4.5
    if word == "missing":
        del scores["relevance"]
    body = {**scores, "reason": "graded"}
    if word == "echo":
        body["reason"] = f"you sent {headers.get('authorization', '')}"
    text = json.dumps(body)
    if word == "fence":
        text = f"```json\n{text}\n```"
    return Reply(text, delay=5.0 if word == "slow" else 0.0)


def rate_limited_once(inner: Behaviour) -> Behaviour:
    """HTTP 429 the first time each prompt is asked, then `inner`'s answer."""
    def behaviour(prompt: str, n: int, headers: dict) -> Reply:
        if n == 0:
            return Reply(json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}), status=429, raw=True)
        return inner(prompt, n, headers)
    return behaviour


class JudgeServer:
    """A threaded loopback server for /v1/chat/completions; counts every request it gets."""

    def __init__(self, behaviour: Behaviour):
        self.behaviour = behaviour
        self.requests = 0
        self.seen: Counter = Counter()
        self.auth: list[str] = []
        self.lock = threading.Lock()
        self.httpd = QuietHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> JudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                prompt = request["messages"][-1]["content"]
                with server.lock:
                    server.requests += 1
                    n = server.seen[prompt]
                    server.seen[prompt] += 1
                    server.auth.append(self.headers.get("Authorization", ""))
                reply = server.behaviour(prompt, n, {k.lower(): v for k, v in self.headers.items()})
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.content if reply.raw else json.dumps({
                    "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": request.get("model", ""),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply.content}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                data = body.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    return  # the client gave up (a timeout test)

        return Handler
