"""Targets where jobs are launched: `train launch --target`, the Training tab's run-on picker, the Targets section and
the jobs panel's Where column, against the stand-in Slurm commands of test_targets (no real Slurm runs here)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from llmops.cli.main import main
from llmops.schemas.jobs import JobStatus
from llmops.services.workspace import WorkspaceWatch
from tests.test_app_training_api import form
from tests.test_targets import _standins, _wait


@pytest.fixture
def slurm_here(tmp_path, monkeypatch):
    """Stand-in sbatch/squeue/sacct/scancel on PATH, and Settings read after it (a short LOST delay)."""
    bin_dir = _standins(tmp_path / "slurm")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("SLURM_STANDIN", str(tmp_path / "slurm" / "state"))
    monkeypatch.setenv("LLMOPS_TARGET_LOST_S", "30")
    from llmops.settings import Settings

    return Settings.from_env()


def _page(services, lang: str):
    """The Training tab (its jobs panel included) and the Targets section on one page, wired as the app wires them."""
    import gradio as gr

    from llmops.ui.common import errors_to_messages
    from llmops.ui.i18n import Labels
    from llmops.ui.live import Live
    from llmops.ui.tabs import targets, training

    labels = Labels(lang)
    with gr.Blocks(analytics_enabled=False) as demo:
        lang_state = gr.State(lang)
        live = Live(services.workspace, lang_state)
        training.build(services, labels, lang_state, live)
        targets.build(services, labels, lang_state, live)
        live.wire(demo)
    errors_to_messages(demo, lang_state, lang)
    return demo, live


def _offered(live, component) -> list:
    """The choices the live refresh sends to `component` now (what a page open since before would be offered)."""
    item = next(item for item in live.items if item.outputs[0] is component)
    update = item.fn(None, None, "zh")[0]
    return [choice[1] if isinstance(choice, (list, tuple)) else choice for choice in update["choices"]]


def test_targets_section_picker_cli_and_where_column(slurm_here, demo_model_dir, capsys):
    from tests.apphelpers import connect

    from llmops.services.container import build_services
    from llmops.ui.tabs.training import TARGET_DEFAULTS, TARGET_FIELDS

    settings = slurm_here
    services = build_services(settings)
    watch = WorkspaceWatch(settings)
    before = watch.revision()
    demo, live = _page(services, "zh")
    pickers = [item.outputs[0] for item in live.items if getattr(item.outputs[0], "label", "") == "运行于"]
    assert len(pickers) == 7  # one per LLaMA-Factory stage form, and the GRPO form's
    assert _offered(live, pickers[0]) == ["local"]
    demo.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = connect(demo.local_url)
        status, table = client.predict("cluster", "gpu", 1, 0, "00:10:00", api_name="/targets_add_slurm")
        assert "已添加目标 cluster" in status
        assert [row[:3] for row in table["data"]] == [["local", "local", ""], ["cluster", "slurm", "gpu"]]
        assert "targets" in watch.changed(before, watch.revision())
        assert "正常" in client.predict("cluster", api_name="/targets_check")
        assert "本机" in client.predict("local", api_name="/targets_check")
        every = client.predict(api_name="/targets_check_all").splitlines()
        assert len(every) == 2 and "local" in every[0] and "cluster" in every[1] and "正常" in every[1]
        # Refused in the page's language, and nothing stored.
        for args, api, expect in ((("cluster", "", 1, 0, "04:00:00"), "/targets_add_slurm", "已存在"),
                                  (("box", "no-user-here", "", 22, "runs", "llamafactory-cli", "python3", "vllm"), "/targets_add_ssh",
                                   "目标无效"),
                                  (("box", "me@127.0.0.1", "/no/such/key", 22, "runs", "llamafactory-cli", "python3", "vllm"),
                                   "/targets_add_ssh", "密钥文件"),
                                  (("ray1", "tcp://head", 8265, "", "llamafactory-cli", "python"),
                                   "/targets_add_ray", "ray://"),
                                  (("local",), "/targets_remove", "不能添加或删除"),
                                  (("",), "/targets_check", "请先选择一个目标"),
                                  (("nowhere",), "/targets_check", "没有名为“nowhere”的目标")):
            with pytest.raises(Exception, match=expect):
                client.predict(*args, api_name=api)
        assert [t.name for t in services.targets.list()] == ["local", "cluster"]
        status, table = client.predict("ray1", "ray://127.0.0.1:10001", 8265, "", "llamafactory-cli", "python",
                                       api_name="/targets_add_ray")
        assert "已添加目标 ray1" in status and table["data"][-1][:3] == ["ray1", "ray", "ray://127.0.0.1:10001"]
        client.predict("ray1", api_name="/targets_remove")

        # Another writer adds a target: the pickers of an open page offer it at the next refresh.
        services.targets.add({"type": "ssh", "name": "box", "user_host": "me@127.0.0.1", "port": 1})
        assert _offered(live, pickers[0]) == ["local", "cluster", "box"]

        # The Training tab launches on the picked target; the job table says where.
        box = [TARGET_DEFAULTS[name] for name, _ in TARGET_FIELDS]
        sft = form(settings, "sft", str(demo_model_dir), "sample_sft", max_steps=1, run_name="ui-slurm")
        with pytest.raises(Exception, match="没有名为“gone”的目标"):
            client.predict(*sft, *box, "gone", api_name="/sft_launch")
        assert services.runner.list() == []  # refused before anything was queued
        *_, ui_job = client.predict(*sft, *box, "cluster", api_name="/sft_launch")

        # The CLI launches a saved config on a target; a config that runs only here, or GPU ids, are refused.
        saved = services.training.save(services.training.build("sft", str(demo_model_dir), ["sample_sft"],
                                                               run_name="cli-slurm", max_steps=1))
        capsys.readouterr()
        assert main(["train", "launch", str(saved.path), "--target", "cluster", "--devices", "0"]) == 2
        assert "--devices" in capsys.readouterr().err
        assert main(["serve", "start", "demo@v1.0", "--target", "cluster"]) == 2
        assert "runs here or on an SSH box" in capsys.readouterr().err
        assert main(["train", "launch", str(saved.path), "--target", "cluster"]) == 0
        cli_job = capsys.readouterr().out.strip()
        assert main(["train", "launch", str(saved.path), "--target", "nowhere"]) == 2

        runner = services.runner
        for job_id in (ui_job, cli_job):
            job = runner.get(job_id)
            assert job.meta["target"] == "cluster" and job.meta["target_type"] == "slurm" and job.devices == "none"
            _wait(lambda job_id=job_id: runner.get(job_id).status is JobStatus.RUNNING
                  and "stand-in batch job" in runner.log_tail(job_id))
            assert json.loads((Path(job.run_dir) / "target_remote.json").read_text())["slurm_job"]
        rows, *_ = client.predict(cli_job, api_name="/refresh_jobs")
        assert {row[0]: row[6] for row in rows["data"]} == {ui_job: "cluster", cli_job: "cluster"}
        for job_id in (ui_job, cli_job):
            assert runner.stop(job_id, wait_s=30).status is JobStatus.STOPPED

        status, table = client.predict("box", api_name="/targets_remove")
        assert "已删除目标 box" in status and [row[0] for row in table["data"]] == ["local", "cluster"]
    finally:
        demo.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _offered(live, pickers[-1]) != ["local", "cluster"]:
        time.sleep(0.1)
    assert _offered(live, pickers[-1]) == ["local", "cluster"]
