"""House rules: gradio only in app.py and llmops/ui; subprocess only in the runner; strings in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from llmops.i18n import _TABLE, LANGS

ROOT = Path(__file__).resolve().parent.parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_gradio_and_subprocess_stay_in_their_layers():
    for path in (ROOT / "llmops").rglob("*.py"):
        roots = imported_roots(path)
        rel = path.relative_to(ROOT).as_posix()
        if "gradio" in roots:
            assert rel.startswith("llmops/ui/"), f"{rel} imports gradio"
        if "subprocess" in roots:
            assert rel.startswith("llmops/runner/"), f"{rel} imports subprocess"


def test_every_string_has_both_languages_and_every_used_key_exists():
    for key, entry in _TABLE.items():
        assert all(entry.get(lang) for lang in LANGS), key
        assert set(re.findall(r"{(\w+)}", entry["en"])) == set(re.findall(r"{(\w+)}", entry["zh"])), key
    used = set()
    for path in (ROOT / "llmops").rglob("*.py"):
        used |= set(re.findall(r"\"((?:err|ui)\.[a-z_.]+)\"", path.read_text(encoding="utf-8")))
    missing = {key for key in used if key not in _TABLE and not key.endswith(".") and ".info" not in key}
    assert not missing, missing


def test_no_shell_true_anywhere():
    for path in (ROOT / "llmops").rglob("*.py"):
        assert "shell=True" not in path.read_text(encoding="utf-8"), path
