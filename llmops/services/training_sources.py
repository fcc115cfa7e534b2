"""Where a run can start from and what it needs: adapters and checkpoints, saved configs read back, packages."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pydantic
import yaml

from ..errors import InvalidInputError, pydantic_details
from ..lf import render
from ..schemas.training import TrainConfig
from ..settings import Settings
from ..storage import inside
from .models import ModelRegistry

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
_DONE_FILES = ("train_results.json", "all_results.json")
SIDECAR = ".llmops.json"


def _checkpoints(run: Path) -> list[Path]:
    """checkpoint-N folders of one run, by step."""
    found = [(int(m[1]), p) for p in run.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    return [path for _, path in sorted(found)]


def _runs(settings: Settings) -> list[Path]:
    root = settings.checkpoints_dir
    return sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name) if root.exists() else []


def is_completed(run: Path) -> bool:
    """The trainer wrote its final results: the run finished."""
    return any((run / name).is_file() for name in _DONE_FILES)


def continue_sources(settings: Settings, registry: ModelRegistry) -> list[tuple[str, str]]:
    """(label, folder) pairs a LoRA run can continue from: adapter versions, then checkpoints of finished runs."""
    choices = [(f"{entry.id} (adapter)", entry.adapter) for entry in registry.list()
               if entry.kind == "adapter" and entry.adapter and (Path(entry.adapter) / "adapter_config.json").exists()]
    for run in _runs(settings):
        if not is_completed(run):
            continue
        choices += [(f"{run.name}/{ck.name}", str(ck)) for ck in _checkpoints(run)
                    if (ck / "adapter_config.json").is_file()]
    return choices


def resume_sources(settings: Settings) -> list[tuple[str, str]]:
    """(label, folder) checkpoints of runs that did not finish: what 'resume' can pick up."""
    return [(f"{run.name}/{ck.name}", str(ck)) for run in _runs(settings) if not is_completed(run)
            for ck in _checkpoints(run) if (ck / "trainer_state.json").is_file()]


def check_resume(settings: Settings, checkpoint: str, output_dir: Path) -> Path:
    """The checkpoint folder, refused unless it exists and is a checkpoint-N of `output_dir` under checkpoints/."""
    folder = Path(checkpoint).expanduser()
    folder = folder if folder.is_absolute() else settings.home / folder
    if not folder.is_dir():
        raise InvalidInputError("err.train.resume_missing", path=checkpoint)
    folder = folder.resolve()
    root = settings.checkpoints_dir.resolve()
    if (not _CHECKPOINT.match(folder.name) or folder.parent.parent != root
            or not (folder / "trainer_state.json").is_file()):
        raise InvalidInputError("err.train.resume_not_checkpoint", path=checkpoint)
    if folder.parent != Path(output_dir).resolve():
        raise InvalidInputError("err.train.resume_other_run", path=checkpoint, run=folder.parent.name,
                              output=str(output_dir))
    return folder


def config_error(exc: pydantic.ValidationError) -> InvalidInputError:
    """A schema refusal in the user's language: a cross-field rule by its own key, else the field details."""
    rules = [err["ctx"]["rule"] for err in exc.errors() if err["type"] == "llmops_rule"]
    if rules:
        return InvalidInputError(rules[0])
    return InvalidInputError("err.config_invalid", details=pydantic_details(exc, "config"))


# --- saved configs --------------------------------------------------------------------------------------

def saved_configs(settings: Settings) -> list[str]:
    """Saved YAML files under configs/llmops/, newest first (names relative to that folder)."""
    root = settings.generated_configs_dir
    if not root.exists():
        return []
    files = sorted(root.glob("*.yaml"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return [path.name for path in files]


def _saved_path(settings: Settings, path: str | Path) -> Path:
    text = str(path or "").strip()
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        parts = candidate.parts
        # Accept 'configs/llmops/x.yaml' (relative to the home) as well as a bare 'x.yaml'.
        candidate = settings.home / candidate if len(parts) > 1 else settings.generated_configs_dir / candidate
    target = inside(settings.generated_configs_dir, candidate, "saved config")
    if not text or not target.is_file():
        raise InvalidInputError("err.train.config_missing", path=text)
    return target


def load_config(settings: Settings, path: str | Path) -> TrainConfig:
    """A saved config back as a TrainConfig: from its .llmops.json sidecar when present, else from the YAML."""
    target = _saved_path(settings, path)
    sidecar = target if target.name.endswith(SIDECAR) else target.with_suffix(SIDECAR)
    try:
        if sidecar.is_file():
            return TrainConfig.model_validate(json.loads(sidecar.read_text(encoding="utf-8")))
        try:
            args = yaml.safe_load(target.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InvalidInputError("err.yaml_invalid", path=str(target), reason=str(exc)) from exc
        if not isinstance(args, dict):
            raise InvalidInputError("err.yaml_invalid", path=str(target), reason="not a mapping")
        values, unknown = render.from_lf_args(args)
        if unknown:
            raise InvalidInputError("err.train.config_unknown_keys", path=target.name, keys=", ".join(unknown))
        values.setdefault("warmup_ratio", 0.0)  # written only when set, so absent means off
        return TrainConfig.model_validate(values)
    except json.JSONDecodeError as exc:
        raise InvalidInputError("err.yaml_invalid", path=str(sidecar), reason=str(exc)) from exc
    except pydantic.ValidationError as exc:
        raise config_error(exc) from exc


def find_identical(settings: Settings, args: dict) -> Path | None:
    """A saved YAML with these exact arguments whose output folder is still unused (any generated folder name)."""
    wanted = {key: value for key, value in args.items() if key != "output_dir"}
    for name in saved_configs(settings):
        path = settings.generated_configs_dir / name
        try:
            saved = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(saved, dict) or "output_dir" not in saved:
            continue
        output = settings.home / str(saved.pop("output_dir"))
        unused = not output.exists() or not any(output.iterdir()) or "resume_from_checkpoint" in saved
        if unused and saved == wanted and (path.with_suffix(SIDECAR)).is_file():
            return path
    return None


# --- optional packages --------------------------------------------------------------------------------

# (config field, value that needs it, feature name, import name, pip name)
_PACKAGES = (
    ("use_unsloth", True, "Unsloth", "unsloth", "unsloth"),
    ("enable_liger_kernel", True, "Liger kernel", "liger_kernel", "liger-kernel"),
    ("use_galore", True, "GaLore", "galore_torch", "galore-torch"),
    ("use_apollo", True, "APOLLO", "apollo_torch", "apollo-torch"),
    ("use_badam", True, "BAdam", "badam", "badam"),
    ("flash_attn", "fa2", "FlashAttention-2", "flash_attn", "flash-attn"),
)


def missing_packages(config: TrainConfig) -> list[tuple[str, str]]:
    """(feature, pip name) for each chosen option whose package this environment lacks."""
    return [(feature, pip) for field, value, feature, module, pip in _PACKAGES
            if getattr(config, field) == value and importlib.util.find_spec(module) is None]
