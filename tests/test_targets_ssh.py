"""An SSH target played by a real, throwaway `sshd` on 127.0.0.1 (host and user keys made here): a tiny-model
training copied over, started detached, followed back, fetched and registered; a stop that reaches the remote
process group; unreachable hosts, refused keys and a vanished target."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from llmops.errors import InvalidInputError
from llmops.runner import procs
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.device import DeviceInfo
from llmops.services.models import ModelRegistry
from llmops.services.targets import TargetsService
from llmops.services.training import TrainingService
from llmops.settings import Settings
from tests.test_targets import _remote, _wait

SSHD = Path("/usr/sbin/sshd")
pytestmark = pytest.mark.skipif(not SSHD.exists() or not shutil.which("ssh-keygen"),
                                reason="openssh-server is not installed (scripts/ensure_sshd.sh installs it with apt)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """(port, accepted key, refused key, sshd process) of an sshd serving the current user on loopback only."""
    root = tmp_path_factory.mktemp("sshd")
    host, good, bad = _keygen(root / "host_key"), _keygen(root / "user_key"), _keygen(root / "other_key")
    (root / "authorized_keys").write_text((root / "user_key.pub").read_text())
    (root / "authorized_keys").chmod(0o600)
    port = _free_port()
    (root / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host}", f"AuthorizedKeysFile {root}/authorized_keys",
        f"PidFile {root}/sshd.pid", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "StrictModes no", "PermitRootLogin prohibit-password", "AllowTcpForwarding local", "X11Forwarding no", ""]))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
    proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(root / "sshd_config")], stdout=subprocess.DEVNULL,
                            stderr=open(root / "sshd.log", "wb"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail((root / "sshd.log").read_text())
    yield port, good, bad, proc
    proc.kill()
    proc.wait(10)


def test_ssh_target_end_to_end(sshd, settings, demo_model_dir, tmp_path):
    port, good, bad, _ = sshd
    user = getpass.getuser()
    service = TargetsService(settings)
    training = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    runner = training.runner
    lf_cli = str(Path(sys.executable).parent / "llamafactory-cli")
    common = {"type": "ssh", "user_host": f"{user}@127.0.0.1", "lf_cli": lf_cli, "remote_dir": str(tmp_path / "remote")}
    service.add({**common, "name": "box", "port": port, "key_file": str(good)})
    service.add({**common, "name": "closed", "port": _free_port(), "key_file": str(good)})
    service.add({**common, "name": "wrongkey", "port": port, "key_file": str(bad)})
    short = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="ssh-short",
                                         max_steps=2, logging_steps=1, save_steps=1, cutoff_len=64))
    long = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="ssh-long",
                                        max_steps=2000, logging_steps=1, save_steps=100000, cutoff_len=64))

    # Bad input is refused before any job exists, in both languages.
    assert service.check("box").ok
    closed, refused = service.check("closed", "zh"), service.check("wrongkey")
    assert not closed.ok and "无法连接 SSH 目标" in closed.detail
    assert not refused.ok and "refused the key" in refused.detail and "Permission denied" in refused.detail
    with pytest.raises(InvalidInputError, match="cannot be reached"):
        service.launch_train(training, short.path, "closed")
    with pytest.raises(InvalidInputError, match="refused the key") as caught:
        service.launch_train(training, short.path, "wrongkey")
    assert "拒绝了密钥" in caught.value.message("zh")
    missing = tmp_path / "elsewhere.yaml"
    missing.write_text(yaml.safe_dump({**yaml.safe_load(short.path.read_text()), "model_name_or_path": "/no/model"}))
    with pytest.raises(InvalidInputError, match="/no/model is not on target box"):
        service.launch_train(training, missing, "box")
    assert runner.list() == []

    done_job = service.launch_train(training, short.path, "box")
    stop_job = service.launch_train(training, long.path, "box")
    # The long run's steps arrive here while it runs: its trainer_log.jsonl is followed back.
    _wait(lambda: (Path(stop_job.run_dir) / "trainer_log.jsonl").is_file()
          and (Path(stop_job.run_dir) / "trainer_log.jsonl").read_text().count("\n") >= 2)
    remote = _wait(lambda: _remote(stop_job))
    assert procs.group_members(remote["pgid"])  # it runs over there, as its own process group
    stopped = runner.stop(stop_job.id, wait_s=60)
    assert stopped.status is JobStatus.STOPPED, runner.log_tail(stop_job.id)
    assert procs.wait_gone(procs.group_members(remote["pgid"]), 10)  # the stop reached the remote tree

    done = runner.wait(done_job.id, 180)
    assert done.status is JobStatus.COMPLETED, runner.log_tail(done.id, 60)
    out = Path(done.run_dir)
    assert (out / "adapter_model.safetensors").is_file() and (out / "all_results.json").is_file()
    assert not any(out.glob("checkpoint-*"))  # checkpoints stay remote unless asked for
    assert "[target] remote exit status 0" in runner.log_tail(done.id, 400)
    assert _remote(done)["root"].startswith(str(tmp_path / "remote"))
    entries = ModelRegistry(settings).sync_jobs([done])
    assert [entry.adapter for entry in entries if entry.adapter] == [str(out)]  # a new version of the base


def test_evaluation_and_merge_jobs_run_on_the_box(sshd, settings, demo_model_dir, perturbed_model, tmp_path):
    """Worker jobs travel too: the run folder (or nothing but params) goes over with llmops itself, the same
    job-worker runs there, and what it made comes back to be registered or read here."""
    import json

    from llmops.services import jobkinds
    from llmops.services.container import build_services
    from llmops.services.surgery.convert import convert
    from llmops.services.surgery.merge import plan_merge

    port, good, _, _ = sshd
    services = build_services(settings)
    box = {"type": "ssh", "user_host": f"{getpass.getuser()}@127.0.0.1", "port": port, "key_file": str(good),
           "remote_dir": str(tmp_path / "remote")}
    services.targets.add({**box, "name": "box", "python": sys.executable})
    services.targets.add({**box, "name": "bare", "python": "/usr/bin/python3"})  # no pydantic, no mergekit
    services.targets.add({"type": "ray", "name": "noshare", "address": "http://127.0.0.1:9"})
    base = services.models.add_base("tiny", str(demo_model_dir))
    other = services.models.add_base("tiny-b", str(perturbed_model))
    rows = [{"prompt": f"question {i}", "reference": f"answer {i}"} for i in range(3)]
    set_path = settings.home / "remote-set.jsonl"
    set_path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    values = {"models": [base.id], "set": str(set_path), "metrics": ["exact_match", "lf_bleu4"],
              "generation": {"max_new_tokens": 4}}
    plan = plan_merge(settings, "linear", [(base.id, {"weight": 0.5}), (other.id, {"weight": 0.5})], name="far-merge")

    # Refused before any job or run folder exists, in both languages.
    with pytest.raises(InvalidInputError, match="cannot import pydantic, yaml, torch, mergekit") as caught:
        jobkinds.submit(settings, services.runner, "mergekit", plan.job_params(), "merge", target="bare")
    assert "无法导入" in caught.value.message("zh")
    with pytest.raises(InvalidInputError, match="needs a shared path"):
        services.evals.start(values, target="noshare")
    assert services.runner.list() == [] and services.evals.list() == []

    folder, eval_job = services.evals.start(values, target="box")
    merge_job = jobkinds.submit(settings, services.runner, "mergekit", plan.job_params(), "merge", target="box")
    assert eval_job.meta["target"] == "box" and merge_job.meta["target_type"] == "ssh"
    # A dtype cast too; its perplexity set (a set of this home) travels as a set of the box's run home.
    services.evals.sets.add(set_path, "far-set")
    cast, cast_job = convert(settings, services.runner, base.id, "bf16", "box", name="far-bf16", ppl_set="far-set")

    merged = services.reconciler.wait_applied(merge_job.id, 240)
    assert merged.status is JobStatus.COMPLETED, services.runner.log_tail(merged.id, 60)
    result = merged.apply_result
    assert result["path"] == str(plan.output.final) and (plan.output.final / "model.safetensors").is_file()
    assert services.models.get(result["model_id"]).path == str(plan.output.final)  # registered here
    assert _remote(merged)["root"].startswith(str(tmp_path / "remote"))

    done = services.reconciler.wait_applied(eval_job.id, 240)
    assert done.status is JobStatus.COMPLETED, services.runner.log_tail(done.id, 60)
    view = services.evals.show(folder.run_id)
    assert view.summary is not None and view.summary.done == 3 == view.summary.total
    assert len(folder.path.joinpath("predictions.jsonl").read_text().splitlines()) == 3
    assert (folder.path / "contamination.json").is_file()  # checked here, against data that stays here
    assert json.loads((Path(done.run_dir) / "result.json").read_text())["path"] == str(folder.path)
    there = Path(_remote(done)["root"]) / "home" / folder.path.relative_to(settings.home)
    assert len((there / "predictions.jsonl").read_text().splitlines()) == 3  # the answers were written over there
    assert jobkinds.read_progress(done.run_dir).done == 3
    cast_done = services.reconciler.wait_applied(cast_job.id, 240)
    assert cast_done.status is JobStatus.COMPLETED, services.runner.log_tail(cast_done.id, 60)
    cast_result = cast_done.apply_result
    assert cast_result["path"] == cast.final and cast_result["ppl_set"] == "far-set"
    assert cast_result["ppl_before"] > 1 and abs(cast_result["ppl_after"] - cast_result["ppl_before"]) < 1
    entry = services.models.get(cast_result["model_id"])
    assert entry.path == cast.final and entry.lineage["ppl_set"] == "far-set"
    assert json.loads((Path(cast.final) / "config.json").read_text())["dtype"] == "bfloat16"
    for job in (merged, done, cast_done):
        assert "[target] remote exit status 0" in services.runner.log_tail(job.id, 400)


def test_a_version_served_on_the_box_answers_here_through_a_tunnel(sshd, settings, demo_model_dir, tmp_path):
    """`llamafactory-cli api` started on the box, bound to its loopback, registered here as an endpoint on the
    tunnel's port; refusals first, and a stop that leaves no server, tunnel or endpoint behind."""
    import json
    import urllib.request

    from llmops.errors import ConflictError
    from llmops.services.container import build_services
    from llmops.services.serving import ServeOptions

    port, good, _, _ = sshd
    services = build_services(settings)
    services.targets.add({"type": "ssh", "name": "box", "user_host": f"{getpass.getuser()}@127.0.0.1", "port": port,
                          "key_file": str(good), "remote_dir": str(tmp_path / "remote"), "python": sys.executable,
                          "lf_cli": str(Path(sys.executable).parent / "llamafactory-cli"),
                          "vllm": str(tmp_path / "no-vllm")})
    services.targets.add({"type": "slurm", "name": "cluster"})
    base = services.models.add_base("tiny", str(demo_model_dir), template="qwen")
    with pytest.raises(InvalidInputError, match="runs here or on an SSH box"):
        services.serving.submit(base.id, ServeOptions(), "cluster")
    with pytest.raises(InvalidInputError, match="vllm engine is not installed on target 'box'") as caught:
        services.serving.submit(base.id, ServeOptions(engine="vllm"), "box")
    assert "未安装 vllm 引擎" in caught.value.message("zh")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConflictError, match=f"Port {taken.getsockname()[1]} is already in use on target 'box'"):
            services.serving.submit(base.id, ServeOptions(port=taken.getsockname()[1]), "box")
    assert services.runner.list() == []

    job, made = services.serving.start(base.id, ServeOptions(), timeout_s=180, target="box")
    assert job.meta["target"] == "box" and job.meta["remote_port"] != job.meta["port"]
    endpoint = made[0]
    assert endpoint.endpoint.base_url == f"http://127.0.0.1:{job.meta['port']}/v1" == job.meta["base_url"]
    body = json.dumps({"model": base.id, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}).encode()
    request = urllib.request.Request(f"{endpoint.endpoint.base_url}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert json.loads(answer.read())["choices"][0]["message"]["role"] == "assistant"
    remote = _remote(job)
    assert procs.group_members(remote["pgid"])  # the server runs over there, as its own process group

    stopped = services.serving.stop(job.id)
    assert stopped.status is JobStatus.STOPPED, services.runner.log_tail(job.id, 40)
    assert procs.wait_gone(procs.group_members(remote["pgid"]), 15)
    assert endpoint.id not in [entry.id for entry in services.models.list()]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", job.meta["port"])) != 0  # the tunnel is closed too


def test_grpo_and_lora_export_run_on_the_box(sshd, settings, demo_model_dir, trained_adapter, tmp_path):
    """A GRPO run and a LoRA merge-export travel like a training: config, data, the reward file and llmops itself go
    over, the engine or `llamafactory-cli export` runs there, and what it made comes back to be registered here.
    A model the box lacks and a Python without trl are refused first, in both languages, before any job exists."""
    import json

    from llmops.services.container import build_services
    from llmops.services.surgery.export import merge_lora

    port, good, _, _ = sshd
    services = build_services(settings)
    box = {"type": "ssh", "user_host": f"{getpass.getuser()}@127.0.0.1", "port": port, "key_file": str(good),
           "remote_dir": str(tmp_path / "remote"), "lf_cli": str(Path(sys.executable).parent / "llamafactory-cli")}
    services.targets.add({**box, "name": "box", "python": sys.executable})
    services.targets.add({**box, "name": "bare", "python": "/usr/bin/python3"})  # no trl there
    services.targets.add({"type": "ray", "name": "noshare", "address": "http://127.0.0.1:9"})
    adapter = services.models.add_adapter("tuned", services.models.add_base("tiny", str(demo_model_dir)).id,
                                          str(trained_adapter))
    (settings.home / "far_reward.py").write_text("def half(prompts, completions, **kwargs):\n"
                                                 "    return [0.5] * len(completions)\n")
    saved = services.grpo.save(services.grpo.build(
        str(demo_model_dir), "sample_verifiable", max_steps=1, prompts_per_step=2, num_generations=2,
        max_completion_length=4, logging_steps=1, reward_file="far_reward.py:half"))
    elsewhere = settings.home / "elsewhere.yaml"
    elsewhere.write_text(yaml.safe_dump({**yaml.safe_load(saved.path.read_text()), "model": "/no/model"}))

    with pytest.raises(InvalidInputError, match="/no/model is not on target box") as caught:
        services.grpo.launch_file(elsewhere, target="box")
    assert "/no/model" in caught.value.message("zh") and caught.value.message("zh") != caught.value.message("en")
    with pytest.raises(InvalidInputError, match="cannot import .*trl") as caught:
        services.grpo.launch_file(saved.path, target="bare")
    assert "无法导入" in caught.value.message("zh")
    with pytest.raises(InvalidInputError, match="A LoRA merge-export on Ray target 'noshare' needs a shared path"
                       ) as caught:
        merge_lora(settings, services.runner, adapter.id, "noshare", name="far-merged")
    assert "LoRA 合并导出" in caught.value.message("zh")
    assert services.runner.list() == [] and not list(settings.checkpoints_dir.iterdir())

    grpo_job = services.grpo.launch_file(saved.path, target="box")
    export, export_job = merge_lora(settings, services.runner, adapter.id, "box", name="far-merged")
    assert grpo_job.meta["target"] == "box" == export_job.meta["target"] and grpo_job.devices == "none"

    grpo_done = services.reconciler.wait_applied(grpo_job.id, 240)
    assert grpo_done.status is JobStatus.COMPLETED, services.runner.log_tail(grpo_job.id, 60)
    out = Path(grpo_done.run_dir)
    assert (out / "adapter_model.safetensors").is_file() and (out / "all_results.json").is_file()
    logged = [json.loads(line) for line in (out / "trainer_log.jsonl").read_text().splitlines()]
    assert logged and logged[-1]["reward_half"] == pytest.approx(0.5)  # the shipped reward file scored it there
    version = services.models.get(grpo_done.apply_result["model_ids"][0])
    assert version.adapter == str(out) and version.lineage["stage"] == "grpo"
    assert _remote(grpo_done)["root"].startswith(str(tmp_path / "remote"))

    export_done = services.reconciler.wait_applied(export_job.id, 240)
    assert export_done.status is JobStatus.COMPLETED, services.runner.log_tail(export_job.id, 60)
    final = export.plan.output.final
    assert export_done.apply_result["path"] == str(final) and (final / "model.safetensors").is_file()
    assert services.models.get(export_done.apply_result["model_id"]).kind == "merged"
    assert not list(final.parent.glob(".partial-*"))  # landed in the partial folder, then moved into place here
    there = Path(_remote(export_done)["root"])
    assert yaml.safe_load((there / "config.yaml").read_text())["export_dir"] == "output"
    for job in (grpo_done, export_done):
        assert "[target] remote exit status 0" in services.runner.log_tail(job.id, 400)


def test_a_vanished_target_turns_the_job_lost(sshd, settings, tmp_path, monkeypatch, demo_model_dir):
    port, good, _, proc = sshd
    monkeypatch.setenv("LLMOPS_TARGET_LOST_S", "3")
    settings = Settings.from_env()
    # The remote "trainer" here is a sleeping stand-in: what is tested is the watcher noticing its target gone.
    fake = tmp_path / "slow-trainer"
    fake.write_text("#!/bin/sh\nsleep 120\n")
    fake.chmod(0o755)
    service = TargetsService(settings)
    training = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    service.add({"type": "ssh", "name": "box", "user_host": f"{getpass.getuser()}@127.0.0.1", "port": port,
                 "key_file": str(good), "lf_cli": str(fake), "remote_dir": str(tmp_path / "remote")})
    saved = training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name="ssh-lost", max_steps=1))
    job = service.launch_train(training, saved.path, "box")
    remote = _wait(lambda: _remote(job), 60)
    proc.kill()  # the box goes away (the last test of the module: the fixture's sshd is not reused)
    proc.wait(10)
    lost = training.runner.wait(job.id, 60)
    assert lost.status is JobStatus.LOST and "unreachable for 3 s" in lost.message, lost.message
    procs.kill_tree(remote["pgid"], pgid=remote["pgid"])
