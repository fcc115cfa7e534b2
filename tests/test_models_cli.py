"""`python -m llmops models ...`: register a local model, an adapter on it and an endpoint, pick the default."""

from __future__ import annotations

import json

from llmops.cli.main import main
from llmops.services.models import ModelRegistry


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_models_round_trip(settings, capsys, demo_model_dir, trained_adapter):
    code, out, _ = _run(capsys, "models", "add-local", "tiny", str(demo_model_dir))
    assert (code, out.strip()) == (0, "registered tiny@v1.0")
    code, out, _ = _run(capsys, "models", "add-local", "tiny", str(demo_model_dir), "--adapter", str(trained_adapter),
                        "--json")
    adapter = json.loads(out)
    assert code == 0 and adapter["id"] == "tiny@v1.1" and adapter["kind"] == "adapter"
    assert adapter["lineage"]["parent_id"] == "tiny@v1.0"  # the base already registered is reused, not doubled
    code, out, _ = _run(capsys, "models", "add-endpoint", "remote", "--base-url", "http://127.0.0.1:9/v1",
                        "--model", "served")
    assert (code, out.strip()) == (0, "registered remote@v1.0")
    code, out, _ = _run(capsys, "models", "add-endpoint", "remote", "--base-url", "http://127.0.0.1:9/v1",
                        "--model", "served-2")
    assert out.strip() == "registered remote@v1.1"  # the next free version, never a clash
    assert _run(capsys, "models", "set-default", "tiny@v1.1")[:2] == (0, "default model: tiny@v1.1\n")
    code, out, _ = _run(capsys, "models", "list", "--json")
    listed = {row["id"]: row for row in json.loads(out)}
    assert list(listed) == ["tiny@v1.0", "tiny@v1.1", "remote@v1.0", "remote@v1.1"]
    assert listed["tiny@v1.1"]["default"] and not listed["tiny@v1.0"]["default"]
    assert listed["remote@v1.1"]["endpoint"] == {"base_url": "http://127.0.0.1:9/v1", "model": "served-2",
                                                "api_key_env": None}
    assert ModelRegistry(settings).default().id == "tiny@v1.1"
    code, out, _ = _run(capsys, "models", "list")
    assert "tiny@v1.1 *" in out and "http://127.0.0.1:9/v1 (served)" in out


def test_models_refusals_exit_2_with_a_message(settings, capsys, tmp_path):
    code, _, err = _run(capsys, "models", "set-default", "ghost@v1")
    assert code == 2 and "ghost@v1" in err
    code, _, err = _run(capsys, "models", "add-local", "x", str(tmp_path / "missing"))
    assert code == 2 and "missing" in err
    code, _, err = _run(capsys, "models", "add-endpoint", "k", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                        "--api-key-env", "sk-live-abcdefghijklmnopqrstuvwxyz012345")
    assert code == 2 and "sk-live" not in err  # a key pasted as the variable's name is never echoed
    assert ModelRegistry(settings).list() == []
