"""Training tab: one form per stage (CPT, SFT, DPO, KTO, RM, PPO), YAML preview, command, save, launch, planner,
jobs panel."""

from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

from ...errors import InvalidInputError, LLMOpsError
from ...i18n import t
from ...i18n.options import option_keys
from ...schemas.stages import SECTIONS, STAGES, FieldSpec, fields_by_name
from ...schemas.targets import LOCAL
from ...schemas.training import TrainConfig
from ...services.container import Services
from ...services.planning import plan_config
from ...services.training import Target
from ..choices import base_model_choices
from ..components import ChoiceOrTyped, Picker
from ..i18n import Labels
from ..live import Live
from ..widgets import jobs_panel
from . import targets, training_api, training_grpo

# Where the printed commands will run; not training settings, so they never reach the YAML.
TARGET_FIELDS = (("nproc_per_node", "int"), ("nnodes", "int"), ("master_addr", "text"), ("master_port", "int"))
TARGET_DEFAULTS = {"nproc_per_node": 0, "nnodes": 2, "master_addr": "", "master_port": 29500}


def form_fields(stage: str) -> tuple[FieldSpec, ...]:
    """Every config field of a stage form, in positional-API order (the target-machine fields follow these)."""
    return STAGES[stage].form_fields


def overrides_from(names: list[str], values: tuple) -> dict:
    """Form values -> TrainConfig overrides (blank or 0 where 'not set' is meant)."""
    result, specs = {}, fields_by_name()
    for name, value in zip(names, values, strict=True):
        spec = specs[name]
        if isinstance(value, str):
            value = value.strip()
        if spec.kind == "choice" and spec.optional:
            value = None if value in (None, "none") else _typed_choice(spec, value)
        elif spec.optional and not value:
            value = None
        elif isinstance(value, float) and value.is_integer() and spec.kind != "float":
            value = int(value)
        result[name] = value
    return result


def _typed_choice(spec: FieldSpec, value):
    """A dropdown's string back as the Literal's own value (8, not '8')."""
    return next((choice for choice in spec.choices if str(choice) == str(value)), value)


def form_values(config: TrainConfig, stage: str) -> list:
    """A config back as the stage form's values, in form_fields order (the inverse of overrides_from)."""
    values = []
    for spec in form_fields(stage):
        value = config.effective_lora_alpha if spec.name == "lora_alpha" else getattr(config, spec.name)
        if spec.kind == "choice" and spec.optional:
            value = "none" if value is None else str(value)
        elif value is None:
            value = "" if spec.kind in ("text", "source") else 0
        values.append(value)
    return values


def target_from(values: tuple) -> Target:
    """The target-machine fields -> the command target (0 GPUs: use what this machine has)."""
    gpus, nodes, addr, port = values
    return Target(int(gpus or 0), int(nodes or 1), (addr or "").strip(), int(port or 29500))


def saved_config_choices(services: Services) -> list[str]:
    """Saved configs under configs/llmops/, newest first (for the load dropdown)."""
    return services.training.saved_configs()


def preview_table(services: Services, datasets: list[str] | None, rows: int = 5) -> tuple[list[list], list[str], int]:
    """The first rows of the first chosen dataset as (rows, headers, total rows); long cells are cut."""
    if not datasets:
        return [], [], 0
    page = services.datasets.preview(datasets[0], page=1, page_size=rows)
    cells = [[_cell(row.get(column)) for column in page.columns] for row in page.rows]
    return cells, list(page.columns), page.total


def _initial_preview(services: Services, datasets: list[str]):
    try:
        cells, headers, _ = preview_table(services, datasets)
    except LLMOpsError:
        return None  # the form still opens; choosing a dataset shows why it cannot be read
    return {"data": cells, "headers": headers} if cells else None


def _cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 300 else text[:300] + "…"


