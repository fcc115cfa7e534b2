"""The lineage graph: typed nodes and parent -> child edges, with walks up and down and a depth per node."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

KINDS = ("documents", "corpus", "dataset", "dataset_version", "base_model", "votes_batch", "job", "checkpoint",
         "model_version", "merge_recipe", "eval_run")


@dataclass
class Node:
    """One artifact: its id, kind, a short label and what the owning store says about it.

    No detail is keyed "path": API clients read a dict with a "path" string as a file to download."""

    id: str
    kind: str
    label: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label or self.id, "details": self.details}


@dataclass(frozen=True)
class Edge:
    """`parent` went into making `child`; `relation` says how."""

    parent: str
    child: str
    relation: str
    details: tuple = ()

    def to_dict(self) -> dict:
        return {"parent": self.parent, "child": self.child, "relation": self.relation, "details": dict(self.details)}


class Graph:
    """Nodes by id and the edges between them; edges to ids that no store knows are dropped by `prune`."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self._seen: set[tuple[str, str]] = set()
        self._up: dict[str, list[Edge]] = {}
        self._down: dict[str, list[Edge]] = {}

    def add(self, node: Node) -> Node:
        """Add `node`, or merge its details into the node already there (the first kind and label hold)."""
        known = self.nodes.get(node.id)
        if known is None:
            self.nodes[node.id] = node
            return node
        known.details = {**node.details, **known.details}
        return known

    def link(self, parent: str | None, child: str | None, relation: str, details: dict | None = None) -> None:
        """Add one edge (once per pair, never a self-loop)."""
        if not parent or not child or parent == child or (parent, child) in self._seen:
            return
        self._seen.add((parent, child))
        edge = Edge(parent, child, relation, tuple(sorted((details or {}).items())))
        self.edges.append(edge)
        self._up.setdefault(child, []).append(edge)
        self._down.setdefault(parent, []).append(edge)

    def has_edge(self, parent: str, child: str) -> bool:
        return (parent, child) in self._seen

    def prune(self) -> None:
        """Forget edges whose ends no store knows (a deleted run, a removed version)."""
        kept = [e for e in self.edges if e.parent in self.nodes and e.child in self.nodes]
        self.edges, self._seen, self._up, self._down = [], set(), {}, {}
        for edge in kept:
            self.link(edge.parent, edge.child, edge.relation, dict(edge.details))

    def parents(self, node_id: str) -> list[Edge]:
        return list(self._up.get(node_id, []))

    def children(self, node_id: str) -> list[Edge]:
        return list(self._down.get(node_id, []))

    def ancestors(self, node_id: str) -> list[Node]:
        """Everything `node_id` came from, nearest first (cycle-safe)."""
        return [self.nodes[i] for i in self._walk(node_id, self._up, "parent")]

    def descendants(self, node_id: str) -> list[Node]:
        """Everything made from `node_id`, nearest first (cycle-safe)."""
        return [self.nodes[i] for i in self._walk(node_id, self._down, "child")]

    def _walk(self, start: str, index: dict[str, list[Edge]], end: str) -> list[str]:
        seen, order, queue = {start}, [], deque([start])
        while queue:
            for edge in index.get(queue.popleft(), []):
                other = getattr(edge, end)
                if other not in seen:
                    seen.add(other)
                    order.append(other)
                    queue.append(other)
        return order

    def depths(self, ids: set[str]) -> dict[str, int]:
        """Longest-path depth of each node within `ids`: roots 0, every child below all of its parents."""
        depth = {i: 0 for i in ids}
        # Bellman-Ford style relaxation, bounded by the node count, so a cycle cannot loop forever.
        for _ in range(len(ids)):
            changed = False
            for edge in self.edges:
                if edge.parent in ids and edge.child in ids and depth[edge.child] < depth[edge.parent] + 1:
                    depth[edge.child] = depth[edge.parent] + 1
                    changed = True
            if not changed:
                break
        return depth
