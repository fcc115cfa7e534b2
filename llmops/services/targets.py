"""Execution targets: the registry in configs/targets.json, a health check each, and launching a training there
(or another argv job: a GRPO run, a LoRA export) with every check before the job exists."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
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
CONFIG_FILE = "config.yaml"  # the config in a remote run folder


@dataclass(frozen=True)
class FarJob:
    """An argv job other than a LLaMA-Factory training (a GRPO run, a LoRA export) as a target runs it: the remote
    run folder's config and files, the command started there, and what must already be on the box."""

    what_key: str  # i18n key naming the job in a refusal
    config: dict  # config.yaml there, its folder paths relative to the remote run folder
    command: str  # run in the remote run folder; {python} and {lf_cli} become the target's own
    ship: tuple[tuple[Path, str], ...] = ()  # (file here, where in the remote run folder)
    package: bool = False  # llmops travels with the job: the far side runs this very code
    needs: tuple[tuple[str, str], ...] = ()  # (i18n key of what it is, a path the box must already hold)
    imports: tuple[str, ...] = ()  # modules the target's Python must import
    output_into: str = ""  # where the remote output/ lands here ('' for the job's run folder)


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

    def _require_on_target(self, target: SshTarget, args: dict) -> None:
        """The base model and adapters a remote run reads must already be on the remote box."""
        from .targets_work import require_on_box  # that module builds on this one

        wanted = [("targets.what.model", str(args.get("model_name_or_path") or ""))]
        wanted += [("targets.what.adapter", part.strip()) for part in str(args.get("adapter_name_or_path") or "").split(",")]
        require_on_box(self, target, wanted)

    def far_wrap(self, name: str | None, job: FarJob,
                 devices: str | None = None) -> Callable[[JobSpec], JobSpec] | None:
        """None for this machine; else, once every check passed, the wrapper that sends `job` to target `name`."""
        target = self.get(name or LOCAL)
        if isinstance(target, LocalTarget):
            return None
        if devices:
            raise InvalidInputError("err.target.devices_here", name=target.name)
        if isinstance(target, RayTarget) and not target.shared_path:
            # What such a job makes comes back only through a folder this machine and the nodes share.
            raise InvalidInputError("err.target.ray_needs_shared", name=target.name, what=Message(job.what_key))
        self.require_usable(target)
        if isinstance(target, SshTarget):
            from .targets_work import RemoteWork, require_remote, require_on_box

            require_on_box(self, target, job.needs)  # the cheap look first: importing torch there takes seconds
            if job.imports:
                require_remote(self, target, RemoteWork(params={}, imports=job.imports))
        # A Slurm cluster shares this machine's files, and the job's own checks already found them here.
        return partial(self._wrap_far, target, job)

    def _wrap(self, target: SlurmTarget | SshTarget | RayTarget, spec: JobSpec, yaml_path: Path) -> JobSpec:
        """The same training, run by a watcher that mirrors the target's job into this job."""
        if isinstance(target, SlurmTarget):
            script, _ = self.sbatch_script(target.name, yaml_path, lf_cli=spec.argv[0])
            return self._watched(target, spec, {"type": "slurm", "target": target.name, "script": str(script)})
        env = {k: v for k, v in spec.env.items() if k != "CUDA_VISIBLE_DEVICES"}  # the target assigns devices
        env["LLAMABOARD_WORKDIR"] = "output"  # relative to the remote run folder, where the job starts
        stage = self._stage(yaml_path, Path(spec.run_dir) / STAGE_DIR)
        command = ssh.quote(target.lf_cli, "train", CONFIG_FILE)
        return self._watched(target, spec, self._far_plan(target, Path(spec.run_dir), stage, env, command))

    def _wrap_far(self, target: SlurmTarget | SshTarget | RayTarget, job: FarJob, spec: JobSpec) -> JobSpec:
        """An argv job run by a watcher: in place on Slurm, else in a remote run folder staged here."""
        if isinstance(target, SlurmTarget):
            return self._watched(target, spec, {"type": "slurm", "target": target.name,
                                                "script": str(self._sbatch_argv(target, spec))})
        stage = self._stage_far(job, Path(spec.run_dir) / STAGE_DIR)
        command = job.command.format(python=ssh.quote(target.python), lf_cli=ssh.quote(target.lf_cli))
        plan = self._far_plan(target, Path(spec.run_dir), stage, {"PYTHONUNBUFFERED": "1"}, command)
        if job.output_into:
            plan["output_into"] = job.output_into
        return self._watched(target, spec, plan)

    def _watched(self, target: SlurmTarget | SshTarget | RayTarget, spec: JobSpec, plan: dict) -> JobSpec:
        """Write the plan into the run folder; the job becomes its watcher."""
        run_dir = Path(spec.run_dir)
        plan["lost_after_s"] = self.settings.target_lost_after_s
        atomic_write_json(run_dir / PLAN_FILE, plan)
        argv = [sys.executable, "-m", "llmops.runner.targets.watch", str(run_dir)]
        # The local side only watches: it holds no device, so it never waits for a local GPU.
        return replace(spec, argv=argv, devices="none", meta={**spec.meta, "target": target.name,
                                                              "target_type": target.type})

    def _far_plan(self, target: SshTarget | RayTarget, run_dir: Path, stage: Path, env: dict, command: str) -> dict:
        """The watcher's plan for a staged run folder: copied to the SSH box, or run by Ray."""
        if isinstance(target, RayTarget):
            return self._ray_plan(target, run_dir, stage, env, command)
        return {"type": "ssh", "target": target.name, "user_host": target.user_host, "port": target.port,
                "key_file": target.key_file, "known_hosts": str(self.settings.known_hosts_path),
                "remote_root": f"{target.remote_dir.rstrip('/')}/{run_dir.name}-{uuid.uuid4().hex[:6]}",
                "stage_dir": str(stage), "lf_cli": target.lf_cli, "shell": command, "env": env,
                "fetch_checkpoints": target.fetch_checkpoints, "grace_s": self.settings.stop_grace_s}

    def _ray_plan(self, target: RayTarget, run_dir: Path, stage: Path, env: dict, run: str) -> dict:
        """A Ray job: the staged run folder as its runtime_env working_dir, or copied onto the shared path."""
        sid = f"llmops-{run_dir.name[:40]}-{uuid.uuid4().hex[:8]}"
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

    def _sbatch_argv(self, target: SlurmTarget, spec: JobSpec) -> Path:
        """A one-node batch script running the job's own argv in place (the cluster sees this home at its path)."""
        run_dir = Path(spec.run_dir)
        env = [f"{key}={value}" for key, value in spec.env.items() if key != "CUDA_VISIBLE_DEVICES"]
        text = slurm.render_worker_script(slurm.WorkerPlan(
            job_name=run_dir.name[:64], partition=target.partition, time=target.time,
            gpus=min(target.gpus_per_node, 1), home=str(self.settings.home), python=sys.executable,
            run_dir=str(run_dir), workdir=spec.cwd, command=ssh.quote("env", *env, *spec.argv)))
        script = run_dir / "job.sbatch"
        atomic_write_text(script, text)
        return script

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
        _write_config(stage, {**args, "dataset_dir": "data", "output_dir": "output"})
        return stage

    def _stage_far(self, job: FarJob, stage: Path) -> Path:
        """An argv job's remote run folder as built here: config.yaml, the files it reads and, if it runs our code,
        the llmops package (its dependencies are the target's own, so the far side needs no install)."""
        stage_files(stage, job.ship, job.package)
        _write_config(stage, job.config)
        return stage


# This package, copied beside a job that runs our code so the far side runs the very code that planned it.
PACKAGE = Path(__file__).resolve().parents[1]


def stage_files(stage: Path, ship, package: bool) -> None:
    """Fill a remote run folder built here: each (file or folder here, where there), and llmops itself if asked
    (its dependencies are the target's own, so the far side needs no install)."""
    stage.mkdir(parents=True, exist_ok=True)
    if package:
        shutil.copytree(PACKAGE, stage / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    for source, where in ship:
        dest = stage / where
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if Path(source).is_dir() else shutil.copyfile)(source, dest)


def _write_config(stage: Path, args: dict) -> None:
    atomic_write_text(stage / CONFIG_FILE, yaml.safe_dump(args, sort_keys=False, allow_unicode=True))


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