def plan_markdown(plan, lang: str) -> str:
    """The planner's answer as a small table."""
    est = plan.estimate
    rows = [(t("ui.planner.weights", lang), est.weights), (t("ui.planner.states", lang), est.trainable_states),
            (t("ui.planner.acts", lang), est.activations), (t("ui.planner.overhead", lang), est.overhead),
            (t("ui.planner.total", lang), est.total)]
    table = "\n".join(f"| {name} | {value:.1f} GB |" for name, value in rows)
    verdict = t("ui.planner.fits" if plan.fits else "ui.planner.nofit", lang)
    advice = t("ui.planner.advice", lang, zero=plan.recommended_deepspeed, batch=plan.recommended_batch_size,
               accum=plan.recommended_accumulation)
    return f"| | |\n|---|---|\n{table}\n\n{verdict}\n\n{advice}"


def _planner_split(stage: str) -> int:
    """How many form fields precede the planner's inputs in the positional plan API (the open and advanced ones)."""
    return sum(1 for spec in form_fields(stage) if spec.section in ("basic", "advanced"))


def _field(spec: FieldSpec, stage: str, sources: dict, default, labels: Labels):
    key = f"ui.field.{spec.name}"
    keyed = option_keys(spec.name, [str(c) for c in spec.choices]) if spec.kind in ("radio", "choice") else None
    cls, args, kwargs = _component(spec, sources.get(spec.source, ()), default)
    # A field hidden on a stage keeps its place so the positional API stays the same on every stage.
    return labels.make(cls, key, *args, info=f"{key}.info", choices=keyed, visible=spec.visible(stage), **kwargs)


def _component(spec: FieldSpec, sources, default) -> tuple[type, tuple, dict]:
    """The component class, positional and keyword arguments of one field (its label and choices keys aside)."""
    kind = spec.kind
    if kind == "radio":
        return gr.Radio, (), {"value": default}
    if kind == "choice":
        value = "none" if spec.optional and default is None else default
        return gr.Dropdown, (), {"value": str(value)}
    if kind == "source":
        # Workspace data, not interface strings: passed as they are, never translated.
        return ChoiceOrTyped, ([("", ""), *sources],), {"value": default or "", "allow_custom_value": True}
    if kind == "bool":
        return gr.Checkbox, (), {"value": bool(default)}
    if kind == "text":
        return gr.Textbox, (), {"value": default or ""}
    return gr.Number, (), {"value": default if default is not None else 0, "precision": 0 if kind == "int" else None}


