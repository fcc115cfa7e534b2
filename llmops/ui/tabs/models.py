"""Models & loop tab: the model registry, the default chat backend, and 'Start next DPO round'."""

from __future__ import annotations

import gradio as gr

from ...i18n import t
from ...services.container import Services
from ..choices import newest_version, version_ids
from ..components import Picker
from ..i18n import Labels
from ..live import Live, picker_update
from . import models_serve, targets

SOURCES = ("all", "human", "synthetic")
TABLE_HEADERS = ["ui.col.id", "ui.col.kind", "ui.col.location", "ui.col.adapter", "ui.col.parent", "ui.col.job",
                 "ui.col.default"]


def registry_rows(services: Services) -> list[list]:
    """One row per registered version, full ids, the default marked."""
    default = services.models.default()
    return [[e.id, e.kind, e.path or (e.endpoint.base_url if e.endpoint else ""), e.adapter or "",
             e.lineage.get("parent_id") or "", e.lineage.get("job_id") or "", "✓" if default and default.id == e.id
             else ""] for e in services.models.list()]


def _registry_outputs(services: Services, default_now):
    """The table and the default picker (pre-set to the current default)."""
    default = services.models.default()
    ids = version_ids(services)
    return [registry_rows(services), picker_update(ids, default.id if default else default_now)]


