"""Training tab: CPT / SFT / DPO forms, YAML preview, command, save, launch, planner, jobs panel."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ...errors import LLMOpsError
from ...i18n import t
from ...lf import templates
from ...schemas.training import DEEPSPEED_MODES, FINETUNING_TYPES, PREF_LOSSES, PRECISIONS, REPORT_TO
from ...services.container import Services
from ...services.planning import plan_config
from ..i18n import Labels, user_error
from ..widgets import jobs_panel

HUB_PRESETS = ("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen3-8B",
               "meta-llama/Llama-3.1-8B-Instruct", "THUDM/glm-4-9b-chat")
STAGE_TITLES = (("pt", "ui.stage.pt"), ("sft", "ui.stage.sft"), ("dpo", "ui.stage.dpo"))
# (field, kind, choices); kinds: int, float, text, choice.
FORM_FIELDS = (
    ("finetuning_type", "radio", FINETUNING_TYPES), ("quantization_bit", "choice", ("none", "8", "4")),
    ("learning_rate", "float", None), ("num_train_epochs", "float", None), ("max_steps", "int", None),
    ("per_device_train_batch_size", "int", None), ("gradient_accumulation_steps", "int", None),
    ("cutoff_len", "int", None), ("lora_rank", "int", None), ("lora_alpha", "int", None),
    ("lora_dropout", "float", None), ("lora_target", "text", None), ("freeze_trainable_layers", "int", None),
    ("val_size", "float", None), ("eval_steps", "int", None), ("save_steps", "int", None),
    ("logging_steps", "int", None), ("precision", "choice", PRECISIONS), ("deepspeed", "choice", DEEPSPEED_MODES),
    ("report_to", "choice", REPORT_TO), ("run_name", "text", None),
)
DPO_FIELDS = (("pref_beta", "float", None), ("pref_loss", "choice", PREF_LOSSES))


def model_choices(services: Services) -> list[tuple[str, str]]:
    """The demo model first, then local model folders, then common hub ids."""
    choices = [(t("ui.model.demo", services.settings.lang), "demo")]
    models_dir = services.settings.models_dir
    if models_dir.exists():
        choices += [(p.name, str(p)) for p in sorted(models_dir.iterdir()) if (p / "config.json").exists()]
    return choices + [(hub, hub) for hub in HUB_PRESETS]


def overrides_from(names: list[str], values: tuple) -> dict:
    """Form values -> TrainConfig overrides (blank or 0 where 'not set' is meant)."""
    result = {}
    for name, value in zip(names, values, strict=True):
        if name == "quantization_bit":
            value = None if value in (None, "none") else int(value)
        elif name in ("max_steps", "lora_alpha") and not value:
            value = None
        elif name == "run_name":
            value = (value or "").strip() or None
        elif isinstance(value, float) and value.is_integer() and name not in ("learning_rate", "lora_dropout",
                                                                               "val_size", "num_train_epochs",
                                                                               "pref_beta"):
            value = int(value)
        result[name] = value
    return result


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


def _field(name: str, kind: str, choices, default, lang: str, labels: Labels):
    key = f"ui.field.{name}"
    label = t(key, lang)
    if kind == "radio":
        comp = gr.Radio(list(choices), value=default, label=label)
    elif kind == "choice":
        value = "none" if name == "quantization_bit" and default is None else default
        comp = gr.Dropdown([str(c) for c in choices], value=str(value), label=label)
    elif kind == "text":
        comp = gr.Textbox(value=default or "", label=label)
    else:
        comp = gr.Number(value=default if default is not None else 0, label=label,
                         precision=0 if kind == "int" else None)
    return labels(comp, key, f"{key}.info")


class _StageHandlers:
    """The stage form's event handlers: form values in, typed config to the service, text out."""

    def __init__(self, services: Services, stage: str, names: list[str]):
        self.services, self.stage, self.names = services, stage, names

    def _config(self, model_value, template_value, dataset_values, values, lang):
        try:
            return self.services.training.build(self.stage, model_value, dataset_values or [],
                                                template=template_value or None, **overrides_from(self.names, values))
        except LLMOpsError as exc:
            raise user_error(exc, lang) from exc

    def guarded(self, action):
        """Wrap `action(config, lang)` so every user error becomes a message in the user's language."""
        def handler(model_value, template_value, dataset_values, *rest):
            *values, lang = rest
            config = self._config(model_value, template_value, dataset_values, values, lang)
            try:
                return action(config, lang)
            except LLMOpsError as exc:
                raise user_error(exc, lang) from exc
        return handler

    def preview(self, config, lang):
        rendered = self.services.training.render(config)
        return rendered.yaml_text, gr.update(), t("ui.status.preview", lang, path=rendered.output_dir)

    def save(self, config, lang):
        saved = self.services.training.save(config)
        text = saved.commands.as_text(str(self.services.settings.home))
        return saved.path.read_text(encoding="utf-8"), text, t("ui.status.saved", lang, path=saved.rel_path)

    def launch(self, config, lang):
        saved, job = self.services.training.launch_config(config)
        text = saved.commands.as_text(str(self.services.settings.home))
        return (saved.path.read_text(encoding="utf-8"), text,
                t("ui.status.launched", lang, job=job.id, path=saved.rel_path), job.id)

    def plan(self, model_value, template_value, dataset_values, *rest):
        *values, count, memory, size, lang = rest
        config = self._config(model_value, template_value, dataset_values, values, lang)
        try:
            result = plan_config(config, int(count or 1), float(memory or 80), float(size or 0))
        except LLMOpsError as exc:
            raise user_error(exc, lang) from exc
        return plan_markdown(result, lang)


