"""`eval benchmark`: lm-evaluation-harness tasks (local YAML + JSONL) on a registered local version, as a job."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .target_opt import add_target
from .types import comma_list, positive_int, text


def register(esub) -> None:
    """Add `eval benchmark` to the eval subcommands."""
    cmd = esub.add_parser("benchmark", help="lm-eval tasks (local task YAML + JSONL) on a local registered version")
    cmd.add_argument("--model", type=text, required=True, help="registered version id, e.g. demo@v1.0")
    cmd.add_argument("--tasks", type=comma_list, required=True,
                     help="task YAML files, comma-separated (a shipped example by file name, e.g. gsm_zh_mini.yaml)")
    cmd.add_argument("--limit", type=positive_int, default=None, help="only the first N documents of each task")
    cmd.add_argument("--batch-size", type=positive_int, default=4)
    cmd.add_argument("--chat-template", action="store_true", help="wrap prompts in the model's chat template")
    cmd.add_argument("--wait", action="store_true", help="wait for the figures (else print the run and job ids)")
    add_target(cmd)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_benchmark)


def _benchmark(settings, args) -> int:
    from ..services.container import build_services
    from ..services.evaluation.benchmarks import (
        read_results,
        resolve_task_path,
        start_benchmark,
    )
    from .jobs import checked, wait_applied

    services = build_services(settings)
    services.sync_models()
    tasks = [resolve_task_path(settings, path) for path in args.tasks]  # the job runs in another folder
    folder, job = start_benchmark(settings, services.runner, args.model, tasks, limit=args.limit,
                                  batch_size=args.batch_size, chat_template=args.chat_template, target=args.target)
    if not args.wait:
        emit({"run_id": folder.run_id, "job_id": job.id}, args.json,
             t("bench.queued", settings.lang, run=folder.run_id, job=job.id))
        return 0
    job = wait_applied(settings, services, job)
    checked(settings, job)
    data = read_results(settings, folder.run_id)
    lines = [f"{folder.run_id} {args.model}"]
    for name, task in data["tasks"].items():
        figures = ", ".join(f"{key} {value:.4f}" if value is not None else f"{key} -"
                            for key, value in task["metrics"].items())
        lines.append(f"{name} ({task['samples']}): {figures}")
    emit({**data, "job_id": job.id}, args.json, "\n".join(lines))
    return 0
