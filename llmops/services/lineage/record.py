"""Recording calls made where an artifact is made, for the facts no owning store keeps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from ...errors import LLMOpsError
from ...settings import Settings
from .store import Fact, LineageStore, digest

VOTES_PREFIX = "votes:"
DOCS_PREFIX = "docs:"
CORPUS_PREFIX = "corpus:"


def dataset_version_id(name: str, version: str) -> str:
    """The lineage id of one dataset version: `name/version`."""
    return f"{name}/{version}"


def dataset_versions(settings: Settings, names: str | Sequence[str] | None) -> dict[str, str]:
    """The version each named dataset points to now (a file registered by hand is its v1); unknown names left out."""
    from ..datasets import DatasetRegistry

    if isinstance(names, str):
        names = [part.strip() for part in names.split(",") if part.strip()]
    registry, found = DatasetRegistry(settings), {}
    for name in names or []:
        try:
            target = registry.resolve(name)
        except LLMOpsError:
            continue  # a remote or broken entry has no version to name; the job still names the dataset
        found[name] = target.version.version if target.version else "v1"
    return found


def record_votes_batch(settings: Settings, dataset: str, path: Path, lines: Sequence[str],
                       votes: Iterable) -> str:
    """The votes behind one DPO or KTO export: file, count, a digest of their ids, their time range; returns its id."""
    ids = list(dict.fromkeys(json.loads(line)["vote_id"] for line in lines))  # a KTO export has two lines a vote
    wanted = set(ids)
    times = sorted(vote.ts for vote in votes if vote.vote_id in wanted)
    batch_id = VOTES_PREFIX + path.stem.rsplit("_", 1)[-1]
    version = dataset_versions(settings, [dataset]).get(dataset, "v1")
    node = {"id": batch_id, "kind": "votes_batch", "label": f"{len(ids)} votes",
            "details": {"count": len(ids), "file": str(path), "prefs": str(settings.prefs_path),
                        "vote_ids_digest": digest(sorted(ids)), "first_vote": times[0] if times else "",
                        "last_vote": times[-1] if times else "", "dataset": dataset}}
    edge = {"parent": batch_id, "child": dataset_version_id(dataset, version), "relation": "exported"}
    LineageStore(settings).append(Fact(batch_id, [node], [edge]))
    return batch_id


def record_corpus(settings: Settings, path: Path, dataset: str | None, documents: Iterable[str]) -> str:
    """The documents one corpus build read and the dataset it became; returns the corpus id."""
    files = sorted(set(documents))
    docs_id = DOCS_PREFIX + digest([*files, *(_stamp(Path(f)) for f in files)])
    corpus_id = CORPUS_PREFIX + path.name
    nodes = [{"id": docs_id, "kind": "documents", "label": f"{len(files)} documents",
              "details": {"count": len(files), "files": files[:200]}},
             {"id": corpus_id, "kind": "corpus", "label": path.name, "details": {"file": str(path)}}]
    edges = [{"parent": docs_id, "child": corpus_id, "relation": "chunked"}]
    if dataset:
        version = dataset_versions(settings, [dataset]).get(dataset, "v1")
        edges.append({"parent": corpus_id, "child": dataset_version_id(dataset, version), "relation": "registered"})
    LineageStore(settings).append(Fact(corpus_id, nodes, edges))
    return corpus_id


def record_gate(settings: Settings, verdict, forced: bool = False) -> str | None:
    """An evaluation run that a promotion was checked against; None when no run was found."""
    if verdict is None or not verdict.run_id:
        return None
    fact_id = f"gate:{verdict.candidate}:{verdict.previous}:{verdict.run_id}"
    details = {"passed": bool(verdict.passed), "forced": bool(forced), "previous": verdict.previous,
               "metric": verdict.metric, "candidate_figure": verdict.candidate_figure,
               "previous_figure": verdict.previous_figure}
    edge = {"parent": verdict.run_id, "child": verdict.candidate, "relation": "gated", "details": details}
    LineageStore(settings).append(Fact(fact_id, [], [edge]))
    return fact_id


def _stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns}"
