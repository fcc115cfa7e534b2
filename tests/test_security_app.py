"""The hardened app, attacked through gradio_client and raw HTTP: paths, keys, origins, hosts and the upload cap."""

from __future__ import annotations

import http.client
import json
import os

import pytest

from llmops.services.models import ModelRegistry
from llmops.settings import Settings

from .apphelpers import connect
from .secservers import start_recorder
from .test_app_training_api import form

CANARY = "canary-sk-0123456789abcdef"
BOUND = "bound-sk-fedcba9876543210"
CAP = int(0.05 * 2**20)


@pytest.fixture(scope="module")
def env(tmp_path_factory, module_app_factory):
    """One app for the module: no extra allowed folders, a small upload cap, one key bound to /bound on a recorder."""
    base = tmp_path_factory.mktemp("secapp")
    home, outside, uploads = base / "home", base / "outside", base / "uploads"
    for folder in (home, outside, uploads):
        folder.mkdir()
    recorder = start_recorder()
    port = recorder.server_address[1]
    bound_url, moved_url = f"http://127.0.0.1:{port}/bound/v1", f"http://127.0.0.1:{port}/v1"
    settings = Settings(home=home)
    settings.ensure_dirs()
    registry = ModelRegistry(settings)
    registry.add_endpoint("bound", bound_url, "m")
    registry.add_endpoint("moved", bound_url, "m")
    # The registry file as someone edited it by hand: keys named, and one entry redirected to an unbound path.
    data = json.loads(registry.path.read_text(encoding="utf-8"))
    for entry in data["models"]:
        entry["endpoint"]["api_key_env"] = "BOUND_KEY"
        if entry["name"] == "moved":
            entry["endpoint"]["base_url"] = moved_url
    registry.path.write_text(json.dumps(data), encoding="utf-8")
    (outside / "notes.md").write_text("# Private\n\nThe vault code is 4471, kept far from the app.\n", encoding="utf-8")
    (outside / "corpus.jsonl").write_text(json.dumps({"text": "Private corpus text about the vault code 4471."}) + "\n",
                                          encoding="utf-8")
    (outside / "sft.json").write_text(json.dumps([{"instruction": "vault?", "input": "", "output": "4471"}] * 3),
                                      encoding="utf-8")
    (outside / "model").mkdir()
    (outside / "model" / "config.json").write_text("{}", encoding="utf-8")
    (home / "data" / "link.jsonl").symlink_to(outside / "corpus.jsonl")
    app = module_app_factory(home, env={"LLMOPS_ALLOWED_DIRS": "", "GRADIO_TEMP_DIR": str(uploads),
                                        "LLMOPS_MAX_UPLOAD_MB": "0.05",
                                        "LLMOPS_KEY_BINDINGS": f"BOUND_KEY=http://127.0.0.1:{port}/bound",
                                        "BOUND_KEY": BOUND, "CANARY_API_KEY": CANARY})
    yield {"app": app, "home": home, "outside": outside, "uploads": uploads, "recorder": recorder, "port": port,
           "bound_url": bound_url, "moved_url": moved_url, "settings": settings, "client": connect(app.url)}
    recorder.shutdown()
    recorder.server_close()


def call_api(env, api_name: str, data: list) -> str:
    """POST /gradio_api/call/<api_name> with raw JSON, then read its event stream."""
    _, _, body = request(env, "POST", f"/gradio_api/call/{api_name}", json.dumps({"data": data}).encode(),
                         {"Content-Type": "application/json"})
    event_id = json.loads(body)["event_id"]
    return request(env, "GET", f"/gradio_api/call/{api_name}/{event_id}")[2].decode("utf-8", "replace")


def refused(call) -> str:
    with pytest.raises(Exception) as info:
        call()
    return str(info.value)


# --- allowed roots ------------------------------------------------------------------------------------


