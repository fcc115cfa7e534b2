"""Targets: the registry and its CLI, the sbatch script, and Slurm submission against stand-in commands on PATH.

No real Slurm can run on this machine: `sbatch`, `squeue`, `sacct` and `scancel` are small scripts the test writes,
keeping each batch job's state in a folder, so what is tested is our side (script, submit, mirror, cancel, LOST)."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from llmops.cli.main import main
from llmops.errors import ConflictError, InvalidInputError, NotFoundError
from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobStatus
from llmops.services.device import DeviceInfo
from llmops.services.targets import TargetsService
from llmops.services.training import TrainingService

STANDINS = {
    "sbatch": """#!/bin/bash
script="${@: -1}"
n=$(( $(cat "$SLURM_STANDIN/counter" 2>/dev/null || echo 4241) + 1 )); echo $n > "$SLURM_STANDIN/counter"
out=$(sed -n 's/^#SBATCH --output=//p' "$script" | sed "s/%j/$n/")
cp "$script" "$SLURM_STANDIN/$n.script"
echo "stand-in batch job $n running" > "$out"
echo RUNNING > "$SLURM_STANDIN/$n.state"
echo $n
""",
    "squeue": """#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = "-j" ] && id=$2; shift; done
[ -f "$SLURM_STANDIN/$id.state" ] && cat "$SLURM_STANDIN/$id.state"
exit 0
""",
    "sacct": """#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = "-j" ] && id=$2; shift; done
[ -f "$SLURM_STANDIN/$id.final" ] && cat "$SLURM_STANDIN/$id.final"
exit 0
""",
    "scancel": """#!/bin/bash
rm -f "$SLURM_STANDIN/$1.state"; echo "CANCELLED by 0|0:15" > "$SLURM_STANDIN/$1.final"
""",
}


def _standins(folder: Path) -> Path:
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in STANDINS.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    (folder / "state").mkdir()
    return bin_dir


def _wait(predicate, timeout: float = 120.0):
    """The predicate's first true value, polled until `timeout` (shared by the target tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def _remote(job) -> dict | None:
    """What the job's watcher recorded of the remote job (target_remote.json), once it exists."""
    path = Path(job.run_dir) / "target_remote.json"
    return json.loads(path.read_text()) if path.is_file() else None


def test_registry_and_cli(settings, capsys, tmp_path):
    service = TargetsService(settings)
    assert [t.name for t in service.list()] == ["local"]
    assert service.check("local").ok
    assert main(["targets", "add", "slurm", "cluster", "--partition", "gpu", "--nodes", "2"]) == 0
    key = tmp_path / "id_test"
    key.write_text("not read by the studio")
    assert main(["targets", "add", "ssh", "box", "me@gpu-box.example", "--key", str(key), "--port", "2222"]) == 0
    # Both flags are optional: the default partition, and the SSH agent's keys.
    assert main(["targets", "add", "slurm", "default_queue"]) == 0
    assert main(["targets", "add", "ssh", "agent_box", "me@gpu-box.example"]) == 0
    assert main(["targets", "remove", "default_queue"]) == 0 and main(["targets", "remove", "agent_box"]) == 0
    stored = json.loads(settings.targets_path.read_text())
    assert [t["name"] for t in stored["targets"]] == ["cluster", "box"]
    assert stored["targets"][1]["key_file"] == str(key.resolve())
    assert "not read by the studio" not in settings.targets_path.read_text()  # a path, never the key
    capsys.readouterr()
    assert main(["targets", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["name"], t["type"]) for t in listed] == [("local", "local"), ("cluster", "slurm"), ("box", "ssh")]
    assert listed[1]["partition"] == "gpu" and listed[1]["nodes"] == 2
    with pytest.raises(ConflictError):
        service.add({"type": "slurm", "name": "cluster"})
    # With paths restricted (a studio reachable beyond loopback), a key file or shared path outside the allowed
    # roots is refused like any other path.
    import dataclasses

    from llmops.security.paths import PathNotAllowed

    locked = TargetsService(dataclasses.replace(settings, restricted=True))
    with pytest.raises(PathNotAllowed):
        locked.add({"type": "ssh", "name": "etc", "user_host": "me@gpu-box.example", "key_file": "/etc/hostname"})
    with pytest.raises(PathNotAllowed) as caught:
        locked.add({"type": "ray", "name": "etc", "address": "http://127.0.0.1:9", "shared_path": "/etc"})
    assert caught.value.message("zh") != caught.value.message("en")
    inside = settings.home / "shared"
    inside.mkdir()
    assert locked.add({"type": "ray", "name": "mine", "address": "http://127.0.0.1:9",
                       "shared_path": str(inside)}).shared_path == str(inside.resolve())
    locked.remove("mine")
    with pytest.raises(InvalidInputError, match="user@host"):
        service.add({"type": "ssh", "name": "bad", "user_host": "no-user-here"})
    with pytest.raises(InvalidInputError, match="does not exist"):
        service.add({"type": "ssh", "name": "nokey", "user_host": "a@b", "key_file": str(tmp_path / "missing")})
    with pytest.raises(InvalidInputError, match="'local'"):
        service.remove("local")
    assert main(["targets", "remove", "box"]) == 0
    with pytest.raises(NotFoundError):
        service.get("box")
    assert main(["targets", "check", "nowhere"]) == 2
    assert "No target named 'nowhere'" in capsys.readouterr().err


