"""The mergekit stage: the same plan the surgery tab and `surgery merge` run (surgery/merge.py plan_merge), checked
before anything runs even while its inputs are still to be made by earlier stages."""

from __future__ import annotations

from pathlib import Path

from ...settings import Settings
from ..surgery.merge import MergeInput, MergePlan, check_counts, check_params, plan_merge
from ..surgery.methods import MergeMethodInfo, get_method
from ..surgery.outputs import RECIPE_FILE, plan_output
from .refs import has_placeholder

JOB_KIND = "mergekit"


def model_pairs(params: dict) -> list[tuple[str, dict]]:
    """(model, its parameters) for every listed model; a model given as plain text has none of its own."""
    return [(item, {}) if isinstance(item, str) else (item["model"], dict(item.get("parameters") or {}))
            for item in params["models"]]


def default_name(params: dict) -> str:
    return params.get("name") or f"merge-{params['method'].strip()}"


def plan(settings: Settings, params: dict) -> MergePlan:
    """The merge as it will run: every input resolved, mergekit's own validation of the recipe, disk room."""
    return plan_merge(settings, params["method"], model_pairs(params), base=params.get("base"),
                      params=params.get("parameters") or {}, dtype=params.get("dtype"), name=default_name(params),
                      tokenizer_source=params.get("tokenizer_source"), seed=params.get("seed", 0))


def check_waiting(settings: Settings, params: dict) -> MergeMethodInfo:
    """What can be checked while inputs are still placeholders: the method, the number of inputs and the base rule,
    every parameter's name, type and range (weights too), and that the output name is free."""
    info = get_method(params["method"])
    pairs = model_pairs(params)
    base = params.get("base")
    check_counts(info, len(pairs) + bool(base), len(pairs), base is not None)
    if not has_placeholder([params.get("parameters") or {}, [values for _, values in pairs]]):
        labelled = [(MergeInput(label=ref, path=Path(ref)), values) for ref, values in pairs]
        check_params(info, dict(params.get("parameters") or {}), labelled)
    plan_output(settings, default_name(params))
    return info


def preview(settings: Settings, params: dict) -> dict:
    """The mergekit recipe, its command and the output folder; inputs made by earlier stages show as placeholders."""
    if not has_placeholder(params):
        made = plan(settings, params)
        return {"recipe": made.recipe, "command": made.command, "path": str(made.output.final),
                "disk_bytes": made.disk_bytes}
    info = check_waiting(settings, params)
    recipe: dict = {"merge_method": info.name}
    if params.get("base"):
        recipe["base_model"] = params["base"]
    recipe["models"] = [{"model": ref, **({"parameters": values} if values else {})}
                        for ref, values in model_pairs(params)]
    for key, value in (("parameters", params.get("parameters")), ("dtype", params.get("dtype")),
                       ("tokenizer_source", params.get("tokenizer_source"))):
        if value:
            recipe[key] = value
    return {"recipe": recipe, "path": str(settings.models_dir / default_name(params))}


def job_params(made: MergePlan, tag: str) -> dict:
    """The merge job's parameters; its lineage also names the pipeline stage that ran it."""
    return {**made.job_params(), "lineage": {**made.lineage(), "pipeline": tag}}


def recipe_path(made: MergePlan) -> str:
    """Where the committed merge keeps its recipe (recipe.yaml beside the weights)."""
    return str(made.output.final / RECIPE_FILE)
