"""The Models tab's Serve section: a version as an OpenAI-compatible server (LLaMA-Factory api or vLLM), its exact
command, start and stop; the endpoint it registers is offered by every picker while it runs."""

from __future__ import annotations

import gradio as gr

from ...i18n import t
from ...services.container import Services
from ...services.serving import ENGINES, ServeOptions, parse_options
from ...services.serving.plan import VLLM_DTYPES
from ..components import Picker
from ..i18n import Labels
from ..live import Live
from . import targets

TABLE_HEADERS = ["ui.col.serve_job", "ui.col.serve_status", "ui.col.serve_version", "ui.col.serve_engine",
                 "ui.col.serve_url", "ui.col.serve_endpoints"]


def _options(engine, port, adapters, tp, gpu_mem, max_len, dtype) -> ServeOptions:
    """The form's values as typed options; the vLLM fields only when vLLM is the engine."""
    values: dict = {"engine": engine or "llamafactory", "port": int(port) if port else None}
    if values["engine"] == "vllm":
        values.update(adapters=[part.strip() for part in (adapters or "").split(",") if part.strip()],
                      tensor_parallel_size=int(tp) if tp else None, gpu_memory_utilization=gpu_mem or None,
                      max_model_len=int(max_len) if max_len else None, dtype=dtype or None)
    return parse_options(values)


def _rows(services: Services) -> list[list]:
    return [[row.job_id, f"{row.status} ({row.stage})" if row.stage else row.status, row.version_id, row.engine,
             row.base_url, ", ".join(row.endpoints)] for row in services.serving.list()]


def _servable(services: Services) -> list[str]:
    return [entry.id for entry in services.models.list() if entry.kind != "endpoint"]


def _running(services: Services) -> list[str]:
    return [row.job_id for row in services.serving.list() if row.status in ("PENDING", "RUNNING")]


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the Serve section."""
    with labels.make(gr.Accordion, "ui.serve.title", open=False):
        with gr.Row():
            version = labels.make(Picker, "ui.serve.version")
            engine = labels.make(gr.Radio, "ui.serve.engine", list(ENGINES), value="llamafactory")
            port = labels.make(gr.Number, "ui.serve.port", value=None, precision=0)
        with gr.Row():
            adapters = labels.make(gr.Textbox, "ui.serve.adapters")
            tp = labels.make(gr.Number, "ui.serve.tp", value=None, precision=0)
            gpu_mem = labels.make(gr.Number, "ui.serve.gpu_mem", value=None, minimum=0.05, maximum=1.0)
            max_len = labels.make(gr.Number, "ui.serve.max_len", value=None, precision=0)
            dtype = labels.make(gr.Dropdown, "ui.serve.dtype", ["", *VLLM_DTYPES], value="")
        with gr.Row():
            preview = labels.make(gr.Button, "ui.serve.preview", attr="value")
            start = labels.make(gr.Button, "ui.serve.start", variant="primary", attr="value")
            run_on = targets.run_on_picker(services, labels, live)
        command = labels.make(gr.Code, "ui.serve.command", language="shell", interactive=False)
        status = gr.Markdown()
        table = labels.make(gr.Dataframe, "ui.serve.table", headers=TABLE_HEADERS, interactive=False, wrap=True)
        with gr.Row():
            job = labels.make(Picker, "ui.serve.job")
            stop = labels.make(gr.Button, "ui.serve.stop", variant="stop", scale=0, attr="value")
    form = [version, engine, port, adapters, tp, gpu_mem, max_len, dtype]

    def do_preview(version_id, *values):
        return services.serving.plan(version_id, _options(*values[:-1])).command

    def do_start(version_id, *values):
        *fields, where, lang_now = values
        started, made = services.serving.start(version_id, _options(*fields), target=where)
        text = t("cli.serve_ready", lang_now, version=version_id, base_url=started.meta["base_url"], job=started.id,
                 id=", ".join(entry.id for entry in made))
        return started.meta.get("command", ""), text, _rows(services)

    def do_stop(job_id, lang_now):
        stopped = services.serving.stop(job_id)
        removed = ", ".join(stopped.apply_result.get("removed_model_ids", [])) or "-"
        return t("cli.serve_stopped", lang_now, job=stopped.id, status=stopped.status.value, removed=removed), \
            _rows(services)

    preview.click(do_preview, [*form, lang_state], [command], api_name="serve_preview")
    start.click(do_start, [*form, run_on, lang_state], [command, status, table], api_name="serve_start")
    stop.click(do_stop, [job, lang_state], [status, table], api_name="serve_stop")
    live.add([table], lambda lang_now: [_rows(services)], topics=("jobs", "models"))
    live.picker(version, lambda lang_now: _servable(services), topics=("models",))
    live.picker(job, lambda lang_now: _running(services), topics=("jobs",))
