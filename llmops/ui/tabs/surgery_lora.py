"""Surgery > LoRA & compression: merge an adapter into its base (LLaMA-Factory export), cast, GPTQ and GGUF."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ...i18n import t
from ...services.container import Services
from ...services.evaluation.checkpoints import SEPARATOR
from ...services.surgery import convert as converting
from ...services.surgery import export as exporting
from ...services.surgery.workbench import SurgeryWorkbench
from ..components import Picker
from ..i18n import Labels
from ..live import Live
from . import targets

EXPORT_DTYPES = ("bf16", "fp16", "fp32")
GPTQ_BITS = (2, 3, 4, 8)


def adapter_refs(services: Services) -> list[str]:
    """Every adapter version, each followed by its saved checkpoints (`id#checkpoint-N`)."""
    refs = []
    for entry in services.models.list():
        if entry.kind != "adapter":
            continue
        refs.append(entry.id)
        folder = Path(entry.adapter or "")
        if folder.is_dir():
            steps = sorted((p for p in folder.glob("checkpoint-*") if p.is_dir() and p.name[11:].isdigit()),
                           key=lambda p: int(p.name[11:]))
            refs += [f"{entry.id}{SEPARATOR}{p.name}" for p in steps]
    return refs


def full_models(services: Services) -> list[str]:
    """Base and merged versions: what a cast or a quantization reads."""
    return [entry.id for entry in services.models.list() if entry.kind in ("base", "merged")]


def _opt(value) -> str | None:
    return (value or "").strip() or None


def _build_merge_lora(services: Services, bench: SurgeryWorkbench, labels: Labels, lang_state: gr.State, live: Live) -> gr.Dropdown:
    with gr.Row():
        source = labels.make(Picker, "ui.sg.lora.source", scale=2, info="ui.sg.lora.source.info")
        dtype = labels.make(gr.Dropdown, "ui.sg.lora.dtype", [("—", ""), *[(d, d) for d in EXPORT_DTYPES]],
                            value="")
        shard = labels.make(gr.Number, "ui.sg.lora.shard", value=2, precision=0, minimum=1, maximum=100)
        name = labels.make(gr.Textbox, "ui.sg.name", info="ui.sg.name.info")
    live.picker(source, lambda lang: adapter_refs(services), topics=("models",))
    with gr.Row():
        check = labels.make(gr.Button, "ui.sg.lora.check", attr="value")
        start = labels.make(gr.Button, "ui.sg.lora.merge", attr="value", variant="primary")
        run_on = targets.run_on_picker(services, labels, live)
    status = gr.Markdown()
    yaml_box = labels.make(gr.Code, "ui.sg.lora.yaml", language="yaml", interactive=False)
    command = labels.make(gr.Code, "ui.sg.command", language="shell", interactive=False)
    form = [source, dtype, shard, name]

    def options(ref, dtype_now, shard_now, name_now) -> tuple[str, dict]:
        return (ref or "").strip(), {"dtype": dtype_now or None, "shard_gb": int(shard_now or 2),
                                     "name": _opt(name_now)}

    def do_check(*args):
        *values, lang = args
        ref, opts = options(*values)
        # The YAML is saved, as the command shows: it runs by hand from the workspace just as it would here.
        saved = exporting.save_export(services.settings, exporting.plan_merge_lora(services.settings, ref, **opts))
        text = t("ui.sg.lora.checked", lang, path=saved.rel_path, out=str(saved.plan.output.final))
        return [text, exporting.render_export(services.settings, saved.plan), saved.command]

    def do_merge(*args):
        *values, where, lang = args
        ref, opts = options(*values)
        saved, job = bench.merge_lora(ref, target=where, **opts)
        text = t("ui.sg.queued", lang, job=job.id, path=str(saved.plan.output.final))
        return [text, exporting.render_export(services.settings, saved.plan), saved.command]

    check.click(do_check, [*form, lang_state], [status, yaml_box, command], api_name="surgery_lora_check")
    # The target comes last, so calls made before it existed still name the same inputs.
    start.click(do_merge, [*form, run_on, lang_state], [status, yaml_box, command], api_name="surgery_lora_merge")
    return source


def _build_compress(services: Services, bench: SurgeryWorkbench, labels: Labels, lang_state: gr.State, live: Live) -> gr.Dropdown:
    with gr.Row():
        source = labels.make(Picker, "ui.sg.cv.source", scale=2)
        name = labels.make(gr.Textbox, "ui.sg.name", info="ui.sg.name.info")
    live.picker(source, lambda lang: full_models(services), topics=("models",))
    with gr.Row():
        dtype = labels.make(gr.Radio, "ui.sg.cv.dtype", [(d, d) for d in EXPORT_DTYPES], value="bf16")
        ppl_set = labels.make(Picker, "ui.sg.cv.ppl", info="ui.sg.cv.ppl.info")
        run_on = targets.run_on_picker(services, labels, live)
        cast = labels.make(gr.Button, "ui.sg.cv.start", attr="value", variant="primary", scale=0)
    live.picker(ppl_set, lambda lang: [("—", ""), *[s.name for s in services.evals.sets.list()]],
                topics=("evals", "datasets"))
    with gr.Row():
        bits = labels.make(gr.Dropdown, "ui.sg.gptq.bits", [(str(b), b) for b in GPTQ_BITS], value=4)
        calib = labels.make(gr.Textbox, "ui.sg.gptq.dataset", info="ui.sg.gptq.dataset.info")
        gptq = labels.make(gr.Button, "ui.sg.gptq.start", attr="value", scale=0)
    with gr.Row():
        outtype = labels.make(gr.Dropdown, "ui.sg.gguf.type", list(converting.GGUF_TYPES), value="f16")
        gguf = labels.make(gr.Button, "ui.sg.gguf.start", attr="value", scale=0)
    status = gr.Markdown()

    def do_cast(ref, dtype_now, ppl, name_now, where, lang):
        params, job = bench.convert((ref or "").strip(), dtype_now, where, name=_opt(name_now), ppl_set=_opt(ppl))
        return t("ui.sg.queued", lang, job=job.id, path=params.final)

    def do_gptq(ref, bits_now, dataset, name_now, lang):
        plan = exporting.plan_gptq(services.settings, (ref or "").strip(), int(bits_now), dataset=_opt(dataset),
                                   name=_opt(name_now))
        saved, job = bench.gptq(plan)  # refused without CUDA
        return t("ui.sg.queued", lang, job=job.id, path=str(plan.output.final)) + f"\n\n`{saved.command}`"

    def do_gguf(ref, outtype_now, name_now, lang):
        job = bench.gguf((ref or "").strip(), outtype_now, name=_opt(name_now))
        return t("ui.sg.queued", lang, job=job.id, path=job.meta.get("path"))

    cast.click(do_cast, [source, dtype, ppl_set, name, run_on, lang_state], [status], api_name="surgery_convert")
    gptq.click(do_gptq, [source, bits, calib, name, lang_state], [status], api_name="surgery_gptq")
    gguf.click(do_gguf, [source, outtype, name, lang_state], [status], api_name="surgery_gguf")
    return source


def build(services: Services, bench: SurgeryWorkbench, labels: Labels, lang_state: gr.State, live: Live) -> list:
    """Draw the merge-lora and compression sections; returns their version pickers."""
    labels.make(gr.Markdown, "ui.sg.lora.title", attr="value")
    lora_source = _build_merge_lora(services, bench, labels, lang_state, live)
    labels.make(gr.Markdown, "ui.sg.cv.title", attr="value")
    return [lora_source, _build_compress(services, bench, labels, lang_state, live)]
