"""Allowed roots: a path from the UI, the API or a saved config is read only when it resolves inside one."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import PermissionDeniedError
from ..schemas.model_ref import looks_like_hub_id
from ..settings import Settings


class PathNotAllowed(PermissionDeniedError):
    """A path resolved (symlinks and '..' included) to a place outside every allowed root."""


def allowed_roots(settings: Settings) -> tuple[Path, ...]:
    """The workspace, the shipped read-only assets, Gradio's upload folder and the operator's LLMOPS_ALLOWED_DIRS."""
    roots = [settings.home, settings.sample_docs_dir, settings.sample_datasets_dir, settings.upload_dir,
             *settings.allowed_dirs]
    return tuple(Path(os.path.realpath(root)) for root in roots)


def resolve(path: Path | str) -> Path:
    """`path` made absolute with every symlink and '..' resolved, whether or not it exists."""
    return Path(os.path.realpath(Path(path).expanduser()))


def is_within(path: Path | str, roots: tuple[Path, ...]) -> bool:
    """True when the resolved `path` is one of `roots` or lies below one of them."""
    real = resolve(path)
    return any(real == root or root in real.parents for root in roots)


def in_workspace(settings: Settings, path: Path | str) -> Path:
    """`path` as the jobs read it: a relative path is relative to the workspace (their working folder)."""
    given = Path(path).expanduser()
    return given if given.is_absolute() else settings.home / given


def allowed(settings: Settings, path: Path | str) -> bool:
    """True when `path` may be read: paths are not restricted, or it resolves inside an allowed root."""
    return not settings.restricted or is_within(in_workspace(settings, path), allowed_roots(settings))


def contain(settings: Settings, path: Path | str) -> Path:
    """`path` as given when it may be read; refuses one outside the allowed roots when paths are restricted.

    The check runs on the fully resolved path, so a symlink inside the workspace that points out is refused.
    """
    if not allowed(settings, path):
        raise PathNotAllowed("err.sec_path_outside", path=str(path))
    return Path(path).expanduser()


def contain_if_local(settings: Settings, location: str) -> str:
    """Like contain() for a model location that may also be a hub id ('org/name', no such local path)."""
    text = (location or "").strip()
    local = in_workspace(settings, text) if text else Path()
    looks_local = not looks_like_hub_id(text) or local.exists()
    if text and looks_local:
        contain(settings, text)
    return location
