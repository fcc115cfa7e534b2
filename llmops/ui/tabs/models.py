"""Models & loop tab: the model registry, the default chat backend, and 'Start next DPO round'."""

from __future__ import annotations

import gradio as gr

from ...errors import LLMOpsError
from ...i18n import t
from ...lf.render import to_yaml
from ...schemas.jobs import JobStatus
from ...services.container import Services
from ..i18n import Labels, user_error
from .arena import ArenaTab, model_choices

SOURCES = ("all", "human", "synthetic")


def registry_rows(services: Services) -> list[list]:
    """One row per registered version."""
    services.sync_models()
    default = services.models.default()
    return [[e.id, e.kind, e.path or (e.endpoint.base_url if e.endpoint else ""), e.adapter or "",
             e.lineage.get("parent_id") or "", e.lineage.get("job_id") or "", "✓" if default and default.id == e.id
             else ""] for e in services.models.list()]


def _guard(fn):
    def wrapped(*args):
        *rest, lang = args
        try:
            return fn(*rest, lang)
        except LLMOpsError as exc:
            raise user_error(exc, lang) from exc
    return wrapped


def _registry_panel(services: Services, labels: Labels, lang_state: gr.State) -> gr.Dataframe:
    lang = labels.lang
    table = labels(gr.Dataframe(registry_rows(services), interactive=False, label=t("ui.models.table", lang),
                                headers=["id", "kind", "path / url", "adapter", "parent", "job", "default"]),
                   "ui.models.table")
    with gr.Row():
        default_id = labels(gr.Dropdown(model_choices(services)[1:], label=t("ui.models.default", lang),
                                        allow_custom_value=True), "ui.models.default")
        set_default = labels(gr.Button(t("ui.models.set_default", lang), scale=0), "ui.models.set_default",
                             attr="value")
    with gr.Accordion(t("ui.models.add", lang), open=False):
        with gr.Row():
            name = labels(gr.Textbox(label=t("ui.models.name", lang)), "ui.models.name")
            path = labels(gr.Textbox(label=t("ui.models.path", lang)), "ui.models.path")
            add_local = labels(gr.Button(t("ui.models.add_local", lang), scale=0), "ui.models.add_local",
                               attr="value")
        with gr.Row():
            url = labels(gr.Textbox(label=t("ui.models.url", lang), placeholder="http://127.0.0.1:8000/v1"),
                         "ui.models.url")
            served = labels(gr.Textbox(label=t("ui.models.served", lang)), "ui.models.served")
            key_env = labels(gr.Textbox(label=t("ui.models.key_env", lang), placeholder="OPENAI_API_KEY"),
                             "ui.models.key_env", "ui.models.key_env.info")
            add_endpoint = labels(gr.Button(t("ui.models.add_endpoint", lang), scale=0), "ui.models.add_endpoint",
                                  attr="value")

    def do_default(model_id, lang_now):
        services.models.set_default(model_id)
        return registry_rows(services)

    def do_local(model_name, model_path, lang_now):
        services.models.add_base(model_name.strip(), model_path.strip())
        return registry_rows(services)

    def do_endpoint(model_name, base_url, served_name, env_name, lang_now):
        services.models.add_endpoint(model_name.strip(), base_url.strip(), served_name.strip(),
                                     env_name.strip() or None)
        return registry_rows(services)

    set_default.click(_guard(do_default), [default_id, lang_state], table, api_name="models_set_default")
    add_local.click(_guard(do_local), [name, path, lang_state], table, api_name="models_add_local")
    add_endpoint.click(_guard(do_endpoint), [name, url, served, key_env, lang_state], table,
                       api_name="models_add_endpoint")
    _load_options_panel(services, labels, lang_state, table)
    return table


