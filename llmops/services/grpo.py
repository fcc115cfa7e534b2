"""GRPO: typed config -> checked YAML under configs/llmops/ -> a training job running our TRL engine in the runner.

The job is of the `train` kind, so progress, the chart, the unwatched-run evidence and the registration of its
output as a model version are the ones LLaMA-Factory runs already have."""

from __future__ import annotations

import ast
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pydantic
import yaml

from ..errors import InvalidInputError, NotFoundError, pydantic_details
from ..lf import dataset_info
from ..lf.dataset_check import _peek
from ..lf.render import home_relative
from ..runner.runner import JobRunner
from ..schemas.grpo import GRPO_STAGE, GrpoConfig, GrpoYaml
from ..schemas.grpo_rewards import split_reference
from ..schemas.jobs import Job, JobSpec
from ..schemas.model_ref import looks_like_hub_id
from ..security.paths import PathNotAllowed, allowed_roots, contain, contain_if_local, in_workspace, is_within
from ..settings import Settings
from ..storage import atomic_write_json, create_unique, inside, safe_name
from .datasets import DatasetRegistry
from .models import ModelRegistry
from .targets import CONFIG_FILE, FarJob, TargetsService

ENGINE_MODULE = "llmops.engines.grpo"
DEFAULTS_FILE = "grpo.yaml"
_NEEDED = ("prompt", "solution")
# What the engine imports: a target's Python must have them all (llmops itself travels with the run).
ENGINE_IMPORTS = ("pydantic", "yaml", "datasets", "torch", "transformers", "peft", "trl")


@dataclass(frozen=True)
class GrpoRendered:
    """What will run: the typed YAML, its text and where its outputs go."""

    config: GrpoConfig
    run: GrpoYaml
    yaml_text: str
    output_dir: Path


@dataclass(frozen=True)
class GrpoSaved:
    """A GRPO YAML written under configs/llmops/ and the command that runs it by hand."""

    path: Path
    rel_path: str
    command: str
    output_dir: Path


def config_error(exc: pydantic.ValidationError) -> InvalidInputError:
    """A schema refusal in the user's language: a cross-field rule by its own key and values, else field details."""
    for err in exc.errors():
        if err["type"] == "llmops_rule":
            ctx = dict(err["ctx"])
            return InvalidInputError(ctx.pop("rule"), **ctx)
    return InvalidInputError("err.grpo.config_invalid", details=pydantic_details(exc, "config"))


