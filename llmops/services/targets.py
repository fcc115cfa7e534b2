"""Execution targets: the registry in configs/targets.json, a health check each, and launching a training there."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from dataclasses import replace
from functools import partial
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from ..errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from ..i18n import Message, t
from ..lf import dataset_info
from ..runner.targets import PLAN_FILE, ray_jobs, slurm, ssh
from ..schemas.jobs import Job, JobSpec
from ..security.paths import contain
from ..schemas.targets import LOCAL, Health, LocalTarget, RayTarget, SlurmTarget, SshTarget, Target, TargetsFile
from ..settings import Settings
from ..storage import atomic_write_json, atomic_write_text, file_lock

_ONE = TypeAdapter(Target)
STAGE_DIR = "target_stage"


class TargetsService:
    """CRUD over the targets file (the local machine is always there) and the launch path for each kind."""

    def __init__(self, settings: Settings):
        self.settings = settings

    # --- registry -------------------------------------------------------------------------------

    def _read(self) -> TargetsFile:
        path = self.settings.targets_path
        if not path.exists():
            return TargetsFile()
        try:
            return TargetsFile.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, ValueError, OSError) as exc:
            raise StorageError("err.target.file_invalid", path=str(path), reason=str(exc)[:300]) from exc

    def list(self) -> list[LocalTarget | SlurmTarget | SshTarget | RayTarget]:
        """Every target, the local machine first."""
        return [LocalTarget(name=LOCAL), *self._read().targets]

    def get(self, name: str) -> LocalTarget | SlurmTarget | SshTarget | RayTarget:
        """One target by name."""
        for target in self.list():
            if target.name == name:
                return target
        raise NotFoundError("err.target.unknown", name=name, known=", ".join(x.name for x in self.list()))

    def add(self, data: dict) -> LocalTarget | SlurmTarget | SshTarget | RayTarget:
        """Validate and store a new target (names are unique; 'local' is reserved)."""
        try:
            target = _ONE.validate_python(data)
        except ValidationError as exc:
            reason = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or e['loc'][0]}: {e['msg']}" for e in exc.errors())
            raise InvalidInputError("err.target.invalid", reason=reason) from exc
        if target.name == LOCAL or target.type == "local":
            raise InvalidInputError("err.target.reserved")
        if isinstance(target, SshTarget) and target.key_file:
            key = contain(self.settings, target.key_file)  # a path from a page is held to the allowed roots
            if not key.is_file():
                raise InvalidInputError("err.target.key_missing", path=str(key))
            target = target.model_copy(update={"key_file": str(key.resolve())})
        if isinstance(target, RayTarget) and target.shared_path:
            shared = contain(self.settings, target.shared_path)  # jobs write there: the same roots as any path
            target = target.model_copy(update={"shared_path": str(shared.resolve())})
        with file_lock(self.settings.targets_path):
            current = self._read()
            if any(x.name == target.name for x in current.targets):
                raise ConflictError("err.target.exists", name=target.name)
            current.targets.append(target)
            self._write(current)
        return target

    def remove(self, name: str) -> None:
        """Forget a target (jobs already sent there keep their own plan)."""
        if name == LOCAL:
            raise InvalidInputError("err.target.reserved")
        with file_lock(self.settings.targets_path):
            current = self._read()
            kept = [x for x in current.targets if x.name != name]
            if len(kept) == len(current.targets):
                raise NotFoundError("err.target.unknown", name=name, known=", ".join(x.name for x in self.list()))
            self._write(TargetsFile(targets=kept))

    def _write(self, content: TargetsFile) -> None:
        self.settings.targets_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.settings.targets_path, content.model_dump_json(indent=2) + "\n")

    # --- health ---------------------------------------------------------------------------------

    def address(self, target: SshTarget) -> ssh.SshAddress:
        """How the runner reaches an SSH target."""
        self.settings.known_hosts_path.parent.mkdir(parents=True, exist_ok=True)
        return ssh.SshAddress(target.user_host, target.port, target.key_file, str(self.settings.known_hosts_path))

    def check(self, name: str, lang: str = "en") -> Health:
        """Is the target usable now? The detail says what was found or what is wrong."""
        target = self.get(name)
        try:
            detail = self.require_usable(target, lang)
        except (InvalidInputError, NotFoundError) as exc:
            return Health(name=name, type=target.type, ok=False, detail=exc.message(lang))
        return Health(name=name, type=target.type, ok=True, detail=detail)

    def require_usable(self, target, lang: str = "en") -> str:
        """A refusal when the target cannot take a job now; else what its check found."""
        if isinstance(target, SlurmTarget):
            missing = slurm.missing_commands()
            if missing:
                raise InvalidInputError("err.target.no_slurm", missing=", ".join(missing))
            return t("targets.health.slurm_ok", lang)
        if isinstance(target, SshTarget):
            outcome, reason = ssh.probe(self.address(target))
            if outcome == ssh.REFUSED:
                raise InvalidInputError("err.target.key_refused", host=target.user_host, reason=reason,
                                        key=target.key_file or "SSH agent")
            if outcome == ssh.UNREACHABLE:
                raise InvalidInputError("err.target.unreachable", host=target.user_host, reason=reason)
            return t("targets.health.ssh_ok", lang, host=target.user_host)
        if isinstance(target, RayTarget):
            url = ray_jobs.jobs_address(target.address, target.dashboard_port)
            ok, detail = ray_jobs.probe(url)
            if not ok:
                raise InvalidInputError("err.target.ray_unreachable", address=target.address, url=url, reason=detail)
            if target.shared_path and not Path(target.shared_path).is_dir():
                raise InvalidInputError("err.target.shared_missing", path=target.shared_path, name=target.name)
            return t("targets.health.ray_ok", lang, url=url, version=detail)
        return t("targets.health.local", lang)

    # --- launching ------------------------------------------------------------------------------

    def sbatch_script(self, name: str, yaml_path: Path, lf_cli: str = "") -> tuple[Path, str]:
        """Write the sbatch script for a saved training YAML beside it; returns (path, text)."""
        target = self.get(name)
        if not isinstance(target, SlurmTarget):
            raise InvalidInputError("err.target.invalid", reason=f"{name} is not a Slurm target")
        args = _read_yaml(yaml_path)
        output_dir = self.settings.home / str(args.get("output_dir", "checkpoints/run"))
        text = slurm.render_script(slurm.SbatchPlan(
            job_name=output_dir.name[:64] or "llmops", nodes=target.nodes, gpus_per_node=target.gpus_per_node,
            partition=target.partition, time=target.time, master_port=target.master_port,
            home=str(self.settings.home), lf_cli=lf_cli or _lf_cli_hint(), yaml_path=str(yaml_path),
            output_dir=str(output_dir)))
        script = yaml_path.with_suffix(".sbatch")
        atomic_write_text(script, text)
        return script, text

    def launch_train(self, training, yaml_path: Path | str, name: str, meta: dict | None = None,
                     devices: str | None = None) -> Job:
        """Queue a saved training YAML on target `name`; every check that can fail runs before the job exists."""
        target = self.get(name)
        path = Path(yaml_path) if Path(yaml_path).is_absolute() else self.settings.home / yaml_path
        if isinstance(target, LocalTarget):
            return training.launch_file(path, devices=devices, meta={**(meta or {}), "target": LOCAL})
        if devices:
            # This machine's GPU ids mean nothing on a cluster or a remote box.
            raise InvalidInputError("err.target.devices_here", name=target.name)
        self.require_usable(target)
        if isinstance(target, SshTarget):
            self._require_on_target(target, _read_yaml(path))
        wrap = partial(self._wrap, target, yaml_path=path)
        return training.launch_file(path, meta={**(meta or {}), "target": target.name}, wrap=wrap)

    def launch_config(self, training, config, box=None, name: str = LOCAL):
        """Save a built training config and queue it on target `name` (saved, job); refused before saving when the
        target is unknown."""
        if not name or name == LOCAL:
            return training.launch_config(config, meta={"target": LOCAL}, target=box)
        self.get(name)
        training.validate(config, for_launch=True)
        saved = training.save(config, box)
        return saved, self.launch_train(training, saved.path, name)

    def require_local(self, name: str | None, what_key: str) -> None:
        """Refuse a target for work that runs only on this machine (an unknown name is refused as unknown)."""
        if name and self.get(name).name != LOCAL:
            raise InvalidInputError("err.target.local_only", name=name, what=Message(what_key))

    def _require_on_target(self, target: SshTarget, args: dict) -> None:
        """The base model and adapters a remote run reads must already be on the remote box."""
        wanted = [("targets.what.model", str(args.get("model_name_or_path") or ""))]
        wanted += [("targets.what.adapter", part.strip()) for part in str(args.get("adapter_name_or_path") or "").split(",")]
        for what, value in wanted:
            if not value.startswith(("/", "~")):
                continue  # a hub name or nothing: the remote resolves it
            done = ssh.run(self.address(target), f"test -e {ssh.quote(value)}")
            if done.returncode != 0:
                raise InvalidInputError("err.target.missing_on_target", what=t(what), path=value, name=target.name)

    def _wrap(self, target: SlurmTarget | SshTarget | RayTarget, spec: JobSpec, yaml_path: Path) -> JobSpec:
        """The same training, run by a watcher that mirrors the target's job into this job."""
        run_dir = Path(spec.run_dir)
        if isinstance(target, SlurmTarget):
            script, _ = self.sbatch_script(target.name, yaml_path, lf_cli=spec.argv[0])
            plan = {"type": "slurm", "target": target.name, "script": str(script)}
        elif isinstance(target, RayTarget):
            plan = self._ray_plan(target, spec, yaml_path)
        else:
            remote_root = f"{target.remote_dir.rstrip('/')}/{run_dir.name}-{uuid.uuid4().hex[:6]}"
            env = {k: v for k, v in spec.env.items() if k != "CUDA_VISIBLE_DEVICES"}
            env["LLAMABOARD_WORKDIR"] = "output"  # relative to the remote run folder, where the job starts
            plan = {"type": "ssh", "target": target.name, "user_host": target.user_host, "port": target.port,
                    "key_file": target.key_file, "known_hosts": str(self.settings.known_hosts_path),
                    "remote_root": remote_root, "stage_dir": str(self._stage(yaml_path, run_dir / STAGE_DIR)),
                    "lf_cli": target.lf_cli, "env": env, "fetch_checkpoints": target.fetch_checkpoints,
                    "grace_s": self.settings.stop_grace_s}
        plan["lost_after_s"] = self.settings.target_lost_after_s
        atomic_write_json(run_dir / PLAN_FILE, plan)
        argv = [sys.executable, "-m", "llmops.runner.targets.watch", str(run_dir)]
        # The local side only watches: it holds no device, so it never waits for a local GPU.
        return replace(spec, argv=argv, devices="none", meta={**spec.meta, "target_type": target.type})

    def _ray_plan(self, target: RayTarget, spec: JobSpec, yaml_path: Path) -> dict:
        """A Ray job: the staged run folder as its runtime_env working_dir, or copied onto the shared path."""
        run_dir = Path(spec.run_dir)
        sid = f"llmops-{run_dir.name[:40]}-{uuid.uuid4().hex[:8]}"
        env = {k: v for k, v in spec.env.items() if k != "CUDA_VISIBLE_DEVICES"}  # Ray assigns the devices
        env["LLAMABOARD_WORKDIR"] = "output"  # relative to the job's working folder
        stage = self._stage(yaml_path, run_dir / STAGE_DIR)
        run = ssh.quote(target.lf_cli, "train", "config.yaml")
        root = f"{target.shared_path.rstrip('/')}/{sid}" if target.shared_path else ""
        runtime_env: dict = {"env_vars": env}
        if root:
            entrypoint = f"cd {ssh.quote(root)} && {run}"
        else:
            runtime_env["working_dir"] = str(stage)
            entrypoint = run
        return {"type": "ray", "target": target.name, "url": ray_jobs.jobs_address(target.address, target.dashboard_port),
                "submission_id": sid, "entrypoint": entrypoint, "runtime_env": runtime_env, "shared_root": root,
                "stage_dir": str(stage), "fetch_checkpoints": target.fetch_checkpoints}

    def _stage(self, yaml_path: Path, stage: Path) -> Path:
        """The remote run folder as built here: config.yaml with folder paths made relative, and its datasets."""
        args = _read_yaml(yaml_path)
        data_dir = self.settings.home / str(args.get("dataset_dir", "data"))
        entries = json.loads((data_dir / "dataset_info.json").read_text(encoding="utf-8"))
        names = [n.strip() for n in f"{args.get('dataset') or ''},{args.get('eval_dataset') or ''}".split(",") if n.strip()]
        (stage / "data").mkdir(parents=True, exist_ok=True)
        picked = {n: dict(entries[n]) for n in names if n in entries}
        for name, entry in picked.items():
            source = dataset_info.resolve_file(data_dir, entry)
            if source is not None:
                # Files from anywhere here (shipped samples, absolute paths) land flat in the remote data folder.
                entry["file_name"] = f"{name}{''.join(source.suffixes)}"
                dest = stage / "data" / entry["file_name"]
                (shutil.copytree if source.is_dir() else shutil.copyfile)(source, dest)
        atomic_write_json(stage / "data" / "dataset_info.json", picked)
        atomic_write_text(stage / "config.yaml", yaml.safe_dump({**args, "dataset_dir": "data", "output_dir": "output"},
                                                                sort_keys=False, allow_unicode=True))
        return stage


def _read_yaml(path: Path) -> dict:
    try:
        args = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInputError("err.yaml_invalid", path=str(path), reason=str(exc)) from exc
    if not isinstance(args, dict):
        raise InvalidInputError("err.yaml_invalid", path=str(path), reason="not a mapping")
    return args


def _lf_cli_hint() -> str:
    beside = Path(sys.executable).parent / "llamafactory-cli"
    return str(beside) if beside.exists() else "llamafactory-cli"
