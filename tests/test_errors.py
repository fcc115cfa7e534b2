"""Every error class names its kind in both languages, and a real failure from each area reads wholly in Chinese."""

from __future__ import annotations

import dataclasses
import re

import pytest

from llmops import errors
from llmops.backends.openai_compat import OpenAICompatBackend
from llmops.i18n import _TABLE
from llmops.lf import dataset_info
from llmops.runner.runner import JobRunner
from llmops.schemas.models import SamplingParams
from llmops.security.credentials import KeyNotBound, require_bound
from llmops.security.paths import PathNotAllowed, contain
from llmops.services.models import ModelRegistry
from tests.apphelpers import free_port

_HAN = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[ ,']+[A-Za-z]+){2,}")  # three English words in a row: a sentence left


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_error_class_names_its_kind_in_both_languages():

    classes = {errors.LLMOpsError} | _subclasses(errors.LLMOpsError)
    assert {errors.InvalidInputError, errors.NotFoundError, errors.ConflictError, errors.StorageError,
            errors.BackendError, errors.PermissionDeniedError, errors.JobError, PathNotAllowed, KeyNotBound} <= classes
    for cls in classes:
        entry = _TABLE.get(cls.kind_key)
        assert entry and entry.get("en") and _HAN.search(entry.get("zh", "")), (cls, cls.kind_key)
    # Each of the seven kinds has its own name, so a heading tells them apart.
    kinds = [errors.InvalidInputError, errors.NotFoundError, errors.ConflictError, errors.StorageError,
             errors.BackendError, errors.PermissionDeniedError, errors.JobError]
    assert len({cls.kind_key for cls in kinds}) == len(kinds)
    assert issubclass(PathNotAllowed, errors.PermissionDeniedError) and issubclass(KeyNotBound,
                                                                                   errors.PermissionDeniedError)
    from llmops.backends.base import BackendError
    assert BackendError is errors.BackendError


def test_user_errors_and_runtime_failures():
    assert errors.is_user_error(errors.NotFoundError("err.job_unknown", job_id="x"))
    assert errors.is_user_error(PathNotAllowed("err.sec_path_outside", path="/x"))
    for cls in (errors.StorageError, errors.BackendError, errors.JobError):
        assert not errors.is_user_error(cls("err.job_unknown", job_id="x"))
    assert isinstance(errors.os_failure("err.prefs_read_failed", IsADirectoryError(21, "Is a directory"), path="d"),
                      errors.InvalidInputError)
    disk_full = errors.os_failure("err.prefs_write_failed", OSError(28, "No space left on device"), path="p")
    assert type(disk_full) is errors.StorageError and disk_full.params["reason"] == "No space left on device"


def _raised(call) -> errors.LLMOpsError:
    with pytest.raises(errors.LLMOpsError) as info:
        call()
    return info.value


def _samples(settings, tmp_path) -> dict[str, tuple[type, errors.LLMOpsError]]:
    restricted = dataclasses.replace(settings, restricted=True)
    registry = ModelRegistry(settings)
    info_path = dataset_info.ensure(settings)
    down = OpenAICompatBackend(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=5, max_retries=0)
    ask = [{"role": "user", "content": "hi"}]
    samples = {
        "dataset unknown": (errors.NotFoundError, _raised(lambda: dataset_info.unregister(info_path, "no-such-set"))),
        "model unknown": (errors.NotFoundError, _raised(lambda: registry.get("no-such-model@v1.0"))),
        "path outside roots": (errors.PermissionDeniedError, _raised(lambda: contain(restricted, "/etc/passwd"))),
        "unbound key": (errors.PermissionDeniedError,
                        _raised(lambda: require_bound(restricted, "SOME_KEY", "http://127.0.0.1:9/v1"))),
        "endpoint down": (errors.BackendError, _raised(lambda: down.generate(ask, SamplingParams(max_new_tokens=4)))),
        "job unknown": (errors.NotFoundError, _raised(lambda: JobRunner(settings).get("no-such-job"))),
    }
    registry.path.parent.mkdir(parents=True, exist_ok=True)
    registry.path.write_text('{"models": [', encoding="utf-8")
    samples["corrupt models.json"] = (errors.StorageError, _raised(registry.list))
    return samples


def test_a_failure_from_each_area_reads_in_chinese(settings, tmp_path):
    for area, (cls, exc) in _samples(settings, tmp_path).items():
        assert isinstance(exc, cls), (area, type(exc))
        zh = exc.message("zh")
        assert _HAN.search(zh), (area, zh)
        left = zh
        for value in exc.params.values():  # names, paths and reasons a placeholder carries may be in any language
            left = left.replace(str(value), " ")
        assert not _ENGLISH_RUN.search(left), (area, left)
        assert _HAN.search(exc.kind("zh")) and exc.kind("en") != exc.kind("zh")
