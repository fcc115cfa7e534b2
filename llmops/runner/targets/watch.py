"""The process a remote job's supervisor runs: start the job on its target, mirror its log and progress here,
pass a stop on, fetch the outputs, and exit with the remote exit status (LOST_EXIT when the target vanished)."""

from __future__ import annotations

import json
import shutil
import signal
import sys
import time
from pathlib import Path

from ...storage import atomic_write_json, atomic_write_text
from . import LOST_EXIT, LOST_FILE, PLAN_FILE, REMOTE_FILE, ray_jobs, slurm, ssh

POLL_S = 1.0
STOP_POLL_S = 0.2
FOLLOWED = ("job.log", "trainer_log.jsonl")
RESULT = "result.json"
# What a worker job writes beside its params: progress is followed live, all three come back at the end.
WORKER_RECORDS = ("progress.json", "error.json", RESULT)


class Watcher:
    """Shared loop state: stop requests arrive as signals from the supervisor."""

    def __init__(self, run_dir: Path, plan: dict):
        self.run_dir, self.plan = run_dir, plan
        self.stop_at: float | None = None
        self.lost_after_s = float(plan.get("lost_after_s", 30.0))

    def on_signal(self, signum, frame) -> None:
        """SIGABRT/SIGTERM from the supervisor: stop the remote job the graceful way."""
        if self.stop_at is None:
            self.stop_at = time.monotonic()

    def lost(self, reason: str) -> int:
        """Record why the target was lost and exit so the job turns LOST."""
        atomic_write_text(self.run_dir / LOST_FILE, reason)
        print(f"[target] {reason}", flush=True)
        return LOST_EXIT


def _say(text: str) -> None:
    print(f"[target] {text}", flush=True)


def _run_ssh(w: Watcher) -> int:
    p = w.plan
    address = ssh.SshAddress(p["user_host"], int(p["port"]), p.get("key_file", ""), p.get("known_hosts", ""))
    root = p["remote_root"]
    _say(f"copying the run folder to {p['user_host']}:{root}")
    ssh.send_folder(address, Path(p["stage_dir"]), root)
    env = " ".join(f"{key}={ssh.quote(value)}" for key, value in p["env"].items())
    command = p.get("shell") or ssh.quote(p["lf_cli"], "train", "config.yaml")
    inner = (f"echo $$ > pgid; trap true ABRT TERM; {env} {command} "
             "> job.log 2>&1; echo $? > exit_code.tmp && mv exit_code.tmp exit_code")
    # setsid --fork: the remote job leads its own session and process group (its pid, written to `pgid`), holds
    # nothing of the connection, and survives it dropping.
    started = ssh.run(address, f"cd {ssh.quote(root)} || exit 1; setsid -f nohup sh -c {ssh.quote(inner)} "
                               "</dev/null >/dev/null 2>&1; for i in $(seq 100); do [ -s pgid ] && break; "
                               "sleep 0.1; done; cat pgid")
    pgid = started.stdout.decode().strip()
    if started.returncode != 0 or not pgid.isdigit():
        _say(f"could not start: {started.stderr.decode('utf-8', 'replace')[-300:]}")
        return 1
    atomic_write_json(w.run_dir / REMOTE_FILE, {"user_host": p["user_host"], "root": root, "pgid": int(pgid)})
    _say(f"started on {p['user_host']} as process group {pgid}")
    tunnel = ssh.Tunnel(address, **p["tunnel"]) if p.get("tunnel") else None
    try:
        return _watch_ssh(w, address, root, pgid, tunnel)
    finally:
        if tunnel is not None:
            tunnel.close()


