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


def test_the_ui_talks_only_to_services():
    """llmops/ui imports services, schemas, i18n and errors; never the engines or stores behind them."""
    banned = {"lf", "runner", "backends", "storage", "security"}
    for path in (ROOT / "llmops" / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                # Relative imports: ui/x.py uses `..pkg`, ui/tabs/x.py uses `...pkg`; absolute ones name llmops.
                top = parts[1] if parts[0] == "llmops" and len(parts) > 1 else parts[0]
                if node.level >= 2 or parts[0] == "llmops":
                    assert top not in banned, f"{path.relative_to(ROOT)} imports {node.module}"


def test_the_ui_never_reaches_the_runner_through_the_container():
    """A tab asks services.jobs; services.runner is the engine behind it."""
    for path in (ROOT / "llmops" / "ui").rglob("*.py"):
        assert "services.runner" not in path.read_text(encoding="utf-8"), path


def _import_graph() -> dict[str, set[str]]:
    """Module -> the llmops modules it imports at module level (relative imports resolved)."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "llmops").rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = name if rel.name == "__init__" else name.rpartition(".")[0]
        targets = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only: lazy imports are fine
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                if module.startswith("llmops"):
                    targets.add(module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("llmops")}
        graph[name] = targets
    return graph


def test_the_house_has_no_import_cycle_between_packages():
    """Between llmops' packages (ui, services, lf, runner, …) imports flow one way."""
    def package(module: str) -> str:
        parts = module.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 else module

    edges: dict[str, set[str]] = {}
    for source, targets in _import_graph().items():
        for target in targets:
            a, b = package(source), package(target)
            if a != b:
                edges.setdefault(a, set()).add(b)
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(node):], node]))
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in sorted(edges):
        visit(node)


def test_no_shell_true_anywhere():
    for path in (ROOT / "llmops").rglob("*.py"):
        assert "shell=True" not in path.read_text(encoding="utf-8"), path


def _calls(tree: ast.AST) -> list[tuple[str, str]]:
    """(object, attribute) of every `obj.attr(...)` call, and ('', name) of every plain `name(...)` call."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value.id if isinstance(func.value, ast.Name) else ""
                found.append((owner, func.attr))
            elif isinstance(func, ast.Name):
                found.append(("", func.id))
    return found


_DATASET_INFO_WRITES = {"register", "unregister", "ensure", "atomic_write_json"}


def test_each_store_file_has_one_writer():
    """dataset_info.json only from the dataset registry, models.json only from ModelRegistry, the job table
    only from runner/store.py."""
    owners = {"dataset_info.json": {"llmops/services/datasets/registry.py", "llmops/lf/dataset_info.py"},
              "models.json": {"llmops/services/models.py"}, "jobs.sqlite3": {"llmops/runner/store.py"}}
    writers: dict[str, set[str]] = {name: set() for name in owners}
    for path in (ROOT / "llmops").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        calls = _calls(tree)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and (node.module or "").endswith("dataset_info") for alias in node.names}
        if any(owner == "dataset_info" and attr in _DATASET_INFO_WRITES for owner, attr in calls) or (
                imported & _DATASET_INFO_WRITES):
            writers["dataset_info.json"].add(rel)
        if rel == "llmops/lf/dataset_info.py":
            writers["dataset_info.json"].add(rel)
        names_models = any(isinstance(node, ast.Constant) and isinstance(node.value, str)
                           and "models.json" in node.value for node in ast.walk(tree))
        if names_models and any(attr.startswith(("write", "atomic_write")) for _, attr in calls):
            writers["models.json"].add(rel)
        if any(owner == "sqlite3" and attr == "connect" for owner, attr in calls) or "import sqlite3" in text:
            writers["jobs.sqlite3"].add(rel)
    for name, modules in writers.items():
        assert modules <= owners[name], f"{name} is written by {sorted(modules - owners[name])}"
    assert writers["dataset_info.json"] == owners["dataset_info.json"]  # the check sees the real writer
    assert writers["models.json"] == owners["models.json"] and writers["jobs.sqlite3"] == owners["jobs.sqlite3"]


def _labels_calls(tree: ast.AST) -> list[tuple[ast.Call, bool]]:
    """Every `labels(...)` (registering) and `labels.make(...)` (creating) call, with which of the two it is."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "labels":
            found.append((node, False))
        elif isinstance(func, ast.Attribute) and func.attr == "make" and getattr(func.value, "id", "") == "labels":
            found.append((node, True))
    return found


def _label_key_problems(source: str) -> list[str]:
    """Where a component's label key is written twice: labels(Component(...label=t(key)...), key)."""
    problems = []
    for node, creates in _labels_calls(ast.parse(source)):
        key_index = 1
        if len(node.args) <= key_index:
            continue
        key = ast.dump(node.args[key_index])
        texts = [inner for inner in ast.walk(node) if isinstance(inner, ast.Call)
                 and getattr(inner.func, "id", "") == "t" and inner.args and ast.dump(inner.args[0]) == key]
        if texts:
            problems.append(f"line {node.lineno}: the key is passed to t() and to labels")
        elif not creates and isinstance(node.args[0], ast.Call):
            # A component built inline and registered after: labels.make does both in one call.
            problems.append(f"line {node.lineno}: build it with labels.make")
    return problems


def test_each_label_key_is_written_once_per_component():
    """A component gets its label key once, through labels.make; the key names a real string."""
    bad, keys = [], set()
    for path in (ROOT / "llmops" / "ui").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        bad += [f"{path.relative_to(ROOT)} {problem}" for problem in _label_key_problems(source)]
        for node, _ in _labels_calls(ast.parse(source)):
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value is not None:
                keys.add(node.args[1].value)
    assert not bad, "\n".join(bad)
    assert len(keys) > 100 and not keys - set(_TABLE), sorted(keys - set(_TABLE))


def test_the_label_key_check_sees_a_double_key():
    """The check above flags both shapes of a doubled key and passes the one-call shape."""
    doubled = 'labels(gr.Textbox(label=t("ui.x", lang)), "ui.x")'
    inline = 'labels(gr.Textbox(label="x"), "ui.x")'
    made_twice = 'labels.make(gr.Button, "ui.x", info=t("ui.x", lang))'
    assert [len(_label_key_problems(src)) for src in (doubled, inline, made_twice)] == [1, 1, 1]
    assert _label_key_problems('labels.make(gr.Textbox, "ui.x", lines=2)\nlabels(comp, "ui.y")') == []
