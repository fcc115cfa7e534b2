"""Lineage queries: where an artifact came from and what came from it, as typed views, text and JSON."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import NotFoundError
from ...i18n import t
from ...settings import Settings
from .build import build
from .graph import KINDS, Edge, Graph, Node

# The order a layered view lists kinds in: sources first, then what was made from them.
LAYER_ORDER = ("base_model", "documents", "corpus", "dataset", "dataset_version", "votes_batch", "job", "checkpoint",
               "model_version", "merge_recipe", "eval_run")


@dataclass
class LineageView:
    """One artifact with its ancestors (and, asked for, its descendants), the edges between them and their depths."""

    node: Node
    ancestors: list[Node]
    descendants: list[Node]
    edges: list[Edge]
    depth: dict[str, int]
    evaluations: list[Node]  # runs that evaluated it or gated it

    def nodes(self) -> list[Node]:
        return [*self.ancestors, self.node, *self.descendants]

    def layers(self, side: str) -> list[tuple[str, list[Node]]]:
        """(kind, nodes) for `side` ("up" or "down"), kinds in LAYER_ORDER, nodes by depth."""
        chosen = self.ancestors if side == "up" else self.descendants
        grouped = [(kind, sorted((n for n in chosen if n.kind == kind), key=lambda n: (self.depth.get(n.id, 0), n.id)))
                   for kind in LAYER_ORDER]
        return [(kind, nodes) for kind, nodes in grouped if nodes]

    def to_dict(self) -> dict:
        def with_depth(node: Node) -> dict:
            return {**node.to_dict(), "depth": self.depth.get(node.id, 0)}

        return {"id": self.node.id, "node": with_depth(self.node),
                "ancestors": [with_depth(n) for n in self.ancestors],
                "descendants": [with_depth(n) for n in self.descendants],
                "evaluations": [n.id for n in self.evaluations],
                "edges": [e.to_dict() for e in self.edges]}


class LineageService:
    """Reads the graph fresh from the stores on every query, so it always shows what is recorded now."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def graph(self) -> Graph:
        return build(self.settings)

    def resolve(self, ref: str, graph: Graph | None = None) -> str:
        """The node id `ref` names: a model `name@version`, a dataset `name` or `name/vN` (or `name@vN`), a job id,
        an evaluation run id, or any other lineage id."""
        graph = graph or self.graph()
        ref = (ref or "").strip()
        if ref in graph.nodes:
            return ref
        name, sep, version = ref.rpartition("@")
        if sep and f"{name}/{version}" in graph.nodes:
            return f"{name}/{version}"
        raise NotFoundError("err.lineage_unknown", id=ref)

    def node(self, ref: str) -> Node:
        graph = self.graph()
        return graph.nodes[self.resolve(ref, graph)]

    def ancestors(self, ref: str) -> list[Node]:
        graph = self.graph()
        return graph.ancestors(self.resolve(ref, graph))

    def descendants(self, ref: str) -> list[Node]:
        graph = self.graph()
        return graph.descendants(self.resolve(ref, graph))

    def view(self, ref: str, down: bool = True) -> LineageView:
        """Where `ref` came from, and (with `down`) what came from it."""
        graph = self.graph()
        node_id = self.resolve(ref, graph)
        ancestors = graph.ancestors(node_id)
        descendants = graph.descendants(node_id) if down else []
        ids = {node_id, *(n.id for n in ancestors), *(n.id for n in descendants)}
        evaluations = [graph.nodes[e.child] for e in graph.children(node_id) if graph.nodes[e.child].kind == "eval_run"]
        evaluations += [graph.nodes[e.parent] for e in graph.parents(node_id) if e.relation == "gated"]
        edges = [e for e in graph.edges if e.parent in ids and e.child in ids]
        return LineageView(graph.nodes[node_id], ancestors, descendants, edges, graph.depths(ids), evaluations)

    def choices(self) -> list[str]:
        """Ids worth picking: model versions first, then dataset versions, jobs and evaluation runs."""
        graph = self.graph()
        order = {"model_version": 0, "base_model": 0, "dataset_version": 1, "job": 2, "eval_run": 3}
        picked = [n for n in graph.nodes.values() if n.kind in order]
        return [n.id for n in sorted(picked, key=lambda n: (order.get(n.kind, 9), n.id))]


def summary(node: Node) -> str:
    """One line of what matters about `node`."""
    d = node.details
    if node.kind == "votes_batch":
        return f"{d.get('count')} votes, {d.get('first_vote', '')} … {d.get('last_vote', '')}, {d.get('file', '')}"
    if node.kind == "dataset_version":
        samples = f"{d['samples']} samples, " if d.get("samples") else ""
        return f"{samples}{d.get('file', '')}{' (' + d['source'] + ')' if d.get('source') else ''}"
    if node.kind == "job":
        return f"{d.get('kind')} {d.get('stage', '')} {d.get('status', '')} {d.get('run_dir', '')}".replace("  ", " ")
    if node.kind == "eval_run":
        return f"set {d.get('set')}, {d.get('status') or '?'}, models {', '.join(d.get('models') or [])}"
    if node.kind in ("model_version", "base_model"):
        return " ".join(str(x) for x in (d.get("kind"), d.get("stage"), d.get("adapter") or d.get("weights")) if x)
    if node.kind == "merge_recipe":
        return f"{d.get('operation')} {d.get('method', '')} inputs {', '.join(d.get('inputs') or [])}"
    if node.kind == "documents":
        return ", ".join(d.get("files") or [])[:300]
    return str(d.get("file") or d.get("weights") or d.get("folder") or "")


def render_text(view: LineageView, lang: str = "en") -> str:
    """The layered text view: the artifact, where it came from, the evaluations, and what came from it."""
    lines = [t("lineage.text.title", lang, id=view.node.id, kind=kind_label(view.node.kind, lang)),
             f"  {summary(view.node)}"]
    for side, title in (("up", "lineage.text.up"), ("down", "lineage.text.down")):
        layers = view.layers(side)
        if side == "down" and not layers:
            continue
        lines.append(t(title, lang))
        if not layers:
            lines.append("  " + t("lineage.text.none", lang))
        for kind, nodes in layers:
            lines.append(f"  {kind_label(kind, lang)}")
            lines.extend(f"    {n.id}  {summary(n)}" for n in nodes)
    if view.evaluations:
        lines.append(t("lineage.text.evals", lang))
        lines.extend(f"  {n.id}  {summary(n)}" for n in view.evaluations)
    return "\n".join(lines)


def kind_label(kind: str, lang: str = "en") -> str:
    return t(f"lineage.kind.{kind}", lang) if kind in KINDS else kind