def test_paths_outside_the_allowed_roots_are_refused_by_every_api(env):
    client, outside, home = env["client"], env["outside"], env["home"]
    climbing = str(home / "data" / ".." / ".." / os.path.relpath(outside / "corpus.jsonl", home))
    for corpus in (str(outside / "corpus.jsonl"), str(outside / "notes.md"), str(home / "data" / "link.jsonl"), climbing):
        text = refused(lambda c=corpus: client.predict(c, "rules", 0, "", "", "", "", 3, 4, 0, api_name="/data_generate"))
        assert "LLMOPS_ALLOWED_DIRS" in text and "4471" not in text, corpus
    for sft in (str(outside / "sft.json"), str(home / "data" / ".." / ".." / "outside" / "sft.json")):
        text = refused(lambda s=sft: client.predict(s, 0, 0, api_name="/data_mock_prefs"))
        assert "LLMOPS_ALLOWED_DIRS" in text and "4471" not in text
    text = refused(lambda: client.predict("outside-model", str(outside / "model"), api_name="/models_add_local"))
    assert "LLMOPS_ALLOWED_DIRS" in text
    text = refused(lambda: client.predict(*form(env["settings"], "sft", str(outside / "model"), "sample_sft"),
                                          api_name="/sft_preview"))
    assert "LLMOPS_ALLOWED_DIRS" in text
    # A file the caller names by path in raw JSON (not uploaded) never reaches the validator.
    fake = {"path": str(outside / "sft.json"), "meta": {"_type": "gradio.FileData"}}
    events = call_api(env, "data_validate", [fake, "auto", "en"])
    assert "event: error" in events and "4471" not in events and "sft.json" not in events.split("event: error")[0]
    # Nothing was written or registered from any of it.
    generated = list((home / "data" / "llmops").glob("sft_data_*")) + list((home / "data" / "llmops").glob("prefs*"))
    assert generated == []
    assert "outside-model" not in (home / "data" / "llmops" / "models.json").read_text(encoding="utf-8")


def test_files_inside_the_workspace_still_work(env):
    inside = env["home"] / "data" / "mine.md"
    inside.write_text("# Inverter guide\n\n## Reset the inverter\n\nTo reset the inverter, open the breaker, wait one "
                      "minute, then close it again and check that the status light turns green.\n", encoding="utf-8")
    status = env["client"].predict(str(inside), "rules", 0, "", "", "", "", 3, 4, 0, api_name="/data_generate")[0]
    assert "sft_data_" in status


# --- keys bound to hosts --------------------------------------------------------------------------------


def test_a_key_never_reaches_a_host_it_is_not_bound_to(env):
    client, recorder, port = env["client"], env["recorder"], env["port"]
    recorder.seen.clear()
    unbound = f"http://127.0.0.1:{port}/v1"
    text = refused(lambda: client.predict("ep", unbound, "m", "BOUND_KEY", api_name="/models_add_endpoint"))
    assert "not bound" in text and BOUND not in text
    # A variable nobody bound is not even a choice; whichever layer refuses it, the key is never named back.
    assert CANARY not in refused(lambda: client.predict("ep2", unbound, "m", "CANARY_API_KEY",
                                                        api_name="/models_add_endpoint"))
    corpus = str(env["home"] / "data" / "mine.md")
    for key_env in ("BOUND_KEY", "CANARY_API_KEY"):
        refused(lambda k=key_env: client.predict(corpus, "llm", 0, unbound, "m", "", k, 1, 1, 0,
                                                 api_name="/data_generate"))
    # models.json edited to point a bound key elsewhere: the backend refuses at request time.
    refused(lambda: client.predict("hi", "", 0, 1, 8, "moved@v1.0", "bound@v1.0", api_name="/ab_generate"))
    assert [path for path, _ in recorder.seen if not path.startswith("/bound/")] == []  # refused before sending
    assert all(CANARY not in str(auth) for _, auth in recorder.seen)
    # The bound URL does get the key: the check above could have failed.
    client.predict("bound-ok", env["bound_url"], "m", "BOUND_KEY", api_name="/models_add_endpoint")
    client.predict(corpus, "llm", 0, env["bound_url"], "m", "", "BOUND_KEY", 1, 1, 0, api_name="/data_generate")
    assert ("/bound/v1/chat/completions", f"Bearer {BOUND}") in recorder.seen