def _watch_ssh(w: Watcher, address: ssh.SshAddress, root: str, pgid: str, tunnel: ssh.Tunnel | None) -> int:
    """Poll the remote job until it ends: pass a stop on, follow its files, keep a server's tunnel open."""
    p = w.plan
    offsets = dict.fromkeys(FOLLOWED, 0)
    failing_since, stop_sent, killed = None, False, False
    # A trainer gets half the grace to save; a server has nothing to save, so it is killed soon after the ask.
    kill_after = float(p.get("grace_s", 30.0)) / (2 if tunnel is None else 10)
    probe = (f"cd {ssh.quote(root)} && if [ -f exit_code ]; then cat exit_code; "
             f"elif kill -0 -- -{pgid} 2>/dev/null; then echo running; else echo gone; fi")
    while True:
        # While stopping, look often and follow nothing: the stop must reach the box well inside the local grace.
        time.sleep(STOP_POLL_S if w.stop_at is not None else POLL_S)
        if w.stop_at is not None and not stop_sent:
            stop_sent = ssh.run(address, f"kill -ABRT -- -{pgid}").returncode != 255
        if stop_sent and not killed and time.monotonic() - w.stop_at > kill_after:
            killed = ssh.run(address, f"kill -KILL -- -{pgid}").returncode != 255
        status = ssh.run(address, probe)
        if ssh.connection_failed(status):
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > w.lost_after_s:
                return w.lost(f"target {p['user_host']} unreachable for {w.lost_after_s:.0f} s: "
                              f"{status.stderr.decode('utf-8', 'replace').strip()[-200:]}")
            continue
        failing_since = None
        if tunnel is not None and w.stop_at is None:
            tunnel.keep()
        if w.stop_at is None:
            _follow(address, root, offsets, w.run_dir, "worker" in p)
        answer = status.stdout.decode().strip()
        if answer == "running":
            continue
        if answer == "gone":
            return w.lost(f"the job's processes on {p['user_host']} vanished without an exit status")
        code = int(answer) if answer.lstrip("-").isdigit() else 1
        _follow(address, root, offsets, w.run_dir, "worker" in p)
        if tunnel is not None:
            _say(f"remote exit status {code}; the server ended")
            return code
        _say(f"remote exit status {code}; fetching outputs")
        if "worker" in p:
            _bring_back(w, lambda rel, here: ssh.fetch_folder(address, f"{root}/{rel}", here),
                        lambda name: _remote_text(address, f"{root}/{name}"))
            return code
        exclude = () if p.get("fetch_checkpoints") else ("./checkpoint-*",)
        ssh.fetch_folder(address, f"{root}/output", _output_into(w), exclude=exclude)
        return code


def _output_into(w: Watcher) -> Path:
    """Where the remote output/ lands: the run folder, or the folder the plan names (an export's partial folder)."""
    return Path(w.plan.get("output_into") or w.run_dir)


def _remote_text(address: ssh.SshAddress, path: str) -> bytes | None:
    got = ssh.run(address, f"cat {ssh.quote(path)} 2>/dev/null")
    return got.stdout if got.returncode == 0 else None


def _bring_back(w: Watcher, copy_folder, read_file) -> None:
    """A worker job's outputs: each folder the kind names, then its records; result.json last, with its paths as
    they read here, because its presence is what proves the job's output complete."""
    worker = w.plan["worker"]
    records = {name: read_file(name) for name in WORKER_RECORDS}
    if records[RESULT] is not None:
        for rel, here, whole, *optional in worker["fetch"]:
            try:
                _fetch_one(copy_folder, rel, Path(here), whole)
            except OSError:
                if not (optional and optional[0]):
                    raise
                _say(f"{rel} was not made over there; nothing to fetch")
    for name, data in records.items():
        if data is None:
            continue
        if name == RESULT:
            made = json.loads(data)
            # Only what the far side reported is renamed: a result without a path gains none here.
            data = json.dumps({**made, **{k: v for k, v in worker["result"].items() if k in made}},
                              ensure_ascii=False).encode()
        atomic_write_text(w.run_dir / name, data.decode("utf-8", "replace"))


def _fetch_one(copy_folder, rel: str, target: Path, whole: bool) -> None:
    """One remote folder into `target`: merged into it, or landed aside and renamed into place whole."""
    if not whole:
        copy_folder(rel, target)
        return
    landing = target.with_name(f".{target.name}.fetching")
    shutil.rmtree(landing, ignore_errors=True)
    try:
        copy_folder(rel, landing)
    except OSError:
        shutil.rmtree(landing, ignore_errors=True)
        raise
    landing.rename(target)  # refused when the folder appeared meanwhile: nothing of it is overwritten


def _follow(address: ssh.SshAddress, root: str, offsets: dict[str, int], run_dir: Path, worker: bool = False) -> None:
    """Append what the remote log gained since the last look; a training's trainer_log.jsonl likewise, a worker
    job's progress.json whole (it is rewritten, not appended)."""
    if worker:
        data = _remote_text(address, f"{root}/{WORKER_RECORDS[0]}")
        if data:
            atomic_write_text(run_dir / WORKER_RECORDS[0], data.decode("utf-8", "replace"))
    for name in FOLLOWED[:1] if worker else FOLLOWED:
        remote = f"{root}/{'output/' if name != 'job.log' else ''}{name}"
        got = ssh.run(address, f"[ -f {ssh.quote(remote)} ] && tail -c +{offsets[name] + 1} {ssh.quote(remote)} || true")
        if got.returncode != 0 or not got.stdout:
            continue
        offsets[name] += len(got.stdout)
        if name == "job.log":
            sys.stdout.buffer.write(got.stdout)
            sys.stdout.flush()
        else:
            with open(run_dir / name, "ab") as handle:
                handle.write(got.stdout)