def _load_options_panel(services: Services, labels: Labels, lang_state: gr.State, table: gr.Dataframe) -> None:
    """Per-model opt-ins to running the model's own code and to pickle weights (both off by default)."""
    lang = labels.lang
    with gr.Accordion(t("ui.models.load_opts", lang), open=False), gr.Row():
        opts_id = labels(gr.Dropdown(model_choices(services)[1:], label=t("ui.models.load_opts_model", lang),
                                     allow_custom_value=True), "ui.models.load_opts_model")
        trust = labels(gr.Checkbox(label=t("ui.models.trust_remote_code", lang),
                                   info=t("ui.models.trust_remote_code.info", lang)),
                       "ui.models.trust_remote_code", "ui.models.trust_remote_code.info")
        pickle_ok = labels(gr.Checkbox(label=t("ui.models.allow_pickle", lang),
                                       info=t("ui.models.allow_pickle.info", lang)),
                           "ui.models.allow_pickle", "ui.models.allow_pickle.info")
        apply_opts = labels(gr.Button(t("ui.models.apply_load_opts", lang), scale=0),
                            "ui.models.apply_load_opts", attr="value")

    def do_load_opts(model_id, trust_on, pickle_on, lang_now):
        services.models.set_load_options(model_id, bool(trust_on), bool(pickle_on))
        return registry_rows(services)

    apply_opts.click(_guard(do_load_opts), [opts_id, trust, pickle_ok, lang_state], table,
                     api_name="models_set_load_options")


def build(services: Services, labels: Labels, lang_state: gr.State, arena: ArenaTab) -> None:
    """Draw the registry and the loop panel; a finished round pre-selects new vs previous in the A/B tab."""
    lang = labels.lang
    table = _registry_panel(services, labels, lang_state)
    labels(gr.Markdown(t("ui.loop.title", lang)), "ui.loop.title", attr="value")
    with gr.Row():
        base = labels(gr.Dropdown(model_choices(services)[1:], label=t("ui.loop.base", lang),
                                  allow_custom_value=True), "ui.loop.base")
        only_current = labels(gr.Checkbox(label=t("ui.loop.only_current", lang)), "ui.loop.only_current")
        source = labels(gr.Radio(list(SOURCES), value="all", label=t("ui.lb.source", lang)), "ui.lb.source")
    with gr.Row():
        prepare = labels(gr.Button(t("ui.loop.prepare", lang)), "ui.loop.prepare", attr="value")
        launch = labels(gr.Button(t("ui.loop.launch", lang), variant="primary"), "ui.loop.launch", attr="value")
    status = gr.Markdown()
    yaml_box = gr.Code(language="yaml", label="DPO YAML", interactive=False)
    round_state, job_state = gr.State(None), gr.State(None)

    def do_prepare(base_id, only, src, lang_now):
        round_ = services.loop.prepare(base_id, only_current=bool(only), source=None if src == "all" else src)
        rendered = services.training.render(round_.config)
        text = t("ui.loop.prepared", lang_now, pairs=round_.pairs, dataset=round_.dataset, base=round_.base.id)
        return round_, to_yaml(rendered.args), text

    def do_launch(round_, lang_now):
        if round_ is None:
            raise gr.Error(t("ui.loop.prepare_first", lang_now))
        try:
            _, job = services.loop.launch(round_)
        except LLMOpsError as exc:
            raise user_error(exc, lang_now) from exc
        return job.id, t("ui.loop.launched", lang_now, job=job.id)

    def poll(job_id, lang_now):
        if not job_id:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        job = services.runner.get(job_id)
        if job.status is JobStatus.COMPLETED:
            entry = services.loop.complete(job_id)
            ids = model_choices(services)
            parent = entry.lineage.get("parent_id") or ids[0]
            return (None, t("ui.loop.done", lang_now, version=entry.id, parent=parent), registry_rows(services),
                    gr.update(choices=ids, value=entry.id), gr.update(choices=ids, value=parent))
        text = t("ui.loop.running", lang_now, job=job_id, status=job.status.value)
        if job.status.finished:
            return None, text, gr.update(), gr.update(), gr.update()
        return job_id, text, gr.update(), gr.update(), gr.update()

    prepare.click(_guard(do_prepare), [base, only_current, source, lang_state], [round_state, yaml_box, status],
                  api_name="loop_prepare")
    launch.click(do_launch, [round_state, lang_state], [job_state, status], api_name="loop_launch")
    timer = gr.Timer(3.0)
    timer.tick(poll, [job_state, lang_state], [job_state, status, table, arena.model_a, arena.model_b],
               api_name="loop_poll", show_progress="hidden")
