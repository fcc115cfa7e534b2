"""The Surgery tab through the real app: forms drawn from mergekit's metadata, a merge job, a LoRA export check,
refusals in Chinese, and a trained run's checkpoint table."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from gradio_client import Client

from llmops.i18n import t
from llmops.runner.store import JobStore
from llmops.services.models import ModelRegistry
from llmops.services.surgery import methods as registry
from llmops.ui.tabs.surgery_merge import method_choices

from .apphelpers import connect

EMPTY_SHARED = {"headers": ["参数", "值", "默认值", "类型", "含义"], "data": []}


@pytest.fixture(scope="module")
def perturbed(perturbed_model) -> Path:
    return perturbed_model


def _form(client: Client, method: str) -> tuple[str, dict, dict, dict]:
    return client.predict(method, [], None, EMPTY_SHARED, {"headers": ["模型"], "data": []},
                          api_name="/surgery_method")


def _wait_version(client: Client, prefix: str, timeout_s: float = 150) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [v for v in client.predict(api_name="/surgery_offered")["versions"] if v.startswith(prefix)]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no version {prefix}… after {timeout_s} s")


def test_the_surgery_tab_in_chinese(settings, demo_model_dir, perturbed, trained_adapter, app_factory):
    models = ModelRegistry(settings)
    a = models.add_base("demo", str(demo_model_dir), template="chatml").id
    b = models.add_base("noisy", str(perturbed), template="chatml").id
    tuned = models.add_adapter("tuned", a, str(trained_adapter)).id
    client = connect(app_factory(lang="zh").url)

    # Every method mergekit registers is offered, and each one's form follows its own metadata.
    assert [value for _, value in method_choices()] == registry.names()
    for info in registry.methods():
        help_text, shared, per_model, base = _form(client, info.name)
        assert [row[0] for row in shared["data"]] == [p.name for p in info.shared_params], info.name
        assert per_model["headers"] == ["模型", *(p.name for p in info.model_params)], info.name
        assert base["visible"] is info.takes_base and info.pretty_name in help_text
    help_text, shared, per_model, _ = _form(client, "ties")
    assert "density" in per_model["headers"] and "density" in help_text
    help_text, shared, per_model, _ = _form(client, "slerp")
    assert [row[0] for row in shared["data"]] == ["t"] and per_model["headers"] == ["模型"]
    assert "恰好 2 个模型" in help_text and shared["data"][0][2] == "（必填）"

    offered = client.predict(api_name="/surgery_offered")
    assert {a, b, tuned} <= set(offered["versions"]) and offered["full"] == [a, b]
    assert offered["adapters"] == [tuned, f"{tuned}#checkpoint-1", f"{tuned}#checkpoint-2"]

    # Refusals come before anything runs, in the session's language.
    slerp_t = {"headers": EMPTY_SHARED["headers"], "data": [["t", "0.5", "", "float", ""]]}
    rows = {"headers": ["模型"], "data": [[b]]}
    with pytest.raises(Exception, match=re.escape(t("err.sgm_base_required", "zh", method="slerp"))):
        client.predict("slerp", [b], "", slerp_t, rows, "", "", 0, "x", api_name="/surgery_merge_check")
    three = {"headers": ["模型"], "data": [[b], [tuned]]}
    with pytest.raises(Exception, match="恰好 2 个模型"):
        client.predict("slerp", [b, tuned], a, slerp_t, three, "", "", 0, "x", api_name="/surgery_merge_check")

    # A linear merge started through the tab completes and its version is offered by the pickers.
    weights = {"headers": ["模型", "weight"], "data": [[a, "0.5"], [b, "0.5"]]}
    status, recipe, command = client.predict("linear", [a, b], "", EMPTY_SHARED, weights, "", "", 0, "tabmix",
                                             api_name="/surgery_merge_check")
    assert "merge_method: linear" in recipe and "weight: 0.5" in recipe and "尚未运行" in status
    assert command.startswith(f"mergekit-yaml config.yaml {settings.models_dir / 'tabmix'} --lazy-unpickle")
    status, _, _, job_id = client.predict("linear", [a, b], "", EMPTY_SHARED, weights, "", "", 0, "tabmix",
                                          api_name="/surgery_merge")
    assert job_id and job_id in status
    merged = _wait_version(client, "tabmix@")
    assert merged in client.predict(api_name="/surgery_offered")["full"]
    assert models.get(merged).lineage["inputs"] == [a, b] and models.get(merged).lineage["job_id"] == job_id

    # A cast runs where the form's "Run on" says; an unknown target is refused before any job exists.
    jobs_before = len(JobStore(settings.jobs_db_path).list())
    with pytest.raises(Exception, match="没有名为“gone”的目标"):
        client.predict(a, "bf16", "", "tabcast", "gone", api_name="/surgery_convert")
    assert len(JobStore(settings.jobs_db_path).list()) == jobs_before
    status = client.predict(a, "bf16", "", "tabcast", "local", api_name="/surgery_convert")
    assert str(settings.models_dir / "tabcast") in status
    assert models.get(_wait_version(client, "tabcast@")).lineage["dtype"] == "bfloat16"

    # merge-lora: the checked export YAML and the command that runs it by hand.
    status, export_yaml, command = client.predict(f"{tuned}#checkpoint-1", "bf16", 2, "", api_name="/surgery_lora_check")
    assert re.fullmatch(r"llamafactory-cli export configs/llmops/export_config_\S+\.yaml", command), command
    assert "checkpoint-1" in export_yaml and "infer_dtype: bfloat16" in export_yaml and "已保存" in status
    assert (settings.home / command.split()[-1]).is_file()

    # The trained run's checkpoints, the pick and the prune plan (nothing deleted: the adapter is shared).
    assert tuned in client.predict(api_name="/surgery_offered")["runs"]
    table, recommended, chosen, picks = client.predict(tuned, None, [], api_name="/surgery_checkpoints")
    assert [row[:2] for row in table["data"]] == [["checkpoint-1", 1], ["checkpoint-2", 2]]
    assert all(row[7] == "✓" for row in table["data"]) and table["data"][0][2] != ""
    assert "**checkpoint-2**" in recommended and chosen["value"] == "checkpoint-2"
    assert [c[1] for c in picks["choices"]] == ["checkpoint-1", "checkpoint-2"]
    plan = client.predict(tuned, api_name="/surgery_prune_plan")
    assert "checkpoint-1" in plan and "将删除 1 个检查点" in plan
    assert (trained_adapter / "checkpoint-1").is_dir()

    # Scoring every checkpoint fills the table's score column (perplexity of the set's references, lower is better).
    from llmops.services.evaluation.sets import EvalSets

    rows = settings.work_dir / "refs.jsonl"
    rows.write_text('{"prompt": "What does LoRA train?", "reference": "Low-rank adapter weights."}\n'
                    '{"prompt": "Name one optimizer.", "reference": "AdamW."}\n', encoding="utf-8")
    EvalSets(settings).add(rows, "refs")
    started = client.predict(tuned, "refs", "perplexity", api_name="/surgery_ckpt_score")
    run_id = re.search(r"ev-[0-9-]+[0-9a-f]{6}", started).group(0)
    from llmops.services.evaluation.run_folder import RunFolder

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        summary = RunFolder(settings, run_id).summary()
        if summary is not None and summary.status == "complete":
            break
        time.sleep(0.3)
    table = client.predict(tuned, None, [], api_name="/surgery_checkpoints")[0]
    scores = [float(row[4]) for row in table["data"]]
    assert len(scores) == 2 and all(score > 1.0 for score in scores), table["data"]
    with pytest.raises(Exception, match="没有名为“nope”的评测集"):
        client.predict(tuned, "nope", "perplexity", api_name="/surgery_ckpt_score")
