"""Training: typed config -> validated LLaMA-Factory YAML -> a queued job in the runner."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydantic
import yaml

from ..errors import InvalidInputError
from ..i18n import t
from ..lf import dataset_check, dataset_info, render, templates
from ..lf.command import Commands, Target, commands_for, train_argv
from ..runner.runner import JobRunner
from ..schemas.jobs import Job, JobSpec
from ..schemas.model_ref import looks_like_hub_id
from ..schemas.models import pickle_only_weights
from ..schemas.stages import STAGES
from ..schemas.training import TrainConfig
from ..security.paths import contain, contain_if_local
from ..settings import Settings
from ..storage import atomic_write_json, create_unique, inside, safe_name
from . import demo_model, train_request
from . import training_sources as sources
from . import training_stages as stages
from .datasets import DatasetRegistry
from .device import DeviceInfo, probe
from .lineage.record import dataset_versions
from .models import ModelRegistry

DEMO_ALIAS = "demo"
_MODEL_FILES = ("adapter_model.safetensors", "model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


@dataclass(frozen=True)
class Rendered:
    """What will run: the argument dict, its YAML text and where its outputs go."""

    config: TrainConfig
    args: dict
    yaml_text: str
    output_dir: Path


@dataclass(frozen=True)
class SavedConfig:
    """A YAML written under configs/llmops/ and the commands that run it."""

    path: Path
    rel_path: str
    commands: Commands
    output_dir: Path
    reused: bool = False


class TrainingService:
    """Builds, validates, saves and launches training configs."""

    def __init__(self, settings: Settings, runner: JobRunner, device: DeviceInfo | None = None):
        self.settings = settings
        self.runner = runner
        self._device = device
        self.models = ModelRegistry(settings)

    @property
    def device(self) -> DeviceInfo:
        if self._device is None:
            self._device = probe()
        return self._device

    # --- building ---------------------------------------------------------------------------------

    def defaults(self, stage: str) -> dict:
        """Stage defaults from configs/stages/<stage>.yaml."""
        spec = STAGES.get(stage)
        path = self.settings.stage_defaults_dir / spec.defaults_file if spec else None
        if path is None or not path.exists():
            raise InvalidInputError("err.stage_unknown", stage=stage)
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def form_defaults(self, stage: str) -> dict:
        """Every field's starting value: schema defaults overlaid with the stage's file."""
        fields = {name: f.default for name, f in TrainConfig.model_fields.items() if not f.is_required()}
        return {**fields, **self.defaults(stage)}

    def build(self, stage: str, model: str, datasets: list[str], **overrides) -> TrainConfig:
        """Stage defaults + the user's values, checked by the schema (unknown keys refused)."""
        model = self.resolve_model(model)
        values = {**self.defaults(stage), **{k: v for k, v in overrides.items() if v is not None}}
        values.setdefault("template", templates.guess(model))
        if stage == "ppo":
            values = stages.resolve_reward(self.models, values, model)
        try:
            return TrainConfig(stage=stage, model=model, datasets=datasets, **values)
        except pydantic.ValidationError as exc:
            raise sources.config_error(exc) from exc

    def build_request(self, payload, stage: str | None = None) -> tuple[TrainConfig, Target]:
        """A named-API request (llmops.services.train_request) as a checked config and its command target."""
        request = train_request.parse_request(payload, stage)
        config = self.build(request.stage, request.model, request.datasets, template=request.template,
                            **request.config)
        return config, request.target

    def request_schema(self, stage: str) -> dict:
        """The JSON schema of a named-API request for `stage`, its defaults from the stage's file."""
        return train_request.request_schema(stage, self.form_defaults(stage))

    def resolve_model(self, model: str) -> str:
        """'demo' means the tiny local model (built on first use); other strings pass through."""
        model = (model or "").strip()
        if model == DEMO_ALIAS:
            path = self.settings.demo_model_dir
            if not demo_model.is_demo(path):
                demo_model.build(path, [self.settings.sample_docs_dir, self.settings.sample_datasets_dir])
            return str(path)
        return model

    def dataset_entries(self) -> dict[str, dict]:
        """Registered datasets (the samples are registered on first use)."""
        return DatasetRegistry(self.settings).entries()

    def datasets_for_stage(self, stage: str) -> list[str]:
        """Names of registered datasets a stage can read (DPO sees only preference data)."""
        wanted = STAGES[stage].dataset_kinds
        return sorted(name for name, entry in self.dataset_entries().items()
                      if dataset_info.entry_kind(entry) in wanted)

    def import_dataset(self, name: str, source_dir: Path) -> None:
        """Register `name` from another folder's dataset_info.json, with its file path made absolute."""
        source = dataset_info.read(Path(source_dir) / "dataset_info.json")
        if name not in source.entries:
            raise InvalidInputError("err.dataset_unknown", name=name)
        entry = dict(source.entries[name])
        if "file_name" in entry:
            entry["file_name"] = str((Path(source_dir) / entry["file_name"]).resolve())
        DatasetRegistry(self.settings).register_entry(name, entry, replace=True)

    # --- validation -------------------------------------------------------------------------------

    def validate(self, config: TrainConfig, *, for_launch: bool = False) -> None:
        """Everything that can be known before a process starts."""
        if not templates.is_known(config.template):
            raise InvalidInputError("err.template_unknown", template=config.template)
        entries = self.dataset_entries()
        _contain_args(self.settings, {"model_name_or_path": config.model, "ref_model": config.ref_model,
                                      "adapter_name_or_path": config.adapter_name_or_path,
                                      "ref_model_adapters": config.ref_model_adapters,
                                      "reward_model": config.reward_model,
                                      "reward_model_adapters": config.reward_model_adapters}, entries,
                      [*config.datasets, *config.eval_datasets])
        self._check_model(config.model)
        if pickle_only_weights(config.model) and not self.models.load_options(config.model)[1]:
            raise InvalidInputError("err.train.pickle_only", path=config.model)
        if config.resume_from_checkpoint:
            sources.check_resume(self.settings, config.resume_from_checkpoint, self.output_dir_for(config))
        for extra in (config.adapter_name_or_path, config.ref_model_adapters):
            if extra and not (Path(extra) / "adapter_config.json").exists():
                raise InvalidInputError("err.adapter_missing", path=extra)
        if config.ref_model:
            self._check_model(config.ref_model)
        self._check_reward_model(config)
        for name in (*config.datasets, *config.eval_datasets):
            dataset_check.check(self.settings.data_dir, name, entries, config.stage)
        if config.run_name:
            safe_name(config.run_name, "run name")
        if for_launch and not self.device.cuda:
            if config.quantization_bit:
                raise InvalidInputError("err.needs_gpu", feature=f"QLoRA {config.quantization_bit}-bit")
            if config.deepspeed != "none":
                raise InvalidInputError("err.needs_gpu", feature="DeepSpeed")
            if config.precision in ("bf16", "fp16"):
                raise InvalidInputError("err.needs_gpu", feature=config.precision)
        if for_launch:
            for feature, package in sources.missing_packages(config):
                raise InvalidInputError("err.train.package_missing", feature=feature, package=package)
        engine = stages.ppo_engine_problem() if for_launch and config.stage == "ppo" else None
        if engine:
            raise InvalidInputError("err.stage.ppo_engine", wanted=engine[0], found=engine[1])

    def _check_reward_model(self, config: TrainConfig) -> None:
        """A LoRA reward model is an adapter folder; a full one a model folder (or hub id), with its adapter."""
        if not config.reward_model:
            return
        if config.reward_model_type == "lora":
            if not (Path(config.reward_model) / "adapter_config.json").exists():
                raise InvalidInputError("err.adapter_missing", path=config.reward_model)
        else:
            self._check_model(config.reward_model)
        if config.reward_model_adapters and not (Path(config.reward_model_adapters) / "adapter_config.json").exists():
            raise InvalidInputError("err.adapter_missing", path=config.reward_model_adapters)

    def _check_model(self, model: str) -> None:
        path = Path(model).expanduser()
        if path.exists():
            if not (path / "config.json").exists():
                raise InvalidInputError("err.model_not_a_model", path=model)
            return
        if not looks_like_hub_id(model):
            raise InvalidInputError("err.model_missing", model=model)

    # --- rendering and saving ---------------------------------------------------------------------

    def output_dir_for(self, config: TrainConfig) -> Path:
        """checkpoints/<run name>; the name defaults to stage, model and time; a resumed run keeps its folder."""
        if config.resume_from_checkpoint and not config.run_name:
            checkpoint = Path(config.resume_from_checkpoint).expanduser()
            return (checkpoint if checkpoint.is_absolute() else self.settings.home / checkpoint).resolve().parent
        if config.run_name:
            return inside(self.settings.checkpoints_dir, safe_name(config.run_name, "run name"), "output folder")
        base = f"{config.stage}-{_slug(Path(config.model).name)}-{time.strftime('%Y%m%d-%H%M%S')}"
        candidate, attempt = self.settings.checkpoints_dir / base, 1
        while candidate.exists():
            attempt += 1
            candidate = self.settings.checkpoints_dir / f"{base}-{attempt}"
        return candidate

    def render(self, config: TrainConfig, output_dir: Path | None = None) -> Rendered:
        """Validated YAML for preview; writes nothing."""
        self.validate(config)
        output_dir = output_dir or self.output_dir_for(config)
        trust = self.models.load_options(config.model)[0]
        args = render.to_lf_args(config, self.settings, output_dir, self.device.placement, trust_remote_code=trust)
        lines = [f"LLaMA-Factory {config.stage} config written by llmops; run from {self.settings.home}",
                 t("train.trust.on", "en", model=config.model) if trust else t("train.trust.off", "en")]
        lines += [f"needs {package} (pip install {package}), not installed here"
                  for _, package in sources.missing_packages(config)]
        if config.use_ray:
            lines.append(f"run with USE_RAY=1 (LLaMA-Factory's Ray mode, {config.ray_num_workers} worker(s))")
        return Rendered(config, args, render.to_yaml(args, "\n".join(lines)), output_dir)

    @staticmethod
    def templates() -> list[str]:
        """LLaMA-Factory's chat template names."""
        return list(templates.available())

    @staticmethod
    def guess_template(model: str) -> str:
        """The template a model id or folder most likely needs ('chatml' for the demo model)."""
        return "chatml" if model == "demo" else templates.guess(model or "")

    def save(self, config: TrainConfig, target: Target | None = None) -> SavedConfig:
        """Write configs/llmops/<stage>_config_<ts>.yaml atomically with a sidecar, unless identical settings
        are already saved with an unused output folder: then that file is named again (content-addressed)."""
        self.settings.ensure_dirs()
        rendered = self.render(config)
        if not config.resume_from_checkpoint:
            _require_empty(rendered.output_dir)
        path = sources.find_identical(self.settings, rendered.args)
        reused = path is not None
        if path is None:
            name = f"{config.stage}_config_{time.strftime('%Y%m%d_%H%M%S')}.yaml"
            path = create_unique(self.settings.generated_configs_dir / name, rendered.yaml_text)
            # The typed config travels beside the YAML so a launch from the file keeps its meaning.
            atomic_write_json(path.with_suffix(sources.SIDECAR), config.model_dump(mode="json"))
        output_dir = self.settings.home / yaml.safe_load(path.read_text(encoding="utf-8"))["output_dir"]
        rel = render.home_relative(self.settings, path)
        return SavedConfig(path, rel, self.commands(rel, target), output_dir, reused)

    def commands(self, yaml_rel: str, target: Target | None = None) -> Commands:
        """The hand-run commands for a saved YAML, sized by `target` or else by the GPUs detected here."""
        sidecar = (self.settings.home / yaml_rel).with_suffix(sources.SIDECAR)
        use_ray = sidecar.is_file() and bool(json.loads(sidecar.read_text(encoding="utf-8")).get("use_ray"))
        return commands_for(yaml_rel, (target or Target()).with_detected(self.device.count if self.device.cuda else 0),
                            use_ray=use_ray)

    # --- sources and saved configs ---------------------------------------------------------------

    def continue_sources(self) -> list[tuple[str, str]]:
        """Adapter versions and checkpoint-N folders of finished runs a LoRA run can continue from."""
        return sources.continue_sources(self.settings, self.models)

    def reward_sources(self) -> list[tuple[str, str]]:
        """Registered versions with a value head (RM-trained) that a PPO run can score with."""
        return stages.reward_sources(self.models)

    def resume_sources(self) -> list[tuple[str, str]]:
        """Checkpoints of interrupted runs."""
        return sources.resume_sources(self.settings)

    def saved_configs(self) -> list[str]:
        """Saved configs under configs/llmops/, newest first."""
        return sources.saved_configs(self.settings)

    def load_config(self, path: str | Path) -> TrainConfig:
        """A saved config read back (sidecar first, else the YAML), unknown keys and bad values refused."""
        return sources.load_config(self.settings, path)

    # --- launching --------------------------------------------------------------------------------

    def launch_config(self, config: TrainConfig, meta: dict | None = None,
                      target: Target | None = None) -> tuple[SavedConfig, Job]:
        """Save then queue; the job runs exactly the file that was saved. `meta` travels with the job."""
        self.validate(config, for_launch=True)
        saved = self.save(config, target)
        return saved, self.launch_file(saved.path, meta=meta)

    def launch_file(self, yaml_path: Path | str, devices: str | None = None, meta: dict | None = None,
                    wrap: Callable[[JobSpec], JobSpec] | None = None) -> Job:
        """Queue a saved YAML; its output folder must lie under checkpoints/ and be empty. `wrap` (a target's) turns
        the local spec into the one that runs it elsewhere."""
        path = Path(yaml_path).expanduser()
        if not path.is_absolute():
            path = self.settings.home / path
        contain(self.settings, path)
        if not path.exists():
            raise InvalidInputError("err.yaml_missing", path=str(yaml_path))
        try:
            args = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidInputError("err.yaml_invalid", path=str(path), reason=str(exc)) from exc
        if not isinstance(args, dict) or "output_dir" not in args or "stage" not in args:
            raise InvalidInputError("err.yaml_invalid", path=str(path), reason="needs stage and output_dir")
        _contain_args(self.settings, {**args, "dataset_dir": self.settings.home / str(args.get("dataset_dir", "."))})
        output_dir = inside(self.settings.checkpoints_dir, self.settings.home / args["output_dir"], "output_dir")
        resume = args.get("resume_from_checkpoint")
        if resume:
            sources.check_resume(self.settings, str(resume), output_dir)
        else:
            _require_empty(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        # A resumed run keeps the YAML it first ran with beside the one that continues it.
        copy_name = f"train_config_resume_{time.strftime('%Y%m%d_%H%M%S')}.yaml" if resume else "train_config.yaml"
        shutil.copyfile(path, output_dir / copy_name)
        sidecar = path.with_suffix(".llmops.json")
        typed = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
        devices = devices or (self._visible_devices() if self.device.cuda else "cpu")
        env = {"LLAMABOARD_ENABLED": "1", "LLAMABOARD_WORKDIR": str(output_dir), "PYTHONUNBUFFERED": "1"}
        if devices not in ("cpu", "all"):
            env["CUDA_VISIBLE_DEVICES"] = devices
        if typed.get("use_ray"):
            env["USE_RAY"] = "1"  # LLaMA-Factory's Ray mode: it reads this, not a YAML key
        meta = {"stage": args["stage"], "model": args.get("model_name_or_path"), "dataset": args.get("dataset"),
                "finetuning_type": args.get("finetuning_type"), "template": args.get("template"),
                "config_path": str(path), "output_dir": str(output_dir), "config": typed,
                "dataset_versions": dataset_versions(self.settings, args.get("dataset")), **(meta or {})}
        atomic_write_json(output_dir / "run.json", {**meta, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        spec = JobSpec(kind="train", name=output_dir.name, argv=train_argv(_lf_cli(), str(path)),
                       cwd=str(self.settings.home), run_dir=str(output_dir), devices=devices, env=env, meta=meta)
        return self.runner.submit(wrap(spec) if wrap else spec)

    def _visible_devices(self) -> str:
        return ",".join(str(index) for index in range(self.device.count)) or "all"


def _contain_args(settings: Settings, args: dict, entries: dict | None = None, datasets: list[str] = ()) -> None:
    """Every local path a training reads (model, adapters, dataset folder and files) lies in the allowed roots."""
    for key in ("model_name_or_path", "ref_model", "reward_model"):
        if isinstance(args.get(key), str) and args[key]:
            contain_if_local(settings, args[key])
    for key in ("adapter_name_or_path", "ref_model_adapters", "reward_model_adapters"):
        for part in str(args.get(key) or "").split(","):
            if part.strip():
                contain(settings, part.strip())
    if args.get("dataset_dir"):
        contain(settings, args["dataset_dir"])
    for name in datasets:
        file = dataset_info.resolve_file(settings.data_dir, entries[name]) if name in (entries or {}) else None
        if file is not None:
            contain(settings, file)


def _lf_cli() -> str:
    """llamafactory-cli from the same environment as this Python."""
    beside = Path(sys.executable).parent / "llamafactory-cli"
    found = beside if beside.exists() else shutil.which("llamafactory-cli")
    if not found:
        raise InvalidInputError("err.lf_missing")
    return str(found)


def _require_empty(output_dir: Path) -> None:
    if output_dir.exists() and any(output_dir.iterdir()):
        raise InvalidInputError("err.output_not_empty", path=str(output_dir))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-.")[:40] or "model"
