"""`prefs stats|leaderboard|export-dpo|export-kto` and `loop dpo-round`."""

from __future__ import annotations

from pathlib import Path

from ..errors import JobError
from ..schemas.jobs import JobStatus
from ..services import prefs as prefs_service
from ..services import ratings
from .output import emit
from .train import parse_sets
from .types import positive_int, text


def register(sub) -> None:
    """Add the prefs and loop subcommands."""
    prefs = sub.add_parser("prefs", help="the preference log: stats, leaderboard, DPO and KTO export")
    psub = prefs.add_subparsers(dest="prefs_command", required=True)
    for name, handler in (("stats", _stats), ("leaderboard", _leaderboard), ("export-dpo", _export),
                          ("export-kto", _export)):
        cmd = psub.add_parser(name)
        cmd.add_argument("--file", help="a prefs.jsonl (default: the workspace's)")
        cmd.add_argument("--source", choices=("human", "synthetic"))
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(handler=handler)
        if name == "leaderboard":
            cmd.add_argument("--rounds", type=positive_int, default=100)
        if name.startswith("export-"):
            shape = name.removeprefix("export-")
            cmd.add_argument("--out", help=f"output .jsonl (default: data/llmops/{shape}_prefs_<hash>.jsonl, "
                             "registered as a dataset)")
            cmd.add_argument("--only-model", help="only votes involving this model id")
            cmd.set_defaults(shape=shape)
    loop = sub.add_parser("loop", help="the online loop")
    lsub = loop.add_subparsers(dest="loop_command", required=True)
    round_cmd = lsub.add_parser("dpo-round", help="votes -> DPO on VERSION -> the next version")
    round_cmd.add_argument("--base", required=True, type=text, help="registered version, e.g. demo@v1.0")
    round_cmd.add_argument("--only-current", action="store_true", help="only votes involving --base")
    round_cmd.add_argument("--source", choices=("human", "synthetic"))
    round_cmd.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    round_cmd.add_argument("--wait", action="store_true", help="wait, register the new version, exit 0 if it did")
    round_cmd.set_defaults(handler=_dpo_round)


def _store(settings, args) -> prefs_service.PrefsStore:
    return prefs_service.PrefsStore(Path(args.file) if args.file else settings.prefs_path)


def _votes(settings, args):
    result = _store(settings, args).read()
    return [v for v in result.votes if not args.source or v.source == args.source], result.problems


def _stats(settings, args) -> int:
    counts = _store(settings, args).aggregates()
    problems = list(counts.problems)
    data = {**counts.stats(args.source), "duplicates": counts.duplicates, "problems": problems}
    lines = [f"votes: {data['total']}", f"by winner: {data['by_winner']}", f"by source: {data['by_source']}"]
    lines += [f"{pair}: {count}" for pair, count in sorted(data["by_pair"].items())]
    if counts.duplicates:
        lines.append(f"repeated vote_id lines (counted once): {counts.duplicates}")
    lines += [f"problem: {p}" for p in problems]
    if counts.problem_count > len(problems):
        lines.append(f"... and {counts.problem_count - len(problems)} more problem lines")
    emit(data, args.json, "\n".join(lines))
    return 0


def _leaderboard(settings, args) -> int:
    counts = _store(settings, args).aggregates().pair_counts(args.source)
    board = ratings.leaderboard(counts, rounds=args.rounds) if counts.models else []
    text = "\n".join(f"{r['model']:30} {r['rating']:8.1f}  [{r['ci_low']:.1f}, {r['ci_high']:.1f}]  {r['votes']} votes"
                     for r in board) or "no votes"
    emit(board, args.json, text)
    return 0


def _export(settings, args) -> int:
    unit = "pairs" if args.shape == "dpo" else "examples"
    if args.out:
        votes, _ = _votes(settings, args)
        count = prefs_service.export_votes(votes, Path(args.out), args.shape, only_models=args.only_model)
        emit({"path": args.out, unit: count}, args.json, f"{count} {unit} -> {args.out}")
        return 0
    from ..services.container import build_services

    name, path, count = build_services(settings).loop.export(args.only_model, args.source, shape=args.shape)
    emit({"path": str(path), "dataset": name, unit: count}, args.json, f"{count} {unit} -> {path} ({name})")
    return 0


def _dpo_round(settings, args) -> int:
    from ..services.container import build_services

    services = build_services(settings)
    services.sync_models()
    round_ = services.loop.prepare(args.base, only_current=args.only_current, source=args.source,
                                   **parse_sets(args.set))
    saved, job = services.loop.launch(round_)
    print(f"{round_.pairs} pairs -> {round_.dataset}")
    print(saved.path)
    print(job.id)
    if not args.wait:
        return 0
    job = services.reconciler.wait_applied(job.id)  # the completion is applied (once) by the reconciler
    if job.status is not JobStatus.COMPLETED:
        print(f"{job.id} {job.status.value} exit={job.exit_code}")
        return 1
    if job.apply_error:
        raise JobError("err.job_apply_failed", job_id=job.id, reason=job.apply_error)
    print(job.apply_result["loop_pair"])
    return 0
