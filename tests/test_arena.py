"""Arena service and the votes -> DPO -> next version loop, for real on the tiny model."""

from __future__ import annotations

import json

import pytest

from llmops.errors import LLMOpsError
from llmops.schemas.models import SamplingParams
from llmops.services.container import build_services
from llmops.services.device import DeviceInfo

from .apphelpers import finished

FAST = SamplingParams(temperature=0.0, max_new_tokens=4)
# Sampled answers of two versions differ, so no vote is dropped as chosen == rejected.
SAMPLED = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=8)


@pytest.fixture
def services(settings, demo_model_dir):
    built = build_services(settings)
    built.training._device = DeviceInfo()
    built.models.add_base("demo", str(demo_model_dir), template="chatml")
    return built


def test_round_vote_reveal_and_duplicate(services, lf_api):
    services.models.add_endpoint("tiny-api", lf_api.base_url, "tiny")
    round_ = services.arena.start_round("s1", "光伏逆变器 F012 是什么故障？", "", FAST, "demo@v1.0", "tiny-api@v1.0")
    frames = list(services.arena.stream(round_))
    assert len(frames) >= 3 and round_.done and round_.response_a and round_.response_b
    result = services.arena.vote("s1", round_.round_id, "left", edited="绝缘阻抗低")
    assert result.stored and {result.left_model, result.right_model} == {"demo@v1.0", "tiny-api@v1.0"}
    assert result.winner == round_.left
    again = services.arena.vote("s1", round_.round_id, "left")
    assert not again.stored
    lines = services.settings.prefs_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    vote = json.loads(lines[0])
    assert vote["edited"] == "绝缘阻抗低" and "光伏逆变器" in lines[0] and vote["source"] == "human"
    assert vote["left"] == round_.left and vote["model_a"] == "demo@v1.0"


def test_bad_inputs_are_refused_and_nothing_is_saved(services, settings):
    arena = services.arena
    with pytest.raises(LLMOpsError) as info:
        arena.start_round("s", "   ")
    assert info.value.key == "err.arena_empty_prompt"
    with pytest.raises(LLMOpsError):
        arena.start_round("s", "hi", model_a="nope@v9")
    with pytest.raises(LLMOpsError) as info:
        arena.vote("s", "never-shown", "left")
    assert info.value.key == "err.arena_unknown_round"
    services.models.add_endpoint("dead", "http://127.0.0.1:9/v1", "x")
    round_ = arena.start_round("s", "hi", "", FAST, "demo@v1.0", "dead@v1.0")
    with pytest.raises(LLMOpsError):
        arena.run(round_)
    with pytest.raises(LLMOpsError) as info:
        arena.vote("s", round_.round_id, "left")
    assert info.value.key == "err.arena_failed_round"
    other = arena.start_round("s", "hi", "", FAST, "demo@v1.0", "dead@v1.0")
    with pytest.raises(LLMOpsError):
        arena.vote("someone-else", other.round_id, "left")
    assert not settings.prefs_path.exists() or not settings.prefs_path.read_text().strip()


def test_votes_to_next_version_and_the_arena_serves_it(services, settings, demo_model_dir):
    # v1.1: a quick SFT adapter registers itself when its job completes.
    sft = services.training.build("sft", str(demo_model_dir), ["sample_sft"], max_steps=4, logging_steps=1,
                                  gradient_accumulation_steps=1, cutoff_len=256)
    _, job = services.training.launch_config(sft, meta={"parent_model_id": "demo@v1.0"})
    finished(services.runner, job.id, 240)
    services.sync_models()
    v11 = next(e for e in services.models.list() if e.lineage.get("job_id") == job.id)
    assert v11.kind == "adapter" and v11.id != "demo@v1.0"
    # People compare v1.1 with v1.0.
    for i in range(6):
        round_ = services.arena.run(services.arena.start_round(f"s{i}", f"question {i}", "", SAMPLED, v11.id,
                                                               "demo@v1.0"))
        services.arena.vote(f"s{i}", round_.round_id, "left" if round_.left_model == v11.id else "right")
    round_ = services.loop.prepare(v11.id, only_current=True, max_steps=3, logging_steps=1,
                                   gradient_accumulation_steps=1, cutoff_len=256)
    assert round_.pairs == 6 and round_.config.adapter_name_or_path == v11.adapter
    assert round_.config.ref_model_adapters == v11.adapter
    exported = [json.loads(x) for x in round_.export_path.read_text(encoding="utf-8").splitlines()]
    assert set(exported[0]) == {"prompt", "system", "chosen", "rejected", "vote_id"}
    _, job = services.loop.launch(round_)
    finished(services.runner, job.id, 240)
    v12 = services.loop.complete(job.id)
    assert v12.lineage.get("parent_id") == v11.id and v12.kind == "adapter"
    assert services.loop.pair() == (v12.id, v11.id)
    served = services.arena.run(services.arena.start_round("s", "hello", "", FAST, v12.id, v11.id))
    assert served.response_a or served.response_b
