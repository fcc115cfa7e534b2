"""The Targets section (Models tab): this machine, Ray and Slurm clusters and SSH boxes, a health check each, add and
remove;
and the "run on" picker every launch form shows."""

from __future__ import annotations

import gradio as gr

from ...errors import InvalidInputError
from ...i18n import t
from ...schemas.targets import LOCAL
from ...services.container import Services
from ..components import Picker
from ..i18n import Labels
from ..live import Live

TABLE_HEADERS = ["ui.tg.col.name", "ui.tg.col.type", "ui.tg.col.address"]


def target_names(services: Services) -> list[str]:
    """Every target's name, this machine first."""
    return [target.name for target in services.targets.list()]


def rows(services: Services) -> list[list]:
    """One row per target: name, type and where it is reached."""
    out = []
    for target in services.targets.list():
        address = (getattr(target, "user_host", "") or getattr(target, "address", "")
                   or getattr(target, "partition", "") or "")
        if getattr(target, "port", 22) != 22:
            address = f"{address}:{target.port}"
        out.append([target.name, target.type, address])
    return out


def run_on_picker(services: Services, labels: Labels, live: Live, **kwargs) -> gr.Dropdown:
    """The launch row's target picker; it follows configs/targets.json while the page is open."""
    picker = labels.make(Picker, "ui.field.run_on", target_names(services), info="ui.field.run_on.info",
                         value=LOCAL, **kwargs)
    live.picker(picker, lambda lang: target_names(services), topics=("targets",), default=lambda names: LOCAL)
    return picker


def _health_line(services: Services, name: str | None, lang: str) -> str:
    if not name:
        raise InvalidInputError("err.target.pick_one")
    health = services.targets.check(name, lang)
    return t("ui.tg.ok" if health.ok else "ui.tg.failed", lang, name=health.name, type=health.type,
             detail=health.detail)


def _slurm_form(labels: Labels) -> tuple[list, gr.Button]:
    with labels.make(gr.Accordion, "ui.tg.add_slurm", open=False), gr.Row():
        fields = [labels.make(gr.Textbox, "ui.tg.name"),
                  labels.make(gr.Textbox, "ui.tg.partition"),
                  labels.make(gr.Number, "ui.tg.nodes", value=1, precision=0),
                  labels.make(gr.Number, "ui.tg.gpus", value=1, precision=0),
                  labels.make(gr.Textbox, "ui.tg.time", value="04:00:00")]
        button = labels.make(gr.Button, "ui.tg.add", attr="value")
    return fields, button


def _ssh_form(labels: Labels) -> tuple[list, gr.Button]:
    with labels.make(gr.Accordion, "ui.tg.add_ssh", open=False):
        with gr.Row():
            fields = [labels.make(gr.Textbox, "ui.tg.name"),
                      labels.make(gr.Textbox, "ui.tg.user_host"),
                      labels.make(gr.Textbox, "ui.tg.key"),
                      labels.make(gr.Number, "ui.tg.port", value=22, precision=0)]
        with gr.Row():
            fields += [labels.make(gr.Textbox, "ui.tg.remote_dir", value="llmops-runs"),
                       labels.make(gr.Textbox, "ui.tg.lf_cli", value="llamafactory-cli"),
                       labels.make(gr.Textbox, "ui.tg.python", value="python3"),
                       labels.make(gr.Textbox, "ui.tg.vllm", value="vllm")]
            button = labels.make(gr.Button, "ui.tg.add", attr="value")
    return fields, button


