"""Jobs start without the app's secrets; the one a spec names is the only one passed on."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from llmops.runner.runner import JobRunner
from llmops.schemas.jobs import JobSpec
from llmops.security.environ import child_env, is_secret_name

CANARY = "canary-7c1d0e5b9a"


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode("utf-8", "replace").split("\0") if "=" in item)


def test_a_running_job_holds_no_secret_of_the_app(settings, monkeypatch):
    for name in ("OPENAI_API_KEY", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "MY_DB_PASSWORD",
                 "SERVICE_AUTH", "NEEDED_TOKEN"):
        monkeypatch.setenv(name, f"{CANARY}-{name}")
    runner = JobRunner(settings)
    run_dir = settings.checkpoints_dir / "envcheck"
    spec = JobSpec(kind="test", name="envcheck", argv=[sys.executable, "-c", "import time; time.sleep(60)"],
                   cwd=str(settings.home), run_dir=str(run_dir), env={"JOB_SETTING": "1"},
                   secret_env=("NEEDED_TOKEN",))
    job = runner.submit(spec)
    deadline = time.monotonic() + 30
    while not (job := runner.get(job.id)).pid:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    try:
        for pid in (job.pid, job.sup_pid):
            env = environ_of(pid)
            assert not [k for k, v in env.items() if CANARY in v and k != "NEEDED_TOKEN"], pid
            assert env["NEEDED_TOKEN"] == f"{CANARY}-NEEDED_TOKEN" and "PATH" in env
        assert environ_of(job.pid)["JOB_SETTING"] == "1" and environ_of(job.pid)["LLMOPS_HOME"] == str(settings.home)
    finally:
        runner.stop(job.id, wait_s=20)


def test_secret_names():
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HF_TOKEN", "AWS_PROFILE", "GITHUB_PAT", "db_password",
                 "SSH_AUTH_SOCK", "GOOGLE_APPLICATION_CREDENTIALS", "WANDB_API_KEY", "MY_SECRET"):
        assert is_secret_name(name), name
    for name in ("PATH", "HOME", "HF_HOME", "HF_HUB_OFFLINE", "CUDA_VISIBLE_DEVICES", "LLAMABOARD_WORKDIR", "LANG"):
        assert not is_secret_name(name), name
    assert child_env({"PATH": "/bin", "X_TOKEN": "t", "Y_TOKEN": "y"}, ["Y_TOKEN"]) == {"PATH": "/bin", "Y_TOKEN": "y"}
