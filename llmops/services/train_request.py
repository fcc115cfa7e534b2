"""The named training API: one JSON request per preview/save/launch, checked key by key against the stage spec."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

from ..errors import InvalidInputError
from ..lf.command import Target
from ..schemas.stages import STAGES, TOP_FIELDS, ordered_fields
from ..schemas.training import FORM_KEY, TrainConfig

REQUEST_KEYS = (*TOP_FIELDS, "config", "target")
TARGET_KEYS = tuple(field.name for field in dataclasses.fields(Target))


@dataclass(frozen=True)
class TrainRequest:
    """A request's parts after the key checks; values are checked by TrainConfig and Target."""

    stage: str
    model: str
    template: str | None
    datasets: list[str]
    config: dict
    target: Target


def _refuse_unknown(where: str, given: dict, known: tuple[str, ...], stage: str) -> None:
    unknown = sorted(str(key) for key in given if key not in known)
    if unknown:
        raise InvalidInputError("err.train.api_unknown_keys", where=where, stage=stage, keys=", ".join(unknown),
                              known=", ".join(known))


def _object(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError("err.train.api_not_object", where=where)
    return value


def parse_request(payload, stage: str | None = None) -> TrainRequest:
    """Split a request into its parts; unknown keys anywhere are refused by name, with what is accepted."""
    payload = _object(payload, "request")
    stage = stage or payload.get("stage")
    if stage not in STAGES or payload.get("stage", stage) != stage:
        raise InvalidInputError("err.stage_unknown", stage=str(payload.get("stage", stage)))
    _refuse_unknown("request", payload, REQUEST_KEYS, stage)
    config = _object(payload.get("config"), "config")
    _refuse_unknown("config", config, STAGES[stage].config_keys, stage)
    target = _object(payload.get("target"), "target")
    _refuse_unknown("target", target, TARGET_KEYS, stage)
    datasets = payload.get("datasets")
    datasets = [datasets] if isinstance(datasets, str) else list(datasets or [])
    try:
        built = Target(**target)
    except TypeError as exc:
        raise InvalidInputError("err.train.api_not_object", where="target") from exc
    return TrainRequest(stage, str(payload.get("model") or ""), payload.get("template"), datasets, dict(config),
                        built)


def request_schema(stage: str, defaults: dict | None = None) -> dict:
    """The JSON schema of a request for `stage`; `config` lists exactly the stage's fields, with its defaults."""
    full = TrainConfig.model_json_schema()
    spec = STAGES[stage]
    properties = {}
    for name in spec.config_keys:
        prop = copy.deepcopy(full["properties"][name])
        prop.pop(FORM_KEY, None)
        prop.pop("title", None)
        if defaults and name in defaults:
            prop["default"] = defaults[name]
        properties[name] = prop
    top = {name: {k: v for k, v in full["properties"][name].items() if k not in (FORM_KEY, "title")}
           for name in TOP_FIELDS}
    top["stage"] = {"const": stage}
    top["template"] = {**top["template"], "description": "chat template; guessed from the model when left out"}
    target = {"gpus_per_node": {"type": "integer", "minimum": 0, "maximum": 4096, "default": 0},
              "nnodes": {"type": "integer", "minimum": 1, "maximum": 4096, "default": 2},
              "master_addr": {"type": "string", "default": ""},
              "master_port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 29500}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"llmops {stage} training request",
        "type": "object", "additionalProperties": False, "required": ["model", "datasets"],
        "properties": {**top,
                       "config": {"type": "object", "additionalProperties": False, "properties": properties},
                       "target": {"type": "object", "additionalProperties": False, "properties": target}},
        "$defs": full.get("$defs", {}),
    }


def _allowed(spec) -> str:
    if spec.choices:
        return ", ".join(f"`{choice}`" for choice in spec.choices if choice != "none") + (
            " or null" if spec.optional else "")
    bounds = dict(spec.bounds)
    low = next((f"{bounds[k]} {op} " for k, op in (("gt", "<"), ("ge", "≤")) if k in bounds), "")
    high = next((f" {op} {bounds[k]}" for k, op in (("lt", "<"), ("le", "≤")) if k in bounds), "")
    text = f"{low}x{high}" if low or high else ""
    return " ".join(part for part in (text, "or null" if spec.optional else "") if part)


def fields_table() -> str:
    """The request's `config` keys as a Markdown table (the README's copy is checked against it)."""
    types = {"int": "integer", "float": "number", "text": "string", "source": "string (path)", "bool": "boolean",
             "choice": "choice", "radio": "choice"}
    rows = ["| key | type | allowed | stages | form section |", "|---|---|---|---|---|"]
    for spec in ordered_fields():
        if spec.name in TOP_FIELDS:
            continue
        stages = "all" if set(spec.stages) == set(STAGES) else ", ".join(spec.stages)
        rows.append(f"| `{spec.name}` | {types[spec.kind]} | {_allowed(spec)} | {stages} | {spec.section} |")
    return "\n".join(rows)
