"""Proven by: generated data feeds real LLaMA-Factory runs of the tiny model, and the LLM generator talks to a
real OpenAI-compatible server (`llamafactory-cli api`).

1. A corpus built from the shipped documents drives a real CPT (pt) run through the runner.
2. Instruction data generated offline from that corpus's structure drives a real SFT run.
3. The LLM generator sends real requests to the lf_api server; the tiny random model answers garbage, so the
   test asserts the plumbing: one request per chunk, every reply received and classified (almost surely
   malformed), and the documented empty-result policy (nothing written or registered, counts kept).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.lf import dataset_info
from llmops.lf.trainer_log import read_progress
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.corpus import CorpusOptions
from llmops.services.datagen import (
    EmptyGeneration,
    Endpoint,
    build_corpus,
    generate_llm,
    generate_rules,
    preset_sources,
)
from llmops.services.device import DeviceInfo
from llmops.services.training import TrainingService

QUICK = {"max_steps": 4, "logging_steps": 1, "gradient_accumulation_steps": 1, "cutoff_len": 256}


@pytest.fixture
def service(settings):
    return TrainingService(settings, JobRunner(settings), device=DeviceInfo())


def _train(service, stage: str, model: Path, dataset: str):
    config = service.build(stage, str(model), [dataset], **QUICK)
    _, job = service.launch_config(config)
    job = service.runner.wait(job.id, 240)
    assert job.status is JobStatus.COMPLETED, service.runner.log_tail(job.id, 40)
    progress = read_progress(Path(job.run_dir))
    assert progress.current_steps == 4 and len([x for x in progress.loss if x is not None]) >= 3
    assert json.loads((Path(job.run_dir) / "run.json").read_text())["dataset"] in (dataset, [dataset])
    return job


def test_corpus_from_shipped_docs_trains_a_real_cpt_run(settings, service, demo_model_dir):
    built = build_corpus(settings, preset_sources(settings), CorpusOptions(max_tokens=256))
    assert built.stats.records > 50 and set(built.stats.languages) == {"zh", "en"}
    assert built.dataset_name in service.datasets_for_stage("pt")
    _train(service, "pt", demo_model_dir, built.dataset_name)


def test_offline_sft_data_trains_a_real_sft_run(settings, service, demo_model_dir):
    corpus = build_corpus(settings, ["preset"])
    generated = generate_rules(settings, corpus.path)
    assert generated.stats["pairs"] > 100
    assert generated.dataset_name in service.datasets_for_stage("sft")
    _train(service, "sft", demo_model_dir, generated.dataset_name)


def test_llm_generator_against_the_real_lf_api(settings, lf_api):
    corpus = build_corpus(settings, ["preset"])
    seen = []
    options = {"pairs_per_chunk": 2, "max_workers": 2, "timeout_s": 60, "max_retries": 1, "max_chunks": 4,
               "max_tokens": 48, "temperature": 0.7}
    try:
        result = generate_llm(settings, corpus.path, Endpoint(lf_api.base_url, "tiny"), options,
                              progress=lambda *counts: seen.append(counts))
    except EmptyGeneration as empty:  # the expected outcome with a random 140k-parameter model
        assert empty.key == "err.gen_no_pairs_llm" and "nothing was written or registered" in empty.message()
        stats = empty.result.stats
        assert not list(settings.work_dir.glob("sft_data_*"))
        assert not any(n.startswith("sft_data_") for n in dataset_info.read(settings.dataset_info_path).entries)
    else:  # should the random model ever emit valid JSON pairs, they are written and registered
        stats = result.stats
        assert result.dataset_name in dataset_info.read(settings.dataset_info_path).entries
    assert stats["chunks"] == 4 and stats["requests"] == 4 and stats["failed"] == 0 and not stats["errors"]
    assert stats["ok"] + stats["malformed"] == 4 and stats["endpoint"]["model"] == "tiny"
    assert seen[-1][:2] == (4, 4)