def test_urls_with_user_info_are_refused_and_never_echoed(env):
    client, recorder = env["client"], env["recorder"]
    recorder.seen.clear()
    url = f"http://user:PW-{CANARY}@127.0.0.1:{env['port']}/bound/v1"
    corpus = str(env["home"] / "data" / "mine.md")
    for call in (lambda: client.predict(corpus, "llm", 0, url, "m", "typed-key-1234", "", 1, 1, 0, api_name="/data_generate"),
                 lambda: client.predict("ui", url, "m", "", api_name="/models_add_endpoint")):
        text = refused(call)
        assert CANARY not in text and "user:" not in text
    assert recorder.seen == []


# --- origins, hosts and the upload cap ------------------------------------------------------------------


def request(env, method: str, path: str, body: bytes = b"", headers: dict | None = None, chunked: bool = False):
    conn = http.client.HTTPConnection("127.0.0.1", env["app"].port, timeout=30)
    try:
        if chunked:
            conn.putrequest(method, path)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for start in range(0, len(body), 8192):
                piece = body[start:start + 8192]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
        else:
            conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (ConnectionError, http.client.HTTPException) as exc:
        return 0, {}, str(exc).encode()
    finally:
        conn.close()


def multipart(size: int) -> tuple[bytes, str]:
    boundary = "XsecBoundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"d.jsonl\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def stored(env) -> list:
    return sorted(p for p in env["uploads"].rglob("*") if p.is_file())


def test_foreign_and_null_origins_are_refused_and_nothing_is_stored(env):
    body, kind = multipart(100)
    before = stored(env)
    own = f"http://127.0.0.1:{env['app'].port}"
    for origin in ("http://evil.example", "null", "http://127.0.0.1:1", f"{own}.evil.example"):
        status, headers, _ = request(env, "POST", "/gradio_api/upload", body, {"Content-Type": kind, "Origin": origin})
        assert status == 403 and "access-control-allow-origin" not in {k.lower() for k in headers}, origin
        join = json.dumps({"data": ["evil", str(env["home"]), None], "fn_index": 0, "session_hash": "s",
                           "event_data": None, "trigger_id": None}).encode()
        assert request(env, "POST", "/gradio_api/queue/join", join, {"Content-Type": "application/json",
                                                                     "Origin": origin})[0] == 403
        assert request(env, "GET", "/gradio_api/queue/data?session_hash=s", headers={"Origin": origin})[0] == 403
    assert stored(env) == before
    status, _, _ = request(env, "POST", "/gradio_api/upload", body, {"Content-Type": kind, "Origin": own})
    assert status == 200 and len(stored(env)) == len(before) + 1  # the app's own origin is served


def test_a_foreign_host_is_refused_without_any_cors_echo(env):
    for host in ("evil.example", "evil.example:7860", "127.0.0.1.evil.example", "localhost@evil.example"):
        status, headers, _ = request(env, "GET", "/gradio_api/info", headers={"Host": host, "Origin": f"http://{host}"})
        assert status == 403 and "access-control-allow-origin" not in {k.lower() for k in headers}, host
    assert request(env, "GET", "/", headers={"Host": f"localhost:{env['app'].port}"})[0] == 200


def test_uploads_over_the_cap_are_refused_and_not_stored(env):
    before = stored(env)
    body, kind = multipart(CAP + 1)
    status, _, _ = request(env, "POST", "/gradio_api/upload", body, {"Content-Type": kind})
    assert status == 413 and stored(env) == before
    big, kind = multipart(CAP + 200 * 1024)
    assert request(env, "POST", "/gradio_api/upload", big, {"Content-Type": kind})[0] == 413  # by Content-Length
    assert request(env, "POST", "/gradio_api/upload", big, {"Content-Type": kind}, chunked=True)[0] in (413, 0)
    assert stored(env) == before
    exact, kind = multipart(CAP)
    assert request(env, "POST", "/gradio_api/upload", exact, {"Content-Type": kind})[0] == 200
    assert len(stored(env)) == len(before) + 1