def _planner_column(labels: Labels) -> tuple[list, gr.Button, gr.Markdown]:
    lang = labels.lang
    labels(gr.Markdown(t("ui.planner.title", lang)), "ui.planner.title", attr="value")
    gpus = labels(gr.Number(value=1, precision=0, label=t("ui.planner.gpus", lang)), "ui.planner.gpus")
    gpu_mem = labels(gr.Number(value=80, label=t("ui.planner.mem", lang)), "ui.planner.mem")
    params_b = labels(gr.Number(value=0, label=t("ui.planner.params", lang)), "ui.planner.params",
                      "ui.planner.params.info")
    button = labels(gr.Button(t("ui.planner.run", lang)), "ui.planner.run", attr="value")
    return [gpus, gpu_mem, params_b], button, gr.Markdown()


def _stage_form(stage: str, services: Services, labels: Labels, model, template, lang_state, launched):
    lang = labels.lang
    defaults = services.training.form_defaults(stage)
    fields = FORM_FIELDS + (DPO_FIELDS if stage == "dpo" else ())
    with gr.Row():
        with gr.Column(scale=3):
            available = services.training.datasets_for_stage(stage)
            datasets = labels(gr.Dropdown(available, value=available[:1], multiselect=True, allow_custom_value=True,
                                          label=t("ui.field.datasets", lang)), "ui.field.datasets")
            comps = {}
            with gr.Row():
                for name, kind, choices in fields[:8]:
                    comps[name] = _field(name, kind, choices, defaults.get(name), lang, labels)
            with gr.Accordion(t("ui.section.advanced", lang), open=False):
                with gr.Row():
                    for name, kind, choices in fields[8:]:
                        comps[name] = _field(name, kind, choices, defaults.get(name), lang, labels)
            with gr.Row():
                buttons = {key: labels(gr.Button(t(f"ui.btn.{key}", lang), variant=variant), f"ui.btn.{key}",
                                       attr="value")
                           for key, variant in (("preview", "secondary"), ("command", "secondary"),
                                                ("save", "secondary"), ("launch", "primary"))}
            status = gr.Markdown()
            command = labels(gr.Textbox(label=t("ui.field.command", lang), lines=7, show_copy_button=True,
                                        interactive=False), "ui.field.command")
            yaml_box = gr.Code(language="yaml", label="YAML", interactive=False)
        with gr.Column(scale=2):
            planner_inputs, plan_btn, plan_out = _planner_column(labels)

    h = _StageHandlers(services, stage, list(comps))
    inputs = [model, template, datasets, *comps.values(), lang_state]
    outputs = [yaml_box, command, status]
    buttons["preview"].click(h.guarded(h.preview), inputs, outputs, api_name=f"{stage}_preview")
    buttons["save"].click(h.guarded(h.save), inputs, outputs, api_name=f"{stage}_save")
    buttons["command"].click(h.guarded(h.save), inputs, outputs, api_name=f"{stage}_command").then(
        None, [command], None, js="(c) => { if (navigator.clipboard && c) navigator.clipboard.writeText(c); }")
    buttons["launch"].click(h.guarded(h.launch), inputs, [*outputs, launched], api_name=f"{stage}_launch")
    plan_btn.click(h.plan, [model, template, datasets, *comps.values(), *planner_inputs, lang_state], plan_out,
                   api_name=f"{stage}_plan")


@dataclass
class TrainingTab:
    """Components other tabs may wire to."""

    model: gr.Dropdown
    template: gr.Dropdown
    device: gr.Markdown
    panel: jobs_panel.JobsPanel


def build(services: Services, labels: Labels, lang_state: gr.State) -> TrainingTab:
    """The whole tab; call inside a gr.Tab."""
    lang = labels.lang
    with gr.Row():
        model = labels(gr.Dropdown(model_choices(services), value="demo", allow_custom_value=True, scale=3,
                                   label=t("ui.field.model", lang)), "ui.field.model", "ui.field.model.info")
        template = labels(gr.Dropdown(list(templates.available()), value="chatml", allow_custom_value=True, scale=1,
                                      label=t("ui.field.template", lang)), "ui.field.template")
        device = gr.Markdown()
    launched = gr.Textbox(visible=False)
    with gr.Tabs():
        for stage, title_key in STAGE_TITLES:
            with labels(gr.Tab(t(title_key, lang), id=f"stage-{stage}"), title_key):
                _stage_form(stage, services, labels, model, template, lang_state, launched)
    panel = jobs_panel.build(services, labels, lang_state)

    def show_launched(job_id, current_lang):
        return jobs_panel.refresh(services, job_id or None, current_lang)

    def guess_template(value):
        return gr.update(value="chatml" if value == "demo" else templates.guess(value or ""))

    launched.change(show_launched, [launched, lang_state], panel.outputs, api_name="show_launched_job", queue=False)
    model.input(guess_template, [model], [template], api_name="guess_template", queue=False)
    return TrainingTab(model, template, device, panel)
