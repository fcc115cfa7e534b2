"""Pipeline files: YAML -> typed Pipeline -> a checked graph (references, needs, order), before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydantic
import yaml

from ...errors import InvalidInputError, NotFoundError, pydantic_details
from ...schemas.pipelines import ANY_OUTPUT, OUTPUTS, Pipeline, malformed, references
from ...security.paths import contain
from ...settings import Settings

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Graph:
    """A checked pipeline: its stages by id, what each needs, and an order in which every need comes first."""

    pipeline: Pipeline
    needs: dict[str, list[str]]
    order: list[str]

    def stage(self, stage_id: str):
        return next(stage for stage in self.pipeline.stages if stage.id == stage_id)


def parse_text(text: str, source: str = "pipeline") -> Pipeline:
    """The typed pipeline in a YAML text; unknown keys and bad values refused with where they are."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError("err.pl_yaml", source=source, reason=str(exc)[:300]) from None
    if not isinstance(data, dict):
        raise InvalidInputError("err.pl_yaml", source=source, reason="not a mapping")
    try:
        return Pipeline.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.pl_invalid", source=source, details=pydantic_details(exc, limit=8)) from None


def check_graph(pipeline: Pipeline) -> Graph:
    """Needs from references and explicit `needs`; refuses a duplicate id, a missing stage or output, a cycle."""
    kinds: dict[str, str] = {}
    for stage in pipeline.stages:
        if stage.id in kinds:
            raise InvalidInputError("err.pl_duplicate", stage=stage.id)
        kinds[stage.id] = stage.kind
    needs: dict[str, list[str]] = {}
    for stage in pipeline.stages:
        params = stage.params.model_dump(mode="json")
        bad = malformed(params)
        if bad:
            raise InvalidInputError("err.pl_bad_ref", stage=stage.id, ref=bad[0])
        wanted = list(stage.needs)
        for ref_stage, output in references(params):
            if ref_stage is None:
                continue
            if ref_stage not in kinds:
                raise InvalidInputError("err.pl_unknown_stage", stage=stage.id, ref=ref_stage)
            known = OUTPUTS[kinds[ref_stage]]
            if output not in known and ANY_OUTPUT not in known:
                raise InvalidInputError("err.pl_unknown_output", stage=stage.id, ref=ref_stage, output=output,
                                        kind=kinds[ref_stage], known=", ".join(OUTPUTS[kinds[ref_stage]]))
            wanted.append(ref_stage)
        for need in wanted:
            if need not in kinds:
                raise InvalidInputError("err.pl_unknown_stage", stage=stage.id, ref=need)
        needs[stage.id] = list(dict.fromkeys(wanted))
    return Graph(pipeline, needs, _order(needs))


def _order(needs: dict[str, list[str]]) -> list[str]:
    """The stages in file order, each after what it needs; a cycle is named by the stages on it."""
    done: list[str] = []
    visiting: list[str] = []

    def visit(stage_id: str) -> None:
        if stage_id in done:
            return
        if stage_id in visiting:
            cycle = visiting[visiting.index(stage_id):] + [stage_id]
            raise InvalidInputError("err.pl_cycle", cycle=" -> ".join(cycle))
        visiting.append(stage_id)
        for need in needs[stage_id]:
            visit(need)
        visiting.pop()
        done.append(stage_id)

    for stage_id in needs:
        visit(stage_id)
    return done


def find_file(settings: Settings, name: str) -> Path:
    """A pipeline file by path, or by name under configs/pipelines/ (the workspace's, then the shipped ones)."""
    given = Path(name).expanduser()
    candidates = [given] if given.suffix in SUFFIXES or "/" in name else []
    # A bare name is looked up in the two folders; anything with a separator is a path, held to the allowed roots.
    folders = () if "/" in name or "\\" in name else (settings.pipelines_dir, settings.pipeline_templates_dir)
    for folder in folders:
        candidates += [folder / f"{name}{suffix}" for suffix in SUFFIXES] + [folder / name]
    for path in candidates:
        if path.is_file():
            return contain(settings, path) if path == given else path
    raise NotFoundError("err.pl_file_missing", name=name)


def list_files(settings: Settings) -> list[Path]:
    """Pipeline files: the workspace's first, then the shipped templates not shadowed by one of the same name."""
    seen: dict[str, Path] = {}
    for folder in (settings.pipelines_dir, settings.pipeline_templates_dir):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix in SUFFIXES and path.stem not in seen:
                    seen[path.stem] = path
    return list(seen.values())