def test_sbatch_script_and_submission_through_standins(settings, demo_model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("LLMOPS_TARGET_LOST_S", "2")
    from llmops.settings import Settings

    settings = Settings.from_env()
    service = TargetsService(settings)
    training = TrainingService(settings, JobRunner(settings), device=DeviceInfo())
    service.add({"type": "slurm", "name": "cluster", "partition": "a100", "nodes": 2, "gpus_per_node": 8,
                 "time": "01:30:00"})
    saved = [training.save(training.build("sft", str(demo_model_dir), ["sample_sft"], run_name=f"slurm{i}",
                                          max_steps=1)) for i in range(3)]

    health = service.check("cluster")
    assert not health.ok and "sbatch" in health.detail
    with pytest.raises(InvalidInputError, match="Slurm is not available"):
        service.launch_train(training, saved[0].path, "cluster")
    assert training.runner.list() == []  # refused before any job existed

    script, text = service.sbatch_script("cluster", saved[0].path)
    assert script == saved[0].path.with_suffix(".sbatch") and script.read_text() == text
    for line in ("#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=1", "#SBATCH --gpus-per-node=8",
                 "#SBATCH --partition=a100", "#SBATCH --time=01:30:00",
                 'export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
                 "export MASTER_PORT=29500"):
        assert line in text.splitlines(), line
    assert 'FORCE_TORCHRUN=1 NNODES="$SLURM_NNODES" NODE_RANK="$SLURM_PROCID" NPROC_PER_NODE=8' in text
    assert f"train {saved[0].path}" in text

    bin_dir = _standins(tmp_path / "slurm")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("SLURM_STANDIN", str(tmp_path / "slurm" / "state"))
    assert service.check("cluster").ok
    runner = training.runner
    jobs = [service.launch_train(training, item.path, "cluster") for item in saved]
    assert all(job.meta["target"] == "cluster" and job.devices == "none" for job in jobs)
    for job in jobs:
        _wait(lambda: "stand-in batch job" in runner.log_tail(job.id) and runner.get(job.id).status is JobStatus.RUNNING)
    ids = {job.id: json.loads((Path(job.run_dir) / "target_remote.json").read_text())["slurm_job"] for job in jobs}
    state = tmp_path / "slurm" / "state"
    assert (state / f"{ids[jobs[0].id]}.script").read_text() == script.read_text()

    # The cluster finishes one, forgets another, and the user stops the third.
    (state / f"{ids[jobs[0].id]}.state").unlink()
    (state / f"{ids[jobs[0].id]}.final").write_text("COMPLETED|0:0\n")
    (state / f"{ids[jobs[1].id]}.state").unlink()
    stopped = runner.stop(jobs[2].id, wait_s=30)
    done, lost = runner.wait(jobs[0].id, 30), runner.wait(jobs[1].id, 30)
    assert done.status is JobStatus.COMPLETED, runner.log_tail(done.id)
    assert lost.status is JobStatus.LOST and f"Slurm no longer knows batch job {ids[jobs[1].id]}" in lost.message
    assert stopped.status is JobStatus.STOPPED
    assert (state / f"{ids[jobs[2].id]}.final").read_text().startswith("CANCELLED")  # scancel reached it

    capsys.readouterr()
    assert main(["targets", "sbatch", "cluster", str(saved[1].path)]) == 0
    assert "#SBATCH --nodes=2" in capsys.readouterr().out


RUNNING_STANDINS = {
    # This stand-in runs the batch script on this machine (one "node" sharing the home), as a cluster would.
    "sbatch": """#!/bin/bash
script="${@: -1}"
n=$(( $(cat "$SLURM_STANDIN/counter" 2>/dev/null || echo 7000) + 1 )); echo $n > "$SLURM_STANDIN/counter"
out=$(sed -n 's/^#SBATCH --output=//p' "$script" | sed "s/%j/$n/")
cp "$script" "$SLURM_STANDIN/$n.script"
( bash "$script" > "$out" 2>&1; echo $? > "$SLURM_STANDIN/$n.rc" ) </dev/null >/dev/null 2>&1 &
echo $n
""",
    "squeue": """#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = "-j" ] && id=$2; shift; done
[ -f "$SLURM_STANDIN/$id.script" ] && [ ! -f "$SLURM_STANDIN/$id.rc" ] && echo RUNNING
exit 0
""",
    "sacct": """#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = "-j" ] && id=$2; shift; done
rc=$(cat "$SLURM_STANDIN/$id.rc" 2>/dev/null) || exit 0
[ "$rc" = 0 ] && echo "COMPLETED|0:0" || echo "FAILED|$rc:0"
""",
    "scancel": "#!/bin/bash\nexit 0\n",
}


def test_a_merge_job_through_sbatch_runs_the_worker_in_place(settings, demo_model_dir, perturbed_model, tmp_path,
                                                             monkeypatch, trained_adapter):
    from llmops.services import jobkinds
    from llmops.services.container import build_services
    from llmops.services.surgery.export import merge_lora
    from llmops.services.surgery.merge import plan_merge

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in RUNNING_STANDINS.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "state").mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("SLURM_STANDIN", str(tmp_path / "state"))
    services = build_services(settings)
    services.targets.add({"type": "slurm", "name": "cluster", "partition": "cpu", "gpus_per_node": 0})
    a, b = (services.models.add_base(name, str(path)) for name, path in (("a", demo_model_dir), ("b", perturbed_model)))
    plan = plan_merge(settings, "linear", [(a.id, {"weight": 0.5}), (b.id, {"weight": 0.5})], name="slurm-merge")
    job = jobkinds.submit(settings, services.runner, "mergekit", plan.job_params(), "merge", target="cluster")
    done = services.reconciler.wait_applied(job.id, 240)
    assert done.status is JobStatus.COMPLETED, services.runner.log_tail(done.id, 60)
    script = (Path(done.run_dir) / "job.sbatch").read_text()
    assert "#SBATCH --partition=cpu" in script and "--gpus-per-node" not in script
    assert f"-m llmops job-worker {done.run_dir}" in script and f"export LLMOPS_HOME={settings.home}" in script
    log = services.runner.log_tail(done.id, 400)
    assert "submitted batch job 7001" in log and "ended: COMPLETED" in log
    assert services.models.get(done.apply_result["model_id"]).path == str(plan.output.final)
    assert (plan.output.final / "model.safetensors").is_file()

    # An argv job (a LoRA merge-export) runs its own command in place through the same one-node script.
    adapter = services.models.add_adapter("tuned", a.id, str(trained_adapter))
    export, job = merge_lora(settings, services.runner, adapter.id, "cluster", name="slurm-lora")
    done = services.reconciler.wait_applied(job.id, 240)
    assert done.status is JobStatus.COMPLETED, services.runner.log_tail(done.id, 60)
    script = (Path(done.run_dir) / "job.sbatch").read_text()
    assert f"cd {settings.home}" in script and f"export {export.path}" in script and "job-worker" not in script
    assert services.models.get(done.apply_result["model_id"]).kind == "merged"
    assert (export.plan.output.final / "model.safetensors").is_file()
