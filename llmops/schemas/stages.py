"""The stage registry and each field's form metadata, read from TrainConfig so forms, YAML and API share one source."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Literal

import annotated_types
from pydantic import BaseModel

from .training import FORM_KEY, Stage, TrainConfig

# Form sections in drawing order, with their accordion titles ('basic' is the open first row).
SECTIONS: dict[str, str | None] = {
    "basic": None, "advanced": "ui.section.advanced", "continue": "ui.section.continue",
    "optim": "ui.section.optim", "speed": "ui.section.speed", "memory_optim": "ui.section.memory_optim",
    "eval": "ui.section.eval", "stage": "ui.section.stage", "distributed": "ui.section.distributed",
}
# Not drawn as form fields: 'top' sits above the stage tabs, 'api' is set through the CLI and the named API.
OFF_FORM = ("top", "api")
# LLaMA-Factory YAML sections, in the order of its example configs.
LF_SECTIONS = ("model", "method", "dataset", "output", "train", "eval")
KINDS = ("int", "float", "text", "choice", "radio", "bool", "source")
# Fields the request names outside `config` (the stage is the endpoint's or the request's own key).
TOP_FIELDS = ("stage", "model", "template", "datasets")


@dataclass(frozen=True)
class FieldSpec:
    """One TrainConfig field as a form and the YAML see it."""

    name: str
    kind: str
    section: str
    lf_section: str | None
    choices: tuple | None = None
    stages: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    source: str | None = None
    new_row: bool = False
    optional: bool = False
    bounds: tuple[tuple[str, float], ...] = ()

    @property
    def on_form(self) -> bool:
        return self.section not in OFF_FORM

    def applies(self, stage: str) -> bool:
        """True when the field means something for `stage` (it may be set there)."""
        return stage in self.stages

    def visible(self, stage: str) -> bool:
        return stage in self.shown


@dataclass(frozen=True)
class StageSpec:
    """One training stage: its LLaMA-Factory name, the dataset kinds it reads and where its defaults live."""

    name: str
    lf_stage: str
    dataset_kinds: tuple[str, ...]
    defaults_file: str
    title_key: str

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        """Every field that applies to this stage, in form order."""
        return tuple(spec for spec in ordered_fields() if spec.applies(self.name))

    @property
    def form_fields(self) -> tuple[FieldSpec, ...]:
        """The fields its form draws, in the order of the positional API."""
        return tuple(spec for spec in self.fields if spec.on_form)

    @property
    def config_keys(self) -> tuple[str, ...]:
        """Keys the named API accepts under `config` for this stage."""
        return tuple(spec.name for spec in self.fields if spec.name not in TOP_FIELDS)


STAGES: dict[str, StageSpec] = {
    "pt": StageSpec("pt", "pt", ("pt",), "pt.yaml", "ui.stage.pt"),
    "sft": StageSpec("sft", "sft", ("sft",), "sft.yaml", "ui.stage.sft"),
    # A reward model learns to score chosen above rejected; PPO samples answers to instruction prompts.
    "rm": StageSpec("rm", "rm", ("preference",), "rm.yaml", "ui.stage.rm"),
    "ppo": StageSpec("ppo", "ppo", ("sft",), "ppo.yaml", "ui.stage.ppo"),
    "dpo": StageSpec("dpo", "dpo", ("preference",), "dpo.yaml", "ui.stage.dpo"),
    # KTO reads single answers tagged desirable (kto_tag true) or undesirable (false).
    "kto": StageSpec("kto", "kto", ("kto",), "kto.yaml", "ui.stage.kto"),
}
STAGE_NAMES: tuple[str, ...] = tuple(STAGES)


def _unwrap(annotation) -> tuple[object, bool]:
    """(the annotation without None, whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return (args[0] if len(args) == 1 else annotation), len(args) < len(typing.get_args(annotation))
    return annotation, False


def _kind(base, declared: str | None) -> tuple[str, tuple | None]:
    if typing.get_origin(base) is Literal:
        return declared or "choice", typing.get_args(base)
    if declared:
        return declared, None
    return {bool: "bool", int: "int", float: "float", str: "text"}.get(base, "text"), None


def _bounds(metadata: list) -> tuple[tuple[str, float], ...]:
    found = []
    for item in metadata:
        for name in ("gt", "ge", "lt", "le"):
            if isinstance(item, getattr(annotated_types, name.capitalize())):
                found.append((name, getattr(item, name)))
    return tuple(found)


def field_spec(name: str, model: type[BaseModel] = TrainConfig) -> FieldSpec:
    """The spec of one config field; KeyError when the field carries no form metadata."""
    field = model.model_fields[name]
    meta = (field.json_schema_extra or {})[FORM_KEY]
    base, optional = _unwrap(field.annotation)
    kind, choices = _kind(base, meta.get("kind"))
    if choices is not None and optional:
        choices = ("none", *choices)  # 'none' on the form is None in the config
    stages = tuple(meta.get("stages") or STAGE_NAMES)
    return FieldSpec(name, kind, meta["section"], meta.get("lf"), choices, stages, tuple(meta.get("shown") or stages),
                     meta.get("source"), bool(meta.get("row")), optional, _bounds(field.metadata))


@cache
def ordered_fields() -> tuple[FieldSpec, ...]:
    """Every field, grouped by section in drawing order; declaration order within a section."""
    specs = [field_spec(name) for name in TrainConfig.model_fields]
    rank = {section: index for index, section in enumerate((*OFF_FORM[:1], *SECTIONS, *OFF_FORM[1:]))}
    return tuple(sorted(specs, key=lambda spec: rank[spec.section]))


def fields_by_name() -> dict[str, FieldSpec]:
    return {spec.name: spec for spec in ordered_fields()}


def choices(name: str) -> tuple:
    """The values a choice field offers (from its Literal)."""
    return fields_by_name()[name].choices or ()


@cache
def lf_section_keys() -> dict[str, tuple[str, ...]]:
    """TrainConfig fields written under each LLaMA-Factory YAML section, in declaration order."""
    return {section: tuple(name for name, field in TrainConfig.model_fields.items()
                           if field_spec(name).lf_section == section) for section in LF_SECTIONS}


def stage_literal() -> tuple[str, ...]:
    """The stages TrainConfig accepts (the registry must match it)."""
    return typing.get_args(Stage)