def _registry_panel(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> list:
    table = labels.make(gr.Dataframe, "ui.models.table", headers=TABLE_HEADERS, interactive=False, wrap=True)
    with gr.Row():
        default_id = labels.make(Picker, "ui.models.default")
        set_default = labels.make(gr.Button, "ui.models.set_default", scale=0, attr="value")
    with labels.make(gr.Accordion, "ui.models.add", open=False):
        with gr.Row():
            name = labels.make(gr.Textbox, "ui.models.name")
            path = labels.make(gr.Textbox, "ui.models.path")
            add_local = labels.make(gr.Button, "ui.models.add_local", scale=0, attr="value")
        with gr.Row():
            url = labels.make(gr.Textbox, "ui.models.url", placeholder="http://127.0.0.1:8000/v1")
            served = labels.make(gr.Textbox, "ui.models.served")
            # Only keys the operator bound to hosts can be picked; the service re-checks the URL against the binding.
            key_env = labels.make(gr.Dropdown, "ui.models.key_env", [("—", ""), *services.credential_choices()],
                                  info="ui.models.key_env.info", value="")
            add_endpoint = labels.make(gr.Button, "ui.models.add_endpoint", scale=0, attr="value")
    outputs = [table, default_id]

    def do_default(model_id, lang_now):
        services.models.set_default(model_id)
        return _registry_outputs(services, model_id)

    def do_local(model_name, model_path, lang_now):
        services.models.add_base(model_name.strip(), model_path.strip())
        return _registry_outputs(services, None)

    def do_endpoint(model_name, base_url, served_name, env_name, lang_now):
        services.models.add_endpoint(model_name.strip(), base_url.strip(), served_name.strip(),
                                     (env_name or "").strip() or None)
        return _registry_outputs(services, None)

    set_default.click(do_default, [default_id, lang_state], outputs, api_name="models_set_default")
    add_local.click(do_local, [name, path, lang_state], outputs, api_name="models_add_local")
    add_endpoint.click(do_endpoint, [name, url, served, key_env, lang_state], outputs,
                       api_name="models_add_endpoint")
    live.add(outputs, lambda default_now, lang_now: _registry_outputs(services, default_now), topics=("models",),
             inputs=[default_id])
    _load_options_panel(services, labels, lang_state, outputs[0], live)
    return outputs


def _load_options_panel(services: Services, labels: Labels, lang_state: gr.State, table: gr.Dataframe,
                        live: Live) -> None:
    """Per-model opt-ins to running the model's own code and to pickle weights (both off by default)."""
    with labels.make(gr.Accordion, "ui.models.load_opts", open=False), gr.Row():
        opts_id = labels.make(Picker, "ui.models.load_opts_model")
        trust = labels.make(gr.Checkbox, "ui.models.trust_remote_code", info="ui.models.trust_remote_code.info")
        pickle_ok = labels.make(gr.Checkbox, "ui.models.allow_pickle", info="ui.models.allow_pickle.info")
        apply_opts = labels.make(gr.Button, "ui.models.apply_load_opts", scale=0, attr="value")

    def do_load_opts(model_id, trust_on, pickle_on, lang_now):
        services.models.set_load_options(model_id, bool(trust_on), bool(pickle_on))
        return registry_rows(services)

    apply_opts.click(do_load_opts, [opts_id, trust, pickle_ok, lang_state], table, api_name="models_set_load_options")
    live.picker(opts_id, lambda lang_now: version_ids(services), topics=("models",))


def _round_status(services: Services, job_id: str | None, lang: str) -> str:
    """Where the launched round stands; its completion is applied by the reconciler, not by this page."""
    if not job_id:
        return ""
    job = services.jobs.get(job_id)
    entry = next((e for e in services.models.list() if e.lineage.get("job_id") == job_id), None)
    if entry is not None:
        return t("ui.loop.done", lang, version=entry.id, parent=entry.lineage.get("parent_id") or "-")
    return t("ui.loop.running", lang, job=job_id, status=job.status.value)


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the registry and the loop panel; a finished round becomes the A/B pair through the reconciler."""
    _registry_panel(services, labels, lang_state, live)
    models_serve.build(services, labels, lang_state, live)
    targets.build(services, labels, lang_state, live)
    labels.make(gr.Markdown, "ui.loop.title", attr="value")
    with gr.Row():
        base = labels.make(Picker, "ui.loop.base")
        only_current = labels.make(gr.Checkbox, "ui.loop.only_current")
        source = labels.make(gr.Radio, "ui.lb.source", choices=[(f"ui.source.{s}", s) for s in SOURCES],
                             value="human")
    with gr.Row():
        prepare = labels.make(gr.Button, "ui.loop.prepare", attr="value")
        launch = labels.make(gr.Button, "ui.loop.launch", variant="primary", attr="value")
    status = gr.Markdown()
    yaml_box = labels.make(gr.Code, "ui.loop.yaml", language="yaml", interactive=False)
    round_state, job_state = gr.State(None), gr.State(None)
    job_box = gr.Textbox(visible=False)  # the queued job's id, for scripted callers

    def do_prepare(base_id, only, src, lang_now):
        round_ = services.loop.prepare(base_id, only_current=bool(only), source=None if src == "all" else src)
        rendered = services.training.render(round_.config)
        text = t("ui.loop.prepared", lang_now, pairs=round_.pairs, dataset=round_.dataset, base=round_.base.id)
        return round_, rendered.yaml_text, text

    def do_launch(round_, lang_now):
        if round_ is None:
            raise gr.Error(t("ui.loop.prepare_first", lang_now))
        _, job = services.loop.launch(round_)
        return job.id, t("ui.loop.launched", lang_now, job=job.id), job.id

    prepare.click(do_prepare, [base, only_current, source, lang_state], [round_state, yaml_box, status],
                  api_name="loop_prepare")
    launch.click(do_launch, [round_state, lang_state], [job_state, status, job_box], api_name="loop_launch")

    def poll(job_id, lang_now):
        return _round_status(services, job_id, lang_now)

    # Reads only: the round is registered by the reconciler whether or not this page is open.
    gr.Button(visible=False).click(poll, [job_state, lang_state], [status], api_name="loop_poll", queue=False)
    live.add([status], lambda job_id, lang_now: [_round_status(services, job_id, lang_now) or gr.skip()],
             topics=("jobs", "models"), inputs=[job_state])
    live.picker(base, lambda lang_now: version_ids(services), topics=("models",),
                default=lambda ids: newest_version(services), follow=lambda: newest_version(services))
