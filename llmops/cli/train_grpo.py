"""`train config --stage grpo` and `train launch` of a GRPO YAML: the CLI face of services.grpo."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInputError
from ..runner.runner import JobRunner
from ..schemas.grpo import GrpoConfig
from ..services.grpo import GrpoService, is_grpo_yaml
from ..storage import atomic_write_text


def config(settings, args) -> int:
    """Write the GRPO YAML (or --out FILE) and print the command that runs it."""
    service = GrpoService(settings, JobRunner(settings))
    if len(args.dataset) != 1:
        raise InvalidInputError("err.grpo.config_invalid", details="GRPO reads exactly one --dataset")
    from .train import parse_sets

    overrides = parse_sets(args.set, list(GrpoConfig.model_fields))
    if args.finetuning:
        overrides["finetuning_type"] = args.finetuning
    built = service.build(args.model, args.dataset[0], **overrides)
    if args.out:
        path = atomic_write_text(Path(args.out), service.render(built).yaml_text)
        print(path)
        print(service.command(str(path)))
        return 0
    saved = service.save(built)
    print(saved.path)
    print(saved.command)
    return 0


def launch(settings, file: str, devices: str | None, target: str | None = None):
    """The job of a GRPO YAML on `target`, or None when the file is not one (then LLaMA-Factory's launch applies)."""
    path = Path(file).expanduser()
    path = path if path.is_absolute() else settings.home / path
    if not is_grpo_yaml(path):
        return None
    return GrpoService(settings, JobRunner(settings)).launch_file(path, devices=devices, target=target)

