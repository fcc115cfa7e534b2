"""`targets list|check|add|remove|sbatch`: where jobs may run besides this machine."""

from __future__ import annotations

from pathlib import Path

from ..i18n import t
from ..services.targets import TargetsService
from .output import emit
from .types import positive_int, text


def register(sub) -> None:
    """Add the targets command group."""
    group = sub.add_parser("targets", help="execution targets: this machine, Ray, Slurm, SSH boxes")
    tsub = group.add_subparsers(dest="targets_command", required=True)
    cmd = tsub.add_parser("list", help="every target")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_list)
    cmd = tsub.add_parser("check", help="health check of one target")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_check)
    add = tsub.add_parser("add", help="add a Ray, Slurm or SSH target").add_subparsers(dest="target_type", required=True)
    cmd = add.add_parser("slurm", help="a Slurm cluster reached through sbatch on this machine")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--partition", type=text, default=None)  # argparse would run `text` on a "" default
    cmd.add_argument("--nodes", type=positive_int, default=1)
    cmd.add_argument("--gpus-per-node", type=int, default=1)
    cmd.add_argument("--time", type=text, default="04:00:00")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_add_slurm)
    cmd = add.add_parser("ssh", help="a remote box as user@host (agent keys, or --key FILE; no password)")
    cmd.add_argument("name", type=text)
    cmd.add_argument("user_host", type=text, metavar="USER@HOST")
    cmd.add_argument("--key", type=text, default=None, help="private key file path (the key is never copied)")
    cmd.add_argument("--port", type=positive_int, default=22)
    cmd.add_argument("--remote-dir", type=text, default="llmops-runs")
    cmd.add_argument("--lf-cli", type=text, default="llamafactory-cli", help="llamafactory-cli on the remote box")
    cmd.add_argument("--python", type=text, default="python3", help="the remote Python for evaluation and merge jobs")
    cmd.add_argument("--vllm", type=text, default="vllm", help="the remote vllm executable, for serving there")
    cmd.add_argument("--fetch-checkpoints", action="store_true")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_add_ssh)
    cmd = add.add_parser("ray", help="a Ray cluster: ray://host:port or its dashboard's http://host:port (Jobs API)")
    cmd.add_argument("name", type=text)
    cmd.add_argument("address", type=text, metavar="ADDRESS")
    cmd.add_argument("--dashboard-port", type=positive_int, default=8265, help="the head's dashboard port (ray://)")
    cmd.add_argument("--shared-path", type=text, default="", help="a folder this machine and the nodes share")
    cmd.add_argument("--lf-cli", type=text, default="llamafactory-cli", help="llamafactory-cli on the nodes")
    cmd.add_argument("--python", type=text, default="python", help="the nodes' Python for evaluation and merge jobs")
    cmd.add_argument("--fetch-checkpoints", action="store_true")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_add_ray)
    cmd = tsub.add_parser("remove", help="forget a target")
    cmd.add_argument("name", type=text)
    cmd.set_defaults(handler=_remove)
    cmd = tsub.add_parser("sbatch", help="write (and print) the sbatch script for a saved training YAML")
    cmd.add_argument("name", type=text, help="a Slurm target")
    cmd.add_argument("yaml", type=text)
    cmd.set_defaults(handler=_sbatch)


def _list(settings, args) -> int:
    rows = [target.model_dump() for target in TargetsService(settings).list()]
    lines = [f"{row['name']:<16} {row['type']:<6} {row.get('user_host') or row.get('address') or row.get('partition') or ''}" for row in rows]
    emit(rows, args.json, "\n".join(lines))
    return 0


def _check(settings, args) -> int:
    health = TargetsService(settings).check(args.name, settings.lang)
    emit(health.model_dump(), args.json, f"{health.name}: {'ok' if health.ok else 'FAILED'} - {health.detail}")
    return 0 if health.ok else 1


def _added(settings, args, data: dict) -> int:
    target = TargetsService(settings).add(data)
    emit(target.model_dump(), args.json, t("targets.added", settings.lang, name=target.name, type=target.type))
    return 0


def _add_slurm(settings, args) -> int:
    return _added(settings, args, {"type": "slurm", "name": args.name, "partition": args.partition or "",
                                   "nodes": args.nodes, "gpus_per_node": args.gpus_per_node, "time": args.time})


def _add_ssh(settings, args) -> int:
    return _added(settings, args, {"type": "ssh", "name": args.name, "user_host": args.user_host, "port": args.port,
                                   "key_file": args.key or "", "remote_dir": args.remote_dir, "lf_cli": args.lf_cli,
                                   "python": args.python, "vllm": args.vllm, "fetch_checkpoints": args.fetch_checkpoints})


def _add_ray(settings, args) -> int:
    return _added(settings, args, {"type": "ray", "name": args.name, "address": args.address,
                                   "dashboard_port": args.dashboard_port, "shared_path": args.shared_path,
                                   "lf_cli": args.lf_cli, "python": args.python, "fetch_checkpoints": args.fetch_checkpoints})


def _remove(settings, args) -> int:
    TargetsService(settings).remove(args.name)
    print(t("targets.removed", settings.lang, name=args.name))
    return 0


def _sbatch(settings, args) -> int:
    path = Path(args.yaml).expanduser()
    script, body = TargetsService(settings).sbatch_script(args.name, path if path.is_absolute() else settings.home / path)
    print(t("targets.sbatch_written", settings.lang, path=str(script)))
    print(body)
    return 0
