"""Surgery > Merge: a mergekit merge whose form is drawn from the chosen method's own metadata."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from ...i18n import render, t
from ...services.container import Services
from ...services.surgery import merge as merging
from ...services.surgery import methods as registry
from ...services.surgery.workbench import SurgeryWorkbench
from ..choices import version_ids
from ..components import ChoiceOrTyped, Picker
from ..i18n import Labels
from ..live import Live
from . import targets

SHARED_HEADERS = ["ui.sg.col.param", "ui.sg.col.value", "ui.sg.col.default", "ui.sg.col.type", "ui.sg.col.help"]
SHORT_DTYPES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
DEFAULT_METHOD = "linear"


def method_choices() -> list[tuple[str, str]]:
    """mergekit's own methods, in its order (a code registry, so its choices exist at build)."""
    return [(f"{m.name} ({m.pretty_name})", m.name) for m in registry.methods()]


def _text(value) -> str:
    return "" if value is None else str(value)


def method_help(name: str | None, lang: str) -> str:
    """The method's help, its base rule and its input counts, from the registry."""
    if not name:
        return ""
    info = registry.get_method(name).describe(lang)
    low, high = info["min_inputs"], info["max_inputs"]
    count = (t("ui.sg.count.exactly", lang, n=low) if low == high else
             t("ui.sg.count.range", lang, low=max(low, merging.MIN_MODELS), high=high or merging.MAX_MODELS))
    lines = [f"**{info['pretty_name']}** — {info['help']}", t("ui.sg.rule", lang, base=info["base_text"], count=count)]
    per_model = [p["name"] for p in info["params"] if p["scope"] != "shared"]
    if per_model:
        lines.append(t("ui.sg.per_model_params", lang, names=", ".join(per_model)))
        lines += [f"- `{p['name']}` ({p['scope_text']}): {p['help']}" for p in info["params"] if p["scope"] != "shared"]
    if info["reference_url"]:
        lines.append(info["reference_url"])
    return "\n\n".join(lines)


def shared_rows(name: str | None, lang: str, current: list | None = None) -> list[list]:
    """One row per shared parameter: name, value (kept from `current` when the name is still there), default, type,
    help (the range appended)."""
    if not name:
        return []
    kept = {str(row[0]): row[1] for row in (current or []) if row and _text(row[1]).strip()}
    rows = []
    for p in registry.get_method(name).describe(lang)["params"]:
        if p["scope"] != "shared":
            continue
        default = t("ui.sg.required", lang) if p["required"] else _text(p["default"])
        help_text = p["help"] + (f" [{p['range'][0]}, {p['range'][1]}]" if p["range"] else "")
        rows.append([p["name"], _text(kept.get(p["name"])), default, p["type"], help_text])
    return rows


def model_headers(name: str | None, lang: str) -> list[str]:
    """The per-model table's columns: the model, then each parameter (mergekit's own name) set per model."""
    params = registry.get_method(name).model_params if name else ()
    return [t("ui.sg.col.model", lang), *(p.name for p in params)]


def model_frame(name: str | None, models: list | None, base: str | None, lang: str, old_headers: list | None = None,
                old_rows: list | None = None) -> pd.DataFrame:
    """One row per chosen model (the base excluded: it takes no per-model values), earlier values kept."""
    headers = model_headers(name, lang)
    old = {str(row[0]): dict(zip(old_headers or [], row)) for row in (old_rows or []) if row}
    rows = [[model, *(_text(old.get(model, {}).get(column, "")) for column in headers[1:])]
            for model in (models or []) if model and model != base]
    return pd.DataFrame(rows, columns=headers)


def _frame_rows(frame) -> tuple[list[str], list[list]]:
    """(headers, rows) of a Dataframe value as a handler receives it (pandas, or a dict from a scripted client)."""
    if frame is None:
        return [], []
    if isinstance(frame, pd.DataFrame):
        return [str(c) for c in frame.columns], frame.astype(object).where(frame.notna(), "").values.tolist()
    if isinstance(frame, dict):
        return list(frame.get("headers") or []), list(frame.get("data") or [])
    return [], list(frame)


def plan_values(method, models, base, shared, per_model, dtype, tokenizer_source, seed, name) -> dict:
    """plan_merge's arguments from the form: empty cells are left to mergekit's defaults."""
    _, shared_rows_in = _frame_rows(shared)
    params = {str(row[0]): _text(row[1]).strip() for row in shared_rows_in if row and _text(row[1]).strip()}
    headers, rows = _frame_rows(per_model)
    chosen = []
    for row in rows:
        if not row or not _text(row[0]).strip():
            continue
        values = {h: _text(v).strip() for h, v in zip(headers[1:], row[1:]) if _text(v).strip()}
        chosen.append((_text(row[0]).strip(), values))
    listed = {ref for ref, _ in chosen}
    chosen += [(m, {}) for m in (models or []) if m and m != base and m not in listed]
    return {"method": method or "", "models": chosen, "base": base or None, "params": params,
            "dtype": dtype or None, "tokenizer_source": (tokenizer_source or "").strip() or None,
            "seed": int(seed or 0), "name": (name or "").strip() or None}


def _plan(services: Services, values: dict) -> merging.MergePlan:
    return merging.plan_merge(services.settings, values["method"], values["models"], base=values["base"],
                              params=values["params"], dtype=values["dtype"], name=values["name"],
                              tokenizer_source=values["tokenizer_source"], seed=values["seed"])


