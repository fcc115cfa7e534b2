"""`train config` and `train launch`."""

from __future__ import annotations

import yaml

from ..errors import InvalidInputError
from ..runner.runner import JobRunner
from ..schemas.jobs import JobStatus
from ..schemas.stages import STAGE_NAMES
from ..schemas.training import field_names
from ..services.training import TrainingService
from . import train_grpo
from .target_opt import add_target
from .types import devices, text


def register(sub) -> None:
    """Add the train subcommands."""
    train = sub.add_parser("train", help="build and launch LLaMA-Factory training configs")
    tsub = train.add_subparsers(dest="train_command", required=True)
    config = tsub.add_parser("config", help="write a YAML config and print the command that runs it")
    config.add_argument("--stage", choices=(*STAGE_NAMES, "grpo"), required=True,
                        help="a LLaMA-Factory stage, or grpo (TRL's GRPOTrainer)")
    config.add_argument("--model", required=True, type=text, help="local path, hub id, or 'demo' for the tiny local model")
    config.add_argument("--dataset", action="append", required=True, type=text, help="registered dataset name (repeatable)")
    config.add_argument("--dataset-dir", help="import the dataset(s) from this folder's dataset_info.json")
    config.add_argument("--finetuning", choices=("lora", "full", "freeze"))
    config.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any config field")
    config.add_argument("--out", help="write the YAML here instead of configs/llmops/")
    config.add_argument("--nproc-per-node", type=int, default=0, help="GPUs per node in the printed commands "
                        "(default: the GPUs detected here)")
    config.add_argument("--nnodes", type=int, default=2, help="nodes in the printed multi-node command")
    config.add_argument("--master-addr", default="", help="node 0's address for the multi-node command")
    config.add_argument("--master-port", type=int, default=29500)
    config.set_defaults(handler=_config)
    schema = tsub.add_parser("schema", help="print the JSON schema of a stage's named-API request")
    schema.add_argument("--stage", choices=STAGE_NAMES, help="the stage whose request to describe")
    schema.add_argument("--table", action="store_true", help="print every config key as a Markdown table instead")
    schema.set_defaults(handler=_schema)
    launch = tsub.add_parser("launch", help="queue a saved config as a job")
    launch.add_argument("file", type=text)
    launch.add_argument("--wait", action="store_true", help="block until it ends; exit 0 only if it COMPLETED")
    launch.add_argument("--devices", type=devices, help="'cpu', 'all' or GPU ids like 0,1")
    add_target(launch)
    launch.set_defaults(handler=_launch)


def parse_sets(items: list[str], fields: list[str] | None = None) -> dict:
    """KEY=VALUE pairs with YAML-typed values; keys not among `fields` (TrainConfig's by default) refused."""
    known = set(fields or field_names()) - {"stage", "model", "datasets", "dataset"}
    values = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError("err.set_syntax", item=item)
        key = key.strip()
        if key not in known:
            raise InvalidInputError("err.set_unknown_key", key=key, known=", ".join(sorted(known)))
        try:
            values[key] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as exc:
            reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
            raise InvalidInputError("cli.set_yaml", item=item, reason=reason) from None
    return values


def _config(settings, args) -> int:
    if args.stage == "grpo":
        return train_grpo.config(settings, args)
    service = TrainingService(settings, JobRunner(settings))
    if args.dataset_dir:
        for name in args.dataset:
            service.import_dataset(name, args.dataset_dir)
    overrides = parse_sets(args.set)
    if args.finetuning:
        overrides["finetuning_type"] = args.finetuning
    config = service.build(args.stage, args.model, args.dataset, **overrides)
    if args.out:
        from pathlib import Path

        from ..storage import atomic_write_text

        rendered = service.render(config)
        path = atomic_write_text(Path(args.out), rendered.yaml_text)
        print(path)
        print(f"llamafactory-cli train {path}")
        return 0
    from ..lf.command import Target

    saved = service.save(config, Target(args.nproc_per_node, args.nnodes, args.master_addr, args.master_port))
    print(saved.path)
    print(saved.commands.as_text(str(settings.home)))
    return 0


def _schema(settings, args) -> int:
    import json

    from ..services.train_request import fields_table

    if args.table or not args.stage:
        print(fields_table())
        return 0
    schema = TrainingService(settings, JobRunner(settings)).request_schema(args.stage)
    print(json.dumps(schema, ensure_ascii=False, indent=2))
    return 0


def _launch(settings, args) -> int:
    from ..services.targets import TargetsService

    training = TrainingService(settings, JobRunner(settings))
    job = (train_grpo.launch(settings, args.file, args.devices, args.target)
           or TargetsService(settings).launch_train(training, args.file, args.target or "local", devices=args.devices))
    print(job.id)
    if not args.wait:
        return 0
    from ..services.container import build_services

    # Waiting here also applies the completion (the new model version), recorded once in the job table.
    job = build_services(settings).reconciler.wait_applied(job.id)
    print(f"{job.id} {job.status.value} exit={job.exit_code}")
    return 0 if job.status is JobStatus.COMPLETED else 1
