"""A surgery output is written aside, moved into place whole, registered once; existing folders and a full disk are refused."""

from __future__ import annotations

import shutil

import pytest
import yaml

from llmops.errors import ConflictError, InvalidInputError, StorageError
from llmops.services.models import ModelRegistry
from llmops.services.surgery.outputs import RECIPE_FILE, plan_output, register_output, require_space, weights_bytes


def test_an_output_is_committed_whole_and_registered_once(settings, demo_model_dir):
    plan = plan_output(settings, "merged-demo")
    with pytest.raises(StorageError):
        plan.commit({"method": "linear"})  # nothing written yet: never moved, never registered
    shutil.copytree(demo_model_dir, plan.partial)
    final = plan.commit({"method": "linear", "models": ["a@v1", "b@v1"]})
    assert final == settings.models_dir / "merged-demo" and not plan.partial.exists()
    assert yaml.safe_load((final / RECIPE_FILE).read_text())["models"] == ["a@v1", "b@v1"]
    assert weights_bytes(final) > 0
    first = register_output(settings, "merged-demo", final, {"operation": "merge", "inputs": ["a@v1", "b@v1"]})
    again = register_output(settings, "merged-demo", final, {"operation": "merge"})
    assert again.id == first.id and first.kind == "merged" and first.lineage["recipe"].endswith(RECIPE_FILE)
    assert [e.id for e in ModelRegistry(settings).list() if e.kind == "merged"] == [first.id]
    with pytest.raises(ConflictError):
        plan_output(settings, "merged-demo")


def test_too_little_disk_is_refused_before_anything_runs(settings):
    with pytest.raises(InvalidInputError) as caught:
        require_space(settings.models_dir / "not-yet" / "deeper", 1 << 60)
    assert "GB" in caught.value.message("en") and "磁盘空间不足" in caught.value.message("zh")
    require_space(settings.models_dir, 1024)