def _shown(plan: merging.MergePlan, lang: str) -> tuple[str, str]:
    """The notes and output line, and the command as it would be typed."""
    notes = [render(note, lang) for note in plan.notes]
    lines = [*notes, t("ui.sg.output", lang, path=str(plan.output.final), size=f"{plan.disk_bytes / 1024**2:.1f}")]
    return "\n\n".join(lines), " ".join(plan.command)


def build(services: Services, bench: SurgeryWorkbench, labels: Labels, lang_state: gr.State, live: Live) -> list:
    """Draw the merge form and wire method, models, check and merge; returns the version pickers it registers."""
    with gr.Row():
        # mergekit's registry imports torch: it is read by the first tick after the page loaded, not at build and
        # not in the load itself, so the first page after a start is not held up for it.
        method = labels.make(Picker, "ui.sg.method", scale=1)
        models = labels.make(Picker, "ui.sg.models", multiselect=True, scale=2, info="ui.sg.models.info")
        base = labels.make(Picker, "ui.sg.base", scale=1, visible=False)
    live.picker(method, lambda lang_now: method_choices(), topics=("configs",), default=lambda _: DEFAULT_METHOD,
                deferred=True)
    live.picker(models, lambda lang_now: version_ids(services), topics=("models",))
    live.picker(base, lambda lang_now: [("—", ""), *version_ids(services)], topics=("models",))
    help_box = gr.Markdown()
    shared = labels.make(gr.Dataframe, "ui.sg.shared", headers=SHARED_HEADERS, datatype="str", interactive=True,
                         static_columns=[0, 2, 3, 4], wrap=True, col_count=(len(SHARED_HEADERS), "fixed"))
    # No static columns here: Gradio 5.50's frontend hangs drawing an empty table with one (the page never loads).
    per_model = labels.make(gr.Dataframe, "ui.sg.per_model", datatype="str", interactive=True, wrap=True,
                            value=model_frame(None, [], None, labels.lang))
    with gr.Row():
        dtype = labels.make(gr.Dropdown, "ui.sg.dtype", [("—", ""), *[(SHORT_DTYPES[d], d) for d in merging.DTYPES]],
                            value="")
        tokenizer = labels.make(ChoiceOrTyped, "ui.sg.tokenizer", ["", "base", "union"], value="",
                                allow_custom_value=True, info="ui.sg.tokenizer.info")
        seed = labels.make(gr.Number, "ui.sg.seed", value=0, precision=0, minimum=0)
        name = labels.make(gr.Textbox, "ui.sg.name", info="ui.sg.name.info")
    with gr.Row():
        check = labels.make(gr.Button, "ui.sg.check", attr="value")
        start = labels.make(gr.Button, "ui.sg.merge", attr="value", variant="primary")
        run_on = targets.run_on_picker(services, labels, live)
    status = gr.Markdown()
    recipe = labels.make(gr.Code, "ui.sg.recipe", language="yaml", interactive=False)
    command = labels.make(gr.Code, "ui.sg.command", language="shell", interactive=False)
    job_box = gr.Textbox(visible=False)  # the merge job's id, for scripted callers
    form = [method, models, base, shared, per_model, dtype, tokenizer, seed, name]

    def on_method(chosen, picked, base_now, shared_now, table, lang_now):
        if not chosen:
            return ["", [], model_frame(None, [], None, lang_now), gr.update(visible=False)]
        info = registry.get_method(chosen)
        _, old = _frame_rows(shared_now)
        headers, rows = _frame_rows(table)
        return [method_help(chosen, lang_now), shared_rows(chosen, lang_now, old),
                model_frame(chosen, picked, base_now if info.takes_base else None, lang_now, headers, rows),
                gr.update(visible=info.takes_base, **({} if info.takes_base else {"value": ""}))]

    def on_models(chosen, picked, base_now, table, lang_now):
        headers, rows = _frame_rows(table)
        info = registry.get_method(chosen) if chosen else None
        return model_frame(chosen, picked, base_now if info and info.takes_base else None, lang_now, headers, rows)

    def do_check(*args):
        *values, lang_now = args
        plan = _plan(services, plan_values(*values))
        notes, line = _shown(plan, lang_now)
        return [t("ui.sg.checked", lang_now, method=plan.method, count=len(plan.inputs), notes=notes), plan.yaml, line]

    def do_merge(*args):
        *values, where, lang_now = args
        plan = _plan(services, plan_values(*values))
        job = bench.start_merge(plan, target=where)
        notes, line = _shown(plan, lang_now)
        return [t("ui.sg.started", lang_now, job=job.id, name=plan.name, notes=notes), plan.yaml, line, job.id]

    method.change(on_method, [method, models, base, shared, per_model, lang_state], [help_box, shared, per_model, base],
                  api_name="surgery_method", queue=False)
    for trigger in (models, base):
        trigger.change(on_models, [method, models, base, per_model, lang_state], [per_model],
                       api_name=f"surgery_{'models' if trigger is models else 'base'}", queue=False)
    check.click(do_check, [*form, lang_state], [status, recipe, command], api_name="surgery_merge_check")
    start.click(do_merge, [*form, run_on, lang_state], [status, recipe, command, job_box], api_name="surgery_merge")
    return [models, base]
