"""Each meaning has one home: the callers that once had their own copy of a rule now give the same answers."""

from __future__ import annotations

import dataclasses

import pytest

from llmops.backends.cache import pick_placement
from llmops.backends.openai_compat import Endpoint, OpenAICompatBackend, Secret
from llmops.errors import BackendError, NotFoundError, PermissionDeniedError
from llmops.schemas.model_ref import looks_like_hub_id
from llmops.security.paths import contain_if_local
from llmops.services import datagen
from llmops.services.corpus import check, detect_language
from llmops.services.datagen.common import language_of
from llmops.services.device import DeviceInfo, probe
from llmops.services.models import _model_location

HUB = ["Qwen/Qwen2.5-7B-Instruct", "org/name", "a.b/c-d_e"]
NOT_HUB = ["/abs/path", "./rel/x", "../up/x", "~/home/x", "one", "a/b/c", "-x/y", "a b/c", ""]


def test_hub_id_rule_is_one_rule(settings):
    restricted = dataclasses.replace(settings, restricted=True)
    for text in HUB:
        assert looks_like_hub_id(text)
        assert _model_location(text) == text  # the registry keeps a hub id as typed
        assert contain_if_local(restricted, text) == text  # and path containment lets it through
    for text in NOT_HUB:
        assert not looks_like_hub_id(text)
        with pytest.raises(NotFoundError):
            _model_location(text)
    for text in ("/abs/path", "/etc/passwd"):  # path-shaped, outside the allowed roots
        with pytest.raises(PermissionDeniedError):
            contain_if_local(restricted, text)


def test_one_endpoint_and_one_client(monkeypatch, settings):
    assert datagen.Endpoint is Endpoint and datagen.Secret is Secret
    typed = Endpoint("http://127.0.0.1:9/v1/", "m", Secret("sk-typed-1234"))
    backend = OpenAICompatBackend.from_endpoint(typed, timeout=3, max_retries=0, settings=settings)
    assert backend.base_url == "http://127.0.0.1:9/v1" and "sk-typed" not in repr(backend)
    assert backend.client().api_key == "sk-typed-1234"  # a key typed for this URL goes with it
    assert backend.redact("failed with sk-typed-1234") == "failed with ***"
    backend.close()
    # A bound variable is checked again when the client is made: a binding removed since refuses it.
    monkeypatch.setenv("LLMOPS_KEY_BINDINGS", "BOUND_K=http://127.0.0.1:9/v1")
    monkeypatch.setenv("BOUND_K", "sk-bound-5678")
    bound = Endpoint.from_env("http://127.0.0.1:9/v1", "m", "BOUND_K", settings=None)
    restricted = dataclasses.replace(settings, restricted=True, key_bindings="BOUND_K=http://127.0.0.1:8/v1")
    moved = OpenAICompatBackend.from_endpoint(bound, settings=restricted)
    with pytest.raises(BackendError) as info:
        moved.client()
    assert info.value.key == "err.sec_key_unbound" and "sk-bound" not in str(info.value)


def test_one_device_probe():
    info = probe()
    placement = pick_placement()
    assert placement.device == ("cuda" if info.cuda else "cpu") and placement.dtype_name == info.dtype_name
    assert DeviceInfo().dtype_name == "float32"
    assert DeviceInfo(cuda=True, count=1, bf16=False).dtype_name == "float16"
    assert DeviceInfo(cuda=True, count=1, bf16=True).dtype_name == "bfloat16"


LANG_CASES = {
    "逆变器复位：先断开断路器，等待一分钟后再合上。": "zh",
    "To reset the inverter, open the breaker and wait one minute.": "en",
    "请把逆变器的固件升级到 v2.1，然后重启 LLaMA-Factory 服务。": "zh",
    "The 逆变器 must be reset after the firmware update is installed.": "en",
}


def test_one_language_detector():
    for text, lang in LANG_CASES.items():
        assert detect_language(text) == lang, text
        assert language_of(text) == lang, text  # data generation asks the same detector
        assert check(text)[1] == lang, text  # and so does the quality filter