class _StageHandlers:
    """The stage form's event handlers: form values in, typed config to the service, text out."""

    def __init__(self, services: Services, stage: str, names: list[str]):
        self.services, self.stage, self.names = services, stage, names

    def _config(self, model_value, template_value, dataset_values, values):
        return self.services.training.build(self.stage, model_value, dataset_values or [],
                                            template=template_value or None, **overrides_from(self.names, values))

    def with_config(self, action):
        """Wrap `action(config, target, lang)` as a handler of the form's positional values."""
        def handler(model_value, template_value, dataset_values, *rest):
            *values, lang = rest
            count = len(self.names)
            target = target_from(tuple(values[count:]))
            return action(self._config(model_value, template_value, dataset_values, values[:count]), target, lang)
        return handler

    def preview(self, config, target, lang):
        rendered = self.services.training.render(config)
        return rendered.yaml_text, gr.update(), t("ui.status.preview", lang, path=rendered.output_dir)

    def save(self, config, target, lang):
        saved = self.services.training.save(config, target)
        text = saved.commands.as_text(str(self.services.settings.home))
        status = t("ui.status.reused" if saved.reused else "ui.status.saved", lang, path=saved.rel_path)
        return saved.path.read_text(encoding="utf-8"), text, status

    def launch_on(self, *values):
        """The launch button: the form's values, then the picked target, then the language."""
        *rest, where, lang = values
        return self.with_config(lambda config, box, lang_now: self.launch(config, box, lang_now, where))(*rest, lang)

    def launch(self, config, target, lang, where=None):
        saved, job = self.services.targets.launch_config(self.services.training, config, target, where or LOCAL)
        text = saved.commands.as_text(str(self.services.settings.home))
        return (saved.path.read_text(encoding="utf-8"), text,
                t("ui.status.launched", lang, job=job.id, path=saved.rel_path), job.id)

    def plan(self, model_value, template_value, dataset_values, *rest):
        # Planner inputs sit between the first form fields and the later ones (positional API stays stable).
        *values, lang = rest
        first = _planner_split(self.stage)
        count, memory, size = values[first:first + 3]
        fields = values[:first] + values[first + 3:first + 3 + len(self.names) - first]
        config = self._config(model_value, template_value, dataset_values, fields)
        return plan_markdown(plan_config(config, int(count or 1), float(memory or 80), float(size or 0)), lang)

    def load(self, path, lang):
        config = self.services.training.load_config(path)
        if config.stage != self.stage:
            raise InvalidInputError("err.train.config_other_stage", path=path, stage=config.stage)
        return (config.model, config.template, config.datasets, *form_values(config, self.stage),
                t("ui.status.loaded", lang, path=path))

    def sources(self):
        training = self.services.training
        return (gr.update(choices=saved_config_choices(self.services)),
                gr.update(choices=[("", ""), *training.continue_sources()]),
                gr.update(choices=[("", ""), *training.resume_sources()]))

    def dataset_preview(self, dataset_values, lang):
        try:
            cells, headers, total = preview_table(self.services, dataset_values)
        except LLMOpsError as exc:
            return gr.update(value=None), exc.message(lang)
        shown = t("ui.status.preview_rows", lang, name=dataset_values[0], shown=len(cells), total=total) if cells else ""
        return gr.update(value=cells, headers=headers or None), shown


def _planner_column(labels: Labels) -> tuple[list, gr.Button, gr.Markdown]:
    labels.make(gr.Markdown, "ui.planner.title", attr="value")
    gpus = labels.make(gr.Number, "ui.planner.gpus", value=1, precision=0)
    gpu_mem = labels.make(gr.Number, "ui.planner.mem", value=80)
    params_b = labels.make(gr.Number, "ui.planner.params", info="ui.planner.params.info", value=0)
    button = labels.make(gr.Button, "ui.planner.run", attr="value")
    return [gpus, gpu_mem, params_b], button, gr.Markdown()


def _fields_row(fields: tuple[FieldSpec, ...], stage, sources, defaults, labels, comps):
    # A field marked new_row (each memory-saving optimizer) starts its own row, so its keys sit together.
    starts = [i for i, spec in enumerate(fields) if i == 0 or spec.new_row]
    for begin, end in zip(starts, [*starts[1:], len(fields)], strict=True):
        with gr.Row():
            for spec in fields[begin:end]:
                comps[spec.name] = _field(spec, stage, sources, defaults.get(spec.name), labels)


def _target_row(defaults, labels, comps):
    with gr.Row():
        for name, kind in TARGET_FIELDS:
            key = f"ui.field.{name}"
            extra = {} if kind == "text" else {"precision": 0}
            comps[name] = labels.make(gr.Textbox if kind == "text" else gr.Number, key, info=f"{key}.info",
                                      value=defaults[name], **extra)


def _saved_panel(labels: Labels, services: Services):
    with labels.make(gr.Accordion, "ui.section.saved", open=False), gr.Row():
        saved = labels.make(Picker, "ui.field.saved_config", saved_config_choices(services), scale=3)
        load = labels.make(gr.Button, "ui.btn.load_config", scale=1, attr="value")
        refresh = labels.make(gr.Button, "ui.btn.refresh_sources", scale=1, attr="value")
    return saved, load, refresh


