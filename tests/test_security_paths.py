"""Path containment: whatever the mix of '..', '.', symlinks and absolute parts, a path never escapes its roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from llmops.security.paths import PathNotAllowed, allowed_roots, contain, is_within
from llmops.settings import Settings

PARTS = st.sampled_from(["a", "b", "..", ".", "", "in_link", "out_link", "loop", "missing"])


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """root/{a/b, in_link -> a, out_link -> ../outside, loop -> .}; outside/secret."""
    base = tmp_path_factory.mktemp("tree")
    root, outside = base / "root", base / "outside"
    (root / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("x", encoding="utf-8")
    (root / "in_link").symlink_to(root / "a")
    (root / "out_link").symlink_to(outside)
    (root / "loop").symlink_to(".")
    (root / "a" / "up").symlink_to("../../outside")
    return root, outside


def reference_resolve(path: str) -> Path:
    """An independent resolver: component by component, following links with os.readlink."""
    parts, current, hops = list(Path(path).parts), Path("/"), 0
    while parts:
        part = parts.pop(0)
        if part in ("/", "", "."):
            continue
        if part == "..":
            current = current.parent
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            assert hops < 100
            link = os.readlink(candidate)
            parts = list(Path(link).parts) + parts
            current = Path("/") if os.path.isabs(link) else current
            continue
        current = candidate
    return current


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(PARTS | st.just("a/up"), max_size=8), absolute=st.booleans())
def test_paths_never_escape(tree, parts, absolute):
    root, outside = tree
    text = "/".join(parts)
    path = (outside / text) if absolute else (root / text)
    real = reference_resolve(str(path))
    inside = real == root.resolve() or root.resolve() in real.parents
    assert is_within(path, (root.resolve(),)) == inside, (text, real)
    if is_within(path, (root.resolve(),)):
        assert not str(real).startswith(str(outside.resolve()))


def test_contain_names_the_setting_and_follows_the_flag(tree, tmp_path):
    root, outside = tree
    strict = Settings(home=root, restricted=True)
    assert contain(strict, root / "a" / "b") == root / "a" / "b"
    for escape in (outside / "secret", root / "out_link" / "secret", root / "a" / ".." / ".." / "outside", "/etc/passwd"):
        with pytest.raises(PathNotAllowed) as info:
            contain(strict, escape)
        assert "LLMOPS_ALLOWED_DIRS" in info.value.message("en") and "LLMOPS_ALLOWED_DIRS" in info.value.message("zh")
    assert contain(Settings(home=root, restricted=True, allowed_dirs=(outside,)), outside / "secret")
    assert contain(Settings(home=root), outside / "secret"), "the CLI (unrestricted) reads what its user can"
    assert strict.sample_docs_dir.resolve() in allowed_roots(strict)


def test_relative_paths_are_read_from_the_workspace(tmp_path, monkeypatch):
    """A job's working folder is the workspace, so a relative path there is inside it, wherever the app runs."""
    home = tmp_path / "home"
    (home / "checkpoints" / "run").mkdir(parents=True)
    settings = Settings(home=home, restricted=True)
    monkeypatch.chdir(tmp_path / "..")
    assert contain(settings, "checkpoints/run") == Path("checkpoints/run")
    with pytest.raises(PathNotAllowed):
        contain(settings, "../elsewhere")
