"""Build the lineage graph from what each owning store recorded: read-only, nothing typed in by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ...errors import LLMOpsError
from ...runner.store import JobStore
from ...schemas.jobs import Job
from ...schemas.models import ModelEntry
from ...settings import Settings
from ..datasets import DatasetRegistry
from ..datasets import versions as manifests
from ..evaluation.run_folder import list_runs
from ..models import ModelRegistry
from .graph import Graph, Node
from .record import dataset_version_id, dataset_versions
from .store import LineageStore

_JOB_LIMIT = 100_000


def build(settings: Settings) -> Graph:
    """The whole graph of this workspace."""
    graph = Graph()
    facts = LineageStore(settings).facts()
    entries = ModelRegistry(settings).list()
    gated = {(e["parent"], e["child"]) for f in facts for e in f.edges if e.get("relation") == "gated"}
    gated |= {(o.get("run_id"), e.id) for e in entries for o in e.lineage.get("gate_overrides", [])}
    _datasets(graph, settings)
    jobs = _read_jobs(settings)
    _jobs(graph, settings, jobs, entries)
    _models(graph, entries, {_resolved(job.run_dir): job.id for job in jobs})
    _evals(graph, settings, gated)
    for fact in facts:
        for node in fact.nodes:
            graph.add(Node(str(node["id"]), str(node.get("kind") or "documents"), str(node.get("label") or ""),
                           {**dict(node.get("details") or {}), "recorded": fact.at}))
        for edge in fact.edges:
            graph.link(edge.get("parent"), edge.get("child"), str(edge.get("relation") or ""), edge.get("details"))
    _by_file(graph, settings)
    for entry in entries:
        for override in entry.lineage.get("gate_overrides", []):
            graph.link(override.get("run_id"), entry.id, "gated", {"passed": False, "forced": True})
    graph.prune()
    return graph


def _by_file(graph: Graph, settings: Settings) -> None:
    """A corpus or votes export becomes the dataset version that reads the same file, whenever it was registered."""
    versions: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if node.kind == "dataset_version" and node.details.get("file"):
            versions.setdefault(_resolved(str(Path(settings.data_dir) / node.details["file"])), []).append(node.id)
    for node in list(graph.nodes.values()):
        if node.kind in ("corpus", "votes_batch") and node.details.get("file"):
            for version_id in versions.get(_resolved(node.details["file"]), []):
                graph.link(node.id, version_id, "registered" if node.kind == "corpus" else "exported")


def _datasets(graph: Graph, settings: Settings) -> None:
    """A node per registered dataset and per version, each version below the one it was made from."""
    registry = DatasetRegistry(settings)
    try:
        entries = registry.entries()
    except LLMOpsError:
        return  # an unreadable dataset_info.json: the datasets tab says why; the rest of the graph still shows
    for name, entry in entries.items():
        graph.add(Node(name, "dataset", name, {"file": entry.get("file_name", ""),
                                               "formatting": entry.get("formatting", "alpaca"),
                                               "ranking": bool(entry.get("ranking"))}))
        manifest = manifests.read(registry.root / name) if "/" not in name else None
        versions = manifest.versions if manifest else []
        if not versions and entry.get("file_name"):
            # A file registered by hand is its own v1, as the dataset registry shows it.
            path = Path(settings.data_dir) / entry["file_name"]
            created = _mtime(path)
            versions = [manifests.DatasetVersion("v1", entry["file_name"], None, "", 0, created, "", {}, path.name)]
        for version in versions:
            node_id = dataset_version_id(name, version.version)
            graph.add(Node(node_id, "dataset_version", node_id, {
                "dataset": name, "version": version.version, "file": version.file, "samples": version.samples or None,
                "created": version.created, "source": version.source, "note": version.note,
                "current": bool(manifest and manifest.current == version.version) or not manifest}))
            graph.link(name, node_id, "version")
            if version.parent:
                graph.link(dataset_version_id(name, version.parent), node_id, "derived")


def _models(graph: Graph, entries: list[ModelEntry], runs: dict[str | None, str]) -> None:
    """A node per registered version: from its parent, through the job, checkpoint or merge recipe that made it."""
    job_ids, made_by = set(runs.values()), {e.id: e.lineage.get("job_id") for e in entries}
    for entry in entries:
        lineage = entry.lineage
        graph.add(Node(entry.id, "base_model" if entry.kind == "base" else "model_version", entry.id, {
            "kind": entry.kind, "weights": entry.path or (entry.endpoint.base_url if entry.endpoint else ""),
            "adapter": entry.adapter or "", "created": entry.created, "template": entry.template or "",
            "stage": lineage.get("stage") or "", "parent_id": lineage.get("parent_id") or "",
            "job_id": lineage.get("job_id") or "", "datasets": list(lineage.get("datasets") or [])}))
        parent, job_id = lineage.get("parent_id"), lineage.get("job_id")
        checkpoint = f"{runs.get(_resolved(lineage.get('run')))}/{lineage.get('checkpoint')}"
        if lineage.get("operation") == "checkpoint" and checkpoint in graph.nodes:
            graph.link(checkpoint, entry.id, "promoted")
        elif lineage.get("operation") or lineage.get("recipe"):
            _merge(graph, entry, job_id if job_id in job_ids else None, made_by)
        elif job_id in job_ids:
            graph.link(job_id, entry.id, "produced")
        else:
            graph.link(parent, entry.id, "derived")
            for name in lineage.get("datasets") or []:  # its job is gone from the table: the names it recorded
                graph.link(str(name), entry.id, "trained_on")


def _merge(graph: Graph, entry: ModelEntry, job_id: str | None, made_by: dict[str, str | None]) -> None:
    """inputs -> merge recipe -> merged version (the job that ran it above the recipe)."""
    lineage = entry.lineage
    recipe_id = f"recipe:{entry.id}"
    inputs = [_input_id(graph, str(item), made_by) for item in lineage.get("inputs") or []]
    graph.add(Node(recipe_id, "merge_recipe", f"{lineage.get('operation') or 'merge'} → {entry.id}", {
        "operation": lineage.get("operation") or "", "method": lineage.get("method") or "", "inputs": inputs,
        "recipe": lineage.get("recipe") or "", "job_id": job_id or ""}))
    for item in inputs:
        if item not in graph.nodes and "@" not in item:  # a folder, not a registered version
            graph.add(Node(item, "base_model", Path(item).name or item, {"weights": item}))
        graph.link(item, recipe_id, "input")
    if lineage.get("parent_id") not in inputs:
        graph.link(lineage.get("parent_id"), recipe_id, "input")
    graph.link(job_id, recipe_id, "ran")
    graph.link(recipe_id, entry.id, "merged")


def _input_id(graph: Graph, item: str, made_by: dict[str, str | None]) -> str:
    """`name@version#checkpoint-N` is that checkpoint of the job that made the version, when it is still there."""
    version, sep, checkpoint = item.partition("#")
    if not sep:
        return item
    node_id = f"{made_by.get(version)}/{checkpoint}"
    return node_id if node_id in graph.nodes else version


def _read_jobs(settings: Settings) -> list[Job]:
    if not settings.jobs_db_path.exists():
        return []
    return JobStore(settings.jobs_db_path).list(_JOB_LIMIT)


def _jobs(graph: Graph, settings: Settings, jobs: list[Job], entries: list[ModelEntry]) -> None:
    """A node per job, with the model and dataset versions it read and the checkpoints it saved."""
    made_by = {e.lineage.get("job_id"): e for e in entries if e.lineage.get("job_id")}
    by_path = {e.path: e.id for e in entries if e.kind in ("base", "merged") and e.path}
    for job in jobs:
        meta = job.meta or {}
        graph.add(Node(job.id, "job", f"{meta.get('stage') or job.kind} {job.name}", {
            "kind": job.kind, "status": job.status.value, "stage": meta.get("stage") or "", "run_dir": job.run_dir,
            "created": _iso(job.created_at), "finished": _iso(job.finished_at), "exit_code": job.exit_code}))
        run_id = (meta.get("params") or {}).get("run_id")
        graph.link(job.id, run_id, "ran")
        if job.kind != "train":
            continue
        made = made_by.get(job.id)
        parent = meta.get("parent_model_id") or (made.lineage.get("parent_id") if made else None)
        parent = parent or by_path.get(_resolved(meta.get("model")))
        graph.link(parent, job.id, "trained_from")
        names = meta.get("dataset") or []
        names = [n.strip() for n in names.split(",") if n.strip()] if isinstance(names, str) else list(names)
        recorded = meta.get("dataset_versions") or {}
        assumed = dataset_versions(settings, [n for n in names if n not in recorded])
        for name in names:
            version = recorded.get(name) or assumed.get(name)
            target = dataset_version_id(name, version) if version else name
            graph.link(target, job.id, "trained_on", None if name in recorded else {"assumed": True})
        _checkpoints(graph, job)


def _checkpoints(graph: Graph, job: Job) -> None:
    out = Path((job.meta or {}).get("output_dir") or job.run_dir)
    if not out.is_dir():
        return
    found = [p for p in out.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    for folder in sorted(found, key=lambda p: int(p.name.split("-")[-1])):
        node_id = f"{job.id}/{folder.name}"
        graph.add(Node(node_id, "checkpoint", folder.name, {"folder": str(folder), "job_id": job.id}))
        graph.link(job.id, node_id, "saved")


def _evals(graph: Graph, settings: Settings, gated: set[tuple[str, str]]) -> None:
    """A node per evaluation run, below each model it evaluated (above the one it gated)."""
    for folder in list_runs(settings):
        try:
            config = folder.config()
        except LLMOpsError:
            continue  # a run folder being created or broken: the evaluation tab says why
        summary = folder.summary()
        graph.add(Node(config.run_id, "eval_run", config.name or config.run_id, {
            "set": config.set, "models": list(config.models), "metrics": list(config.metrics),
            "created": config.created, "status": summary.status if summary else "",
            "figures": {m: s.metrics for m, s in summary.models.items()} if summary else {}}))
        for model in config.models:
            version, _, checkpoint = model.partition("#")
            if (config.run_id, version) in gated:
                continue  # the run is an ancestor of the version it gated, not its child
            source = version
            if checkpoint:
                made = graph.nodes.get(version)
                job_id = made.details.get("job_id") if made else ""
                source = f"{job_id}/{checkpoint}" if job_id and f"{job_id}/{checkpoint}" in graph.nodes else version
            graph.link(source, config.run_id, "evaluated")
        set_name, _, set_version = config.set.partition("@")
        graph.link(dataset_version_id(set_name, set_version) if set_version else set_name, config.run_id, "set")


def _resolved(path: str | None) -> str | None:
    if not path:
        return None
    local = Path(path).expanduser()
    return str(local.resolve()) if local.exists() else path


def _mtime(path: Path) -> str:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    except OSError:
        return ""


def _iso(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).astimezone().isoformat(timespec="seconds") if stamp else ""
