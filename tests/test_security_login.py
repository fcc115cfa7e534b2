"""Serving beyond loopback: no users means no start; anonymous callers are refused; failed logins slow down."""

from __future__ import annotations

import http.client
import urllib.parse

import pytest

from llmops.security.auth import Authenticator, LoginLimiter, UserStore, hash_password, verify_password
from llmops.settings import Settings

from .apphelpers import connect

PASSWORD = "correct horse battery"


def test_the_app_refuses_to_start_on_all_interfaces_without_users(settings, app_factory):
    app = app_factory(args=("--host", "0.0.0.0"), launch=False)
    with pytest.raises(RuntimeError, match="exited early"):
        app.start(timeout=60)
    assert app.proc.returncode == 2
    log = (settings.home / f"app-{app.port}.log").read_text(encoding="utf-8")
    assert "python -m llmops users add NAME" in log and "0.0.0.0" in log


@pytest.fixture(scope="module")
def served(tmp_path_factory, module_app_factory):
    home = tmp_path_factory.mktemp("login") / "home"
    home.mkdir()
    store = UserStore(Settings(home=home))
    store.add("alice", PASSWORD)
    store.add("bob", PASSWORD)
    return module_app_factory(home, args=("--host", "0.0.0.0"))


def login(app, name: str, password: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    try:
        body = urllib.parse.urlencode({"username": name, "password": password})
        conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def status_of(app, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_anonymous_callers_are_refused_and_the_right_password_works(served):
    assert status_of(served, "/gradio_api/info") == 401
    with pytest.raises(Exception):
        connect(served.url).predict(api_name="/data_list")
    client = connect(served.url, auth=("alice", PASSWORD))
    assert client.predict(api_name="/data_list") is not None


def test_repeated_wrong_passwords_are_rate_limited(served):
    statuses = [login(served, "bob", "wrong password!")[0] for _ in range(3)]
    assert statuses == [400, 400, 400]
    status, headers = login(served, "bob", "wrong password!")
    assert status == 429 and int(headers["retry-after"]) >= 1
    assert login(served, "bob", PASSWORD)[0] == 429, "while locked even the right password waits"
    assert login(served, "alice", PASSWORD)[0] == 200, "one name's lock leaves the others alone"


def test_password_hashes_and_the_limiter():
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$") and PASSWORD not in stored and stored != hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored) and not verify_password(PASSWORD + "x", stored)
    now = [0.0]
    limiter = LoginLimiter(free_per_user=2, free_overall=5, base_s=1.0, max_s=8.0, clock=lambda: now[0])
    for _ in range(2):
        limiter.record("eve", False)
    assert limiter.retry_after("eve") == 1.0 and limiter.retry_after("amy") == 0.0
    limiter.record("eve", False)
    assert limiter.retry_after("eve") == 2.0, "the wait doubles"
    for name in ("x1", "x2"):
        limiter.record(name, False)
    assert limiter.retry_after("fresh") > 0, "many failures across names slow everyone down"
    now[0] += 100
    assert limiter.retry_after("eve") == 0.0


def test_locked_names_are_refused_without_checking(tmp_path):
    store = UserStore(Settings(home=tmp_path))
    store.add("carol", PASSWORD)
    check = Authenticator(store, LoginLimiter(free_per_user=1, base_s=60))
    assert check("carol", PASSWORD) and not check("carol", "nope") and not check("carol", PASSWORD)
    assert not check("nobody", PASSWORD)