def _run_slurm(w: Watcher) -> int:
    p = w.plan
    job_id = slurm.submit(Path(p["script"]))
    atomic_write_json(w.run_dir / REMOTE_FILE, {"slurm_job": job_id, "script": p["script"]})
    _say(f"submitted batch job {job_id}")
    out, offset, unknown_since, cancelled = w.run_dir / f"slurm-{job_id}.out", 0, None, False
    while True:
        time.sleep(POLL_S)
        if w.stop_at is not None and not cancelled:
            slurm.cancel(job_id)
            cancelled = True
        offset = _follow_local(out, offset)
        name, code = slurm.state(job_id)
        if not name:
            unknown_since = unknown_since or time.monotonic()
            if time.monotonic() - unknown_since > w.lost_after_s:
                return w.lost(f"Slurm no longer knows batch job {job_id} (squeue and sacct are silent)")
            continue
        unknown_since = None
        if name in slurm.ACTIVE:
            continue
        _follow_local(out, offset)
        _say(f"batch job {job_id} ended: {name}")
        return 0 if name == "COMPLETED" else (code or 1)


def _follow_local(path: Path, offset: int) -> int:
    if not path.exists():
        return offset
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return offset + len(data)


def _run_ray(w: Watcher) -> int:
    p = w.plan
    url, sid, root = p["url"], p["submission_id"], p.get("shared_root") or ""
    if root:
        # A shared path is seen by this machine and the cluster alike: the run folder is placed there.
        shutil.copytree(p["stage_dir"], root)
    _say(f"submitting to the Ray Jobs API at {url} as {sid}")
    ray_jobs.submit(url, p["entrypoint"], p["runtime_env"], sid, {"llmops_run": w.run_dir.name})
    atomic_write_json(w.run_dir / REMOTE_FILE, {"url": url, "submission_id": sid, "root": root})
    api, offsets, failing_since, stop_sent = None, {"log": 0, "trainer_log.jsonl": 0}, None, False
    while True:
        time.sleep(POLL_S)
        try:
            api = api or ray_jobs.client(url)
            if w.stop_at is not None and not stop_sent:
                api.stop_job(sid)  # Ray signals the job's process group, then kills it after its own grace
                stop_sent = True
            status, code, message = ray_jobs.state(api, sid)
            _follow_ray(api, sid, root, offsets, w.run_dir)
        except (OSError, RuntimeError) as exc:  # requests' errors are OSErrors; the SDK raises RuntimeError on HTTP errors
            api, failing_since = None, failing_since or time.monotonic()
            if time.monotonic() - failing_since > w.lost_after_s:
                return w.lost(f"Ray cluster at {url} unreachable for {w.lost_after_s:.0f} s: {str(exc)[-200:]}")
            continue
        failing_since = None
        if status in ray_jobs.ACTIVE:
            continue
        _say(f"Ray job {sid} ended: {status}{f' ({message})' if message else ''}")
        if "worker" in p:
            _bring_back(w, lambda rel, here: shutil.copytree(Path(root) / rel, here, dirs_exist_ok=True),
                        lambda name: _local_bytes(Path(root) / name))
        elif root and (Path(root) / "output").is_dir():
            exclude = None if p.get("fetch_checkpoints") else shutil.ignore_patterns("checkpoint-*")
            shutil.copytree(Path(root) / "output", _output_into(w), ignore=exclude, dirs_exist_ok=True)
        elif not root:
            _say("no shared path: the outputs stay in the Ray job's working folder on the cluster")
        return 0 if status == "SUCCEEDED" else (code or 1)


def _follow_ray(api, sid: str, root: str, offsets: dict[str, int], run_dir: Path) -> None:
    """Append what the Ray job's log gained; on a shared path, its trainer_log.jsonl too (the live chart)."""
    text = api.get_job_logs(sid)
    sys.stdout.write(text[offsets["log"]:])
    sys.stdout.flush()
    offsets["log"] = len(text)
    progress = _local_bytes(Path(root) / WORKER_RECORDS[0]) if root else None
    if progress:
        atomic_write_text(run_dir / WORKER_RECORDS[0], progress.decode("utf-8", "replace"))
    elif root:
        with open(run_dir / "trainer_log.jsonl", "ab") as handle:
            offsets["trainer_log.jsonl"] = _copy_new(Path(root) / "output" / "trainer_log.jsonl",
                                                     offsets["trainer_log.jsonl"], handle)


def _local_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _copy_new(path: Path, offset: int, handle) -> int:
    if not path.exists():
        return offset
    with open(path, "rb") as source:
        source.seek(offset)
        data = source.read()
    handle.write(data)
    return offset + len(data)


def main(argv: list[str] | None = None) -> int:
    """Entry point: python -m llmops.runner.targets.watch RUN_DIR."""
    run_dir = Path((argv or sys.argv[1:])[0])
    plan = json.loads((run_dir / PLAN_FILE).read_text(encoding="utf-8"))
    watcher = Watcher(run_dir, plan)
    for sig in (signal.SIGABRT, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, watcher.on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        runs = {"ssh": _run_ssh, "slurm": _run_slurm, "ray": _run_ray}
        return runs[plan["type"]](watcher)
    except OSError as exc:
        _say(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
