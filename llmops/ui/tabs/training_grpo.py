"""The GRPO form of the Training tab: drawn from GrpoConfig's fields and the reward registry's descriptions."""

from __future__ import annotations

import typing

import gradio as gr

from ...i18n import t
from ...i18n.options import option_keys
from ...schemas.grpo import SECTIONS, GrpoConfig, form_fields
from ...schemas.grpo_rewards import describe
from ...services.container import Services
from ..components import Picker
from ..i18n import Labels
from ..live import Live
from . import targets

# Drawn apart: the model is the tab's own picker, the dataset a picker of GRPO datasets, rewards one row each.
APART = ("model", "dataset", "rewards")


def field_names() -> list[str]:
    """The config fields of the form, in positional-API order (after model and dataset, before the rewards)."""
    return [name for name, _ in form_fields() if name not in APART]


def reward_inputs() -> list[tuple[str, str, str]]:
    """(reward, input, kind) of every reward input in positional-API order: use, weight, then its parameters."""
    rows = []
    for spec in describe():
        rows += [(spec["name"], "use", "bool"), (spec["name"], "weight", "float")]
        rows += [(spec["name"], param["name"], param["kind"]) for param in spec["params"]]
    return rows


def values_to_config(names: list[str], values: list, rewards: list) -> dict:
    """Form values -> GrpoConfig overrides; ints where the field is an int, a reward list from the reward rows."""
    overrides = {}
    for name, value in zip(names, values, strict=True):
        annotation = GrpoConfig.model_fields[name].annotation
        overrides[name] = int(value) if annotation is int and value is not None else value
    chosen: dict[str, dict] = {}
    for (reward, key, kind), value in zip(reward_inputs(), rewards, strict=True):
        if key == "use":
            if value:
                chosen[reward] = {"name": reward, "params": {}}
        elif reward in chosen:
            target = chosen[reward] if key == "weight" else chosen[reward]["params"]
            target[key] = int(value) if kind == "int" else value
    overrides["rewards"] = list(chosen.values())
    return overrides


def _component(name: str, default, labels: Labels):
    annotation = GrpoConfig.model_fields[name].annotation
    key = f"ui.grpo.field.{name}"
    if typing.get_origin(annotation) is typing.Literal:
        choices = option_keys(name, [str(value) for value in typing.get_args(annotation)])
        return labels.make(gr.Radio, key, choices=choices, value=default, info=f"{key}.info")
    if annotation in (int, float):
        return labels.make(gr.Number, key, value=default, precision=0 if annotation is int else None,
                           info=f"{key}.info")
    return labels.make(gr.Textbox, key, value=default or "", info=f"{key}.info")


def _reward_rows(defaults: dict, labels: Labels) -> list:
    chosen = {r["name"]: r for r in defaults.get("rewards") or []}
    comps = []
    for spec in describe():
        picked = chosen.get(spec["name"])
        with gr.Row():
            comps.append(labels.make(gr.Checkbox, spec["title_key"], value=picked is not None,
                                     info=spec["help_key"]))
            comps.append(labels.make(gr.Number, "ui.grpo.reward_weight", value=(picked or {}).get("weight", 1.0)))
            for param in spec["params"]:
                value = (picked or {}).get("params", {}).get(param["name"], param["default"])
                cls = gr.Textbox if param["kind"] == "text" else gr.Number
                comps.append(labels.make(cls, f"ui.grpo.param.{param['name']}", value=value))
    return comps


def _fields(defaults: dict, labels: Labels, services: Services):
    """Every field, section by section; returns (field components, reward components, dataset picker)."""
    comps, sections = {}, dict(form_fields())
    available = services.grpo.datasets()
    dataset = labels.make(Picker, "ui.grpo.field.dataset", available, value=(available or [None])[0])
    rewards: list = []
    for section in SECTIONS:
        names = [name for name in field_names() if sections[name] == section]
        with (gr.Group() if section == "basic" else
              labels.make(gr.Accordion, f"ui.grpo.section.{section}", open=section == "rewards")):
            if section == "rewards":
                rewards = _reward_rows(defaults, labels)
            with gr.Row():
                for name in names:
                    comps[name] = _component(name, defaults.get(name), labels)
    return [comps[name] for name in field_names()], rewards, dataset


def build(services: Services, labels: Labels, model, lang_state, launched, live: Live) -> None:
    """The GRPO form; call inside its gr.Tab."""
    labels.make(gr.Markdown, "ui.grpo.intro", attr="value")
    fields, rewards, dataset = _fields(services.grpo.defaults(), labels, services)
    with gr.Row():
        preview = labels.make(gr.Button, "ui.btn.preview", variant="secondary", attr="value")
        save = labels.make(gr.Button, "ui.btn.save", variant="secondary", attr="value")
        launch = labels.make(gr.Button, "ui.btn.launch", variant="primary", attr="value")
        run_on = targets.run_on_picker(services, labels, live)
    status = gr.Markdown()
    command = labels.make(gr.Textbox, "ui.field.command", lines=3, show_copy_button=True, interactive=False)
    yaml_box = gr.Code(language="yaml", label="YAML", interactive=False)
    names, count = field_names(), len(fields)

    def config_of(model_value, dataset_value, values):
        overrides = values_to_config(names, list(values[:count]), list(values[count:]))
        return services.grpo.build(model_value, dataset_value or "", **overrides)

    def on_preview(model_value, dataset_value, *rest):
        *values, lang = rest
        rendered = services.grpo.render(config_of(model_value, dataset_value, values))
        return rendered.yaml_text, gr.update(), t("ui.status.preview", lang, path=rendered.output_dir)

    def on_save(model_value, dataset_value, *rest):
        *values, lang = rest
        saved = services.grpo.save(config_of(model_value, dataset_value, values))
        return saved.path.read_text(encoding="utf-8"), saved.command, t("ui.status.saved", lang, path=saved.rel_path)

    def on_launch(model_value, dataset_value, *rest):
        *values, where, lang = rest
        saved, job = services.grpo.launch_config(config_of(model_value, dataset_value, values), target=where)
        return (saved.path.read_text(encoding="utf-8"), saved.command,
                t("ui.status.launched", lang, job=job.id, path=saved.rel_path), job.id)

    inputs = [model, dataset, *fields, *rewards, lang_state]
    outputs = [yaml_box, command, status]
    preview.click(on_preview, inputs, outputs, api_name="grpo_preview")
    save.click(on_save, inputs, outputs, api_name="grpo_save")
    # The target comes last, so calls made before it existed still name the same inputs.
    launch.click(on_launch, [*inputs[:-1], run_on, lang_state], [*outputs, launched], api_name="grpo_launch")
    live.picker(dataset, lambda lang: services.grpo.datasets(), topics=("datasets",),
                default=lambda choices: choices[0] if choices else None)