def _stage_live(live: Live, services: Services, stage: str, datasets, saved, comps: dict) -> None:
    """The stage form's pickers follow the workspace: datasets, saved configs, adapters and checkpoints."""
    live.picker(datasets, lambda lang: services.training.datasets_for_stage(stage), topics=("datasets",),
                default=lambda names: names[:1])
    live.picker(saved, lambda lang: saved_config_choices(services), topics=("configs",))
    boxes = {spec.source: comps[spec.name] for spec in form_fields(stage) if spec.kind == "source"}
    offered = _source_lists(services)

    def sources(*rest):
        # These also take a typed path, so only the offered choices change; what was typed stays.
        return [gr.update(choices=[("", ""), *offered[source]()]) for source in boxes]

    live.add(list(boxes.values()), sources, topics=("jobs", "models"), inputs=list(boxes.values()))


def _source_lists(services: Services) -> dict:
    """What each kind of source field offers: adapters to continue, checkpoints to resume, PPO's reward models."""
    training = services.training
    return {"continue": training.continue_sources, "resume": training.resume_sources,
            "reward": training.reward_sources}


def _votes_export(stage: str, labels: Labels):
    """The KTO form's button that turns A/B votes into tagged examples (None on other stages)."""
    return labels.make(gr.Button, "ui.btn.kto_export", size="sm", attr="value") if stage == "kto" else None