def is_grpo_yaml(path: Path) -> bool:
    """True when a saved YAML names the GRPO stage (the CLI's `train launch` dispatches on it)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and data.get("stage") == GRPO_STAGE


class GrpoService:
    """Builds, validates, saves and launches GRPO runs."""

    def __init__(self, settings: Settings, runner: JobRunner):
        self.settings = settings
        self.runner = runner
        self.models = ModelRegistry(settings)

    def defaults(self) -> dict:
        """Every field's starting value: the schema's, overlaid with configs/stages/grpo.yaml."""
        fields = GrpoConfig(model="-", dataset="-").model_dump(mode="json", exclude={"model", "dataset"})
        path = self.settings.stage_defaults_dir / DEFAULTS_FILE
        from_file = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        return {**fields, **(from_file or {})}

    def build(self, model: str, dataset: str, **values) -> GrpoConfig:
        """Defaults + the user's values, checked by the schema (unknown keys refused); the model resolved."""
        merged = {**self.defaults(), **{k: v for k, v in values.items() if v is not None}}
        try:
            return GrpoConfig(model=self.resolve_model(model), dataset=dataset, **merged)
        except pydantic.ValidationError as exc:
            raise config_error(exc) from exc

    def resolve_model(self, model: str) -> str:
        """'demo', a registry version `name@version` (base or merged) or a path/hub id, as the folder to load."""
        from .training import TrainingService

        text = (model or "").strip()
        if "@" in text and not Path(text).exists():
            entry = self.models.get(text)
            if entry.kind == "adapter" or not entry.path:
                raise InvalidInputError("err.grpo.model_adapter", model=text)
            return entry.path
        return TrainingService(self.settings, self.runner).resolve_model(text)

    def datasets(self) -> list[str]:
        """Registered datasets whose first rows have prompt and solution."""
        names = []
        for name, entry in DatasetRegistry(self.settings).entries().items():
            try:
                self.dataset_file(name, {name: entry})
            except (InvalidInputError, NotFoundError, PathNotAllowed, OSError):
                continue
            names.append(name)
        return sorted(names)

    def dataset_file(self, name: str, entries: dict | None = None) -> Path:
        """The local file of a registered GRPO dataset, its first rows checked for prompt and solution."""
        entries = DatasetRegistry(self.settings).entries() if entries is None else entries
        if name not in entries:
            raise NotFoundError("err.dataset_unknown", name=name)
        path = dataset_info.resolve_file(self.settings.data_dir, entries[name])
        if path is None or path.suffix.lower() not in (".json", ".jsonl"):
            raise InvalidInputError("err.grpo.dataset_not_local", name=name)
        if not path.is_file():
            raise InvalidInputError("err.dataset_file_missing", name=name, path=str(path))
        contain(self.settings, path)
        for line_no, row in _peek(path):
            missing = [key for key in _NEEDED if not isinstance(row, dict) or key not in row]
            if missing:
                raise InvalidInputError("err.grpo.dataset_shape", name=name, path=f"{path}:{line_no}",
                                        missing=", ".join(missing))
        return path

    def check_reward_file(self, reference: str) -> Path:
        """The user's reward file: inside the allowed roots (always: it is code that will run), a .py file that
        defines the named function at top level. Parsed here, never imported into the app."""
        try:
            path, function = split_reference(reference)
        except ValueError:
            raise InvalidInputError("err.grpo.reward_file_syntax", reference=reference) from None
        path = in_workspace(self.settings, path)
        if not is_within(path, allowed_roots(self.settings)):
            raise PathNotAllowed("err.grpo.reward_file_outside", path=str(path))
        if path.suffix != ".py" or not path.is_file():
            raise InvalidInputError("err.grpo.reward_file_missing", path=str(path))
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise InvalidInputError("err.grpo.reward_file_missing", path=f"{path} ({exc})") from None
        if not any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body):
            raise InvalidInputError("err.grpo.reward_function_missing", path=str(path), function=function)
        return path

    def validate(self, config: GrpoConfig) -> Path:
        """Everything that can be known before a process starts; returns the dataset file."""
        contain_if_local(self.settings, config.model)
        model = Path(config.model).expanduser()
        if model.exists() and not (model / "config.json").is_file():
            raise InvalidInputError("err.model_not_a_model", path=config.model)
        if not model.exists() and not looks_like_hub_id(config.model):
            raise InvalidInputError("err.model_missing", model=config.model)
        if config.reward_file.strip():
            self.check_reward_file(config.reward_file.strip())
        if config.run_name:
            safe_name(config.run_name, "run name")
        return self.dataset_file(config.dataset)

    def output_dir_for(self, config: GrpoConfig) -> Path:
        """checkpoints/<run name>, by default grpo-<model>-<time>."""
        if config.run_name:
            return inside(self.settings.checkpoints_dir, safe_name(config.run_name, "run name"), "output folder")
        base = f"grpo-{Path(config.model).name[:40] or 'model'}-{time.strftime('%Y%m%d-%H%M%S')}"
        candidate, attempt = self.settings.checkpoints_dir / base, 1
        while candidate.exists():
            attempt += 1
            candidate = self.settings.checkpoints_dir / f"{base}-{attempt}"
        return candidate

    def render(self, config: GrpoConfig) -> GrpoRendered:
        """The checked YAML for preview; writes nothing."""
        dataset_file = self.validate(config)
        output_dir = self.output_dir_for(config)
        run = GrpoYaml(**config.model_dump(), dataset_file=home_relative(self.settings, dataset_file),
                       output_dir=home_relative(self.settings, output_dir))
        head = f"# GRPO config (TRL GRPOTrainer) written by llmops; run from {self.settings.home}\n"
        dumped = run.model_dump(mode="json")
        ordered = {"stage": dumped.pop("stage"), "engine": dumped.pop("engine"), **dumped}
        text = head + yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)
        return GrpoRendered(config, run, text, output_dir)

    def command(self, rel_path: str) -> str:
        """The command that runs a saved YAML by hand, from the workspace."""
        home, root = str(self.settings.home), str(self.settings.install_root)
        env = "" if Path(home).resolve() == Path(root).resolve() else \
            f"LLMOPS_HOME={shlex.quote(home)} PYTHONPATH={shlex.quote(root)} "
        return f"cd {shlex.quote(home)}\n{env}python -m {ENGINE_MODULE} {shlex.quote(rel_path)}\n"

    def save(self, config: GrpoConfig) -> GrpoSaved:
        """Write configs/llmops/grpo_config_<ts>.yaml atomically, unless the same settings are saved already with an
        unused output folder: then that file is named again (repeated clicks do not pile up files)."""
        self.settings.ensure_dirs()
        rendered = self.render(config)
        path = self._identical(rendered.run)
        if path is None:
            name = f"grpo_config_{time.strftime('%Y%m%d_%H%M%S')}.yaml"
            path = create_unique(self.settings.generated_configs_dir / name, rendered.yaml_text)
        run = self.load(path)
        rel = home_relative(self.settings, path)
        return GrpoSaved(path, rel, self.command(rel), in_workspace(self.settings, run.output_dir))

    def _identical(self, run: GrpoYaml) -> Path | None:
        wanted = run.model_dump(exclude={"output_dir"})
        for path in sorted(self.settings.generated_configs_dir.glob("grpo_config_*.yaml"), reverse=True):
            try:
                saved = self.load(path)
            except InvalidInputError:
                continue  # edited by hand into something else: never reused
            output = in_workspace(self.settings, saved.output_dir)
            if saved.model_dump(exclude={"output_dir"}) == wanted and not (output.exists() and any(output.iterdir())):
                return path
        return None

    def load(self, path: Path | str) -> GrpoYaml:
        """A saved GRPO YAML, typed; refused with its problems named."""
        path = in_workspace(self.settings, path)
        contain(self.settings, path)
        if not path.is_file():
            raise InvalidInputError("err.yaml_missing", path=str(path))
        try:
            return GrpoYaml(**(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))
        except (yaml.YAMLError, UnicodeDecodeError, TypeError) as exc:
            raise InvalidInputError("err.grpo.yaml_invalid", path=str(path), details=str(exc)) from None
        except pydantic.ValidationError as exc:
            raise InvalidInputError("err.grpo.yaml_invalid", path=str(path),
                                    details=pydantic_details(exc, "config")) from None

    def launch_config(self, config: GrpoConfig, meta: dict | None = None,
                      target: str | None = None) -> tuple[GrpoSaved, Job]:
        """Save then queue on `target` (this machine by default); the job runs exactly the file that was saved."""
        if target:
            TargetsService(self.settings).get(target)  # an unknown target is refused before anything is saved
        saved = self.save(config)
        return saved, self.launch_file(saved.path, meta=meta, target=target)

    def launch_file(self, yaml_path: Path | str, devices: str | None = None, meta: dict | None = None,
                    target: str | None = None) -> Job:
        """Queue a saved GRPO YAML as a train job on `target`; everything it reads is checked again (the file may be
        edited), and the target's checks run before any folder exists."""
        path = in_workspace(self.settings, yaml_path)
        run = self.load(path)
        # The target first, as for a LLaMA-Factory training: what the box lacks is what a remote run needs to hear.
        wrap = TargetsService(self.settings).far_wrap(target, self.far_job(run), devices)
        self.validate(GrpoConfig(**run.model_dump(include=set(GrpoConfig.model_fields))))
        contain(self.settings, in_workspace(self.settings, run.dataset_file))
        output_dir = inside(self.settings.checkpoints_dir, in_workspace(self.settings, run.output_dir), "output_dir")
        if output_dir.exists() and any(output_dir.iterdir()):
            raise InvalidInputError("err.output_not_empty", path=str(output_dir))
        output_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, output_dir / "train_config.yaml")
        meta = {"stage": GRPO_STAGE, "engine": run.engine, "model": run.model, "dataset": run.dataset,
                "finetuning_type": run.finetuning_type, "template": None, "config_path": str(path),
                "output_dir": str(output_dir), "config": run.model_dump(mode="json"), **(meta or {})}
        atomic_write_json(output_dir / "run.json", {**meta, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        env = {"PYTHONUNBUFFERED": "1", "LLMOPS_HOME": str(self.settings.home)}
        devices = devices or ("cpu" if wrap else _devices())  # a target's devices are its own: none probed here
        if devices not in ("cpu", "all"):
            env["CUDA_VISIBLE_DEVICES"] = devices
        spec = JobSpec(kind="train", name=output_dir.name, argv=[sys.executable, "-m", ENGINE_MODULE, str(path)],
                       cwd=str(self.settings.install_root), run_dir=str(output_dir), devices=devices, env=env, meta=meta)
        return self.runner.submit(wrap(spec) if wrap else spec)

    def far_job(self, run: GrpoYaml) -> FarJob:
        """The run as a target runs it: its config with folder paths relative to the remote run folder, the dataset
        and reward file beside it, llmops itself, and the engine started there with the target's Python."""
        dataset = in_workspace(self.settings, run.dataset_file)
        local = in_workspace(self.settings, run.model)
        model = str(local) if local.exists() else run.model  # a hub id: the far side resolves it
        ship = [(dataset, f"data/{dataset.name}")]
        config = {**run.model_dump(mode="json"), "model": model, "dataset_file": f"data/{dataset.name}",
                  "output_dir": "output"}
        if run.reward_file.strip():
            reward = self.check_reward_file(run.reward_file.strip())  # held to the allowed roots, as here
            ship.append((reward, f"rewards/{reward.name}"))
            config["reward_file"] = f"rewards/{reward.name}:{split_reference(run.reward_file.strip())[1]}"
        # The remote run folder is the engine's home, so every relative path above reads from it.
        command = f'LLMOPS_HOME="$PWD" {{python}} -m {ENGINE_MODULE} {CONFIG_FILE}'
        return FarJob("targets.what.grpo", config, command, tuple(ship), package=True,
                      needs=(("targets.what.model", model),), imports=ENGINE_IMPORTS)


def _devices() -> str:
    """Every GPU detected here, else the CPU."""
    from .device import probe

    device = probe()
    return (",".join(str(index) for index in range(device.count)) or "all") if device.cuda else "cpu"