def _ray_form(labels: Labels) -> tuple[list, gr.Button]:
    with labels.make(gr.Accordion, "ui.tg.add_ray", open=False):
        with gr.Row():
            fields = [labels.make(gr.Textbox, "ui.tg.name"),
                      labels.make(gr.Textbox, "ui.tg.ray_address", placeholder="ray://head:10001"),
                      labels.make(gr.Number, "ui.tg.dashboard_port", value=8265, precision=0)]
        with gr.Row():
            fields += [labels.make(gr.Textbox, "ui.tg.shared_path"),
                       labels.make(gr.Textbox, "ui.tg.lf_cli", value="llamafactory-cli"),
                       labels.make(gr.Textbox, "ui.tg.python", value="python")]
            button = labels.make(gr.Button, "ui.tg.add", attr="value")
    return fields, button


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live) -> None:
    """Draw the Targets section and wire list, check, add and remove."""
    with labels.make(gr.Accordion, "ui.tg.title", open=False):
        labels.make(gr.Markdown, "ui.tg.intro", attr="value")
        table = labels.make(gr.Dataframe, "ui.tg.table", headers=TABLE_HEADERS, value=rows(services),
                            interactive=False, wrap=True)
        with gr.Row():
            picked = labels.make(Picker, "ui.tg.pick", target_names(services), value=LOCAL, scale=3)
            check = labels.make(gr.Button, "ui.tg.check", scale=1, attr="value")
            check_all = labels.make(gr.Button, "ui.tg.check_all", scale=1, attr="value")
            remove = labels.make(gr.Button, "ui.tg.remove", variant="stop", scale=1, attr="value")
        status = gr.Markdown()
        slurm_fields, add_slurm = _slurm_form(labels)
        ssh_fields, add_ssh = _ssh_form(labels)
        ray_fields, add_ray = _ray_form(labels)

    def do_check(name, lang):
        return _health_line(services, name, lang)

    def do_check_all(lang):
        return "\n".join(f"- {_health_line(services, name, lang)}" for name in target_names(services))

    def do_add_slurm(name, partition, nodes, gpus, time_limit, lang):
        added = services.targets.add({"type": "slurm", "name": (name or "").strip(), "partition": partition or "",
                                      "nodes": int(nodes or 1), "gpus_per_node": int(gpus or 0),
                                      "time": (time_limit or "").strip()})
        return t("targets.added", lang, name=added.name, type=added.type), rows(services)

    def do_add_ssh(name, user_host, key, port, remote_dir, lf_cli, python, vllm, lang):
        added = services.targets.add({"type": "ssh", "name": (name or "").strip(), "user_host": (user_host or "").strip(),
                                      "key_file": (key or "").strip(), "port": int(port or 22),
                                      "remote_dir": remote_dir or "", "lf_cli": lf_cli or "", "python": python or "",
                                      "vllm": vllm or ""})
        return t("targets.added", lang, name=added.name, type=added.type), rows(services)

    def do_add_ray(name, address, dashboard_port, shared_path, lf_cli, python, lang):
        added = services.targets.add({"type": "ray", "name": (name or "").strip(), "address": (address or "").strip(),
                                      "dashboard_port": int(dashboard_port or 8265),
                                      "shared_path": (shared_path or "").strip(), "lf_cli": lf_cli or "",
                                      "python": python or ""})
        return t("targets.added", lang, name=added.name, type=added.type), rows(services)

    def do_remove(name, lang):
        if not name:
            raise InvalidInputError("err.target.pick_one")
        services.targets.remove(name)
        return t("targets.removed", lang, name=name), rows(services)

    check.click(do_check, [picked, lang_state], [status], api_name="targets_check")
    check_all.click(do_check_all, [lang_state], [status], api_name="targets_check_all")
    remove.click(do_remove, [picked, lang_state], [status, table], api_name="targets_remove")
    add_slurm.click(do_add_slurm, [*slurm_fields, lang_state], [status, table], api_name="targets_add_slurm")
    add_ssh.click(do_add_ssh, [*ssh_fields, lang_state], [status, table], api_name="targets_add_ssh")
    add_ray.click(do_add_ray, [*ray_fields, lang_state], [status, table], api_name="targets_add_ray")
    gr.Button(visible=False).click(lambda: rows(services), None, [table], api_name="targets_list", queue=False)
    live.add([table], lambda lang: [rows(services)], topics=("targets",))
    live.picker(picked, lambda lang: target_names(services), topics=("targets",), default=lambda names: LOCAL)