def _wire_votes_export(button, services: Services, stage: str, datasets, status, lang_state) -> None:
    if button is None:
        return

    def export(lang):
        name, path, count = services.loop.export(shape="kto")
        return (gr.update(choices=services.training.datasets_for_stage(stage), value=[name]),
                t("ui.status.kto_exported", lang, count=count, pairs=count // 2, path=path, name=name))

    button.click(export, [lang_state], [datasets, status], api_name=f"{stage}_export_votes")


def _config_fields(stage: str, specs, sources: dict, defaults: dict, labels: Labels) -> dict:
    """Every config field of the stage, section by section as the spec orders them, then the target box."""
    _lang, comps = labels.lang, {}
    for section, title_key in SECTIONS.items():
        fields = tuple(spec for spec in specs if spec.section == section)
        if not fields:
            continue  # e.g. the stage-parameter section on a stage that has none
        if title_key is None:
            _fields_row(fields, stage, sources, defaults, labels, comps)
            continue
        with labels.make(gr.Accordion, title_key, open=False):
            _fields_row(fields, stage, sources, defaults, labels, comps)
    with labels.make(gr.Accordion, "ui.section.target_box", open=False):
        _target_row(defaults, labels, comps)
    return comps


def _stage_form(stage: str, services: Services, labels: Labels, model, template, lang_state, launched,
                live: Live):
    defaults = {**services.training.form_defaults(stage), **TARGET_DEFAULTS}
    specs = form_fields(stage)
    sources = {name: offer() for name, offer in _source_lists(services).items()}
    with gr.Row():
        with gr.Column(scale=3):
            saved, load, refresh = _saved_panel(labels, services)
            available = services.training.datasets_for_stage(stage)
            datasets = labels.make(Picker, "ui.field.datasets", available, value=available[:1], multiselect=True)
            votes_export = _votes_export(stage, labels)
            with labels.make(gr.Accordion, "ui.field.dataset_preview", open=False):
                preview_status = gr.Markdown()
                # Its headers are the dataset's own columns: data, shown as they are.
                preview = gr.Dataframe(_initial_preview(services, available[:1]), interactive=False, wrap=True,
                                       max_height=300, elem_classes=["data-grid"])
            comps = _config_fields(stage, specs, sources, defaults, labels)
            with gr.Row():
                buttons = {key: labels.make(gr.Button, f"ui.btn.{key}", variant=variant, attr="value")
                           for key, variant in (("preview", "secondary"), ("command", "secondary"),
                                                ("save", "secondary"), ("launch", "primary"))}
                run_on = targets.run_on_picker(services, labels, live)
            status = gr.Markdown()
            command = labels.make(gr.Textbox, "ui.field.command", lines=7, show_copy_button=True, interactive=False)
            yaml_box = gr.Code(language="yaml", label="YAML", interactive=False)
        with gr.Column(scale=2):
            planner_inputs, plan_btn, plan_out = _planner_column(labels)

    names = [spec.name for spec in specs]
    h = _StageHandlers(services, stage, names)
    config_comps = [comps[name] for name in names]
    target_comps = [comps[name] for name, _ in TARGET_FIELDS]
    inputs = [model, template, datasets, *config_comps, *target_comps, lang_state]
    outputs = [yaml_box, command, status]
    buttons["preview"].click(h.with_config(h.preview), inputs, outputs, api_name=f"{stage}_preview")
    buttons["save"].click(h.with_config(h.save), inputs, outputs, api_name=f"{stage}_save")
    # Saving is content-addressed, so repeated clicks name the same file instead of writing new ones.
    buttons["command"].click(h.with_config(h.save), inputs, outputs, api_name=f"{stage}_command").then(
        None, [command], None, js="(c) => { if (navigator.clipboard && c) navigator.clipboard.writeText(c); }")
    buttons["launch"].click(h.launch_on, [*inputs[:-1], run_on, lang_state], [*outputs, launched],
                            api_name=f"{stage}_launch")
    split = _planner_split(stage)
    plan_inputs = [model, template, datasets, *config_comps[:split], *planner_inputs, *config_comps[split:], lang_state]
    plan_btn.click(h.plan, plan_inputs, plan_out, api_name=f"{stage}_plan")
    load.click(h.load, [saved, lang_state], [model, template, datasets, *config_comps, status],
               api_name=f"{stage}_load_config")
    refresh.click(h.sources, None, [saved, comps["adapter_name_or_path"], comps["resume_from_checkpoint"]],
                  api_name=f"{stage}_sources", queue=False)
    datasets.change(h.dataset_preview, [datasets, lang_state], [preview, preview_status],
                    api_name=f"{stage}_dataset_preview", queue=False)
    _stage_live(live, services, stage, datasets, saved, comps)
    _wire_votes_export(votes_export, services, stage, datasets, status, lang_state)


@dataclass
class TrainingTab:
    """Components other tabs may wire to."""

    model: gr.Dropdown
    template: gr.Dropdown
    device: gr.Markdown
    panel: jobs_panel.JobsPanel


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> TrainingTab:
    """The whole tab; call inside a gr.Tab."""
    lang = labels.lang
    with gr.Row():
        model = labels.make(ChoiceOrTyped, "ui.field.model", base_model_choices(services, lang),
                            info="ui.field.model.info", value="demo", allow_custom_value=True, scale=3)
        template = labels.make(Picker, "ui.field.template", services.training.templates(), value="chatml", scale=1)
        device = gr.Markdown()
    launched = gr.Textbox(visible=False)
    with gr.Tabs():
        for stage, spec in STAGES.items():
            with labels.make(gr.Tab, spec.title_key, id=f"stage-{stage}"):
                _stage_form(stage, services, labels, model, template, lang_state, launched, live)
        with labels.make(gr.Tab, "ui.grpo.tab", id="stage-grpo"):
            training_grpo.build(services, labels, model, lang_state, launched, live)
    panel = jobs_panel.build(services, labels, lang_state)
    training_api.build(services)

    def show_launched(job_id, current_lang):
        return jobs_panel.refresh(services, job_id or None, current_lang)

    def guess_template(value):
        return gr.update(value=services.training.guess_template(value))

    launched.change(show_launched, [launched, lang_state], panel.outputs, api_name="show_launched_job", queue=False)
    model.input(guess_template, [model], [template], api_name="guess_template", queue=False)
    live.add([model], lambda lang_now: [gr.update(choices=base_model_choices(services, lang_now))], topics=("models",))
    return TrainingTab(model, template, device, panel)
