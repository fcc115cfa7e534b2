"""The named training API: /train_preview, /train_save, /train_launch take one JSON request each."""

from __future__ import annotations

import gradio as gr

from ...errors import LLMOpsError
from ...i18n import t
from ...services.container import Services
from ..i18n import user_error


def build(services: Services) -> None:
    """JSON-request endpoints beside the positional ones; `python -m llmops train schema --stage S` prints the schema."""
    training = services.training

    def call(action, request, lang):
        lang = lang or services.settings.lang
        try:
            config, target = training.build_request(request)
            return action(config, target, lang)
        except LLMOpsError as exc:
            raise user_error(exc, lang) from exc

    def saved_reply(saved, lang, status_key, **extra) -> dict:
        return {"yaml": saved.path.read_text(encoding="utf-8"), "config_path": saved.rel_path,
                "output_dir": str(saved.output_dir), "command": saved.commands.as_text(str(services.settings.home)),
                "status": t(status_key, lang, path=saved.rel_path, **extra)}

    def train_preview(request: dict, lang: str = "") -> dict:
        """The YAML a training request would run; writes nothing."""
        def act(config, target, lang):
            rendered = training.render(config)
            return {"yaml": rendered.yaml_text, "output_dir": str(rendered.output_dir),
                    "status": t("ui.status.preview", lang, path=rendered.output_dir)}
        return call(act, request, lang)

    def train_save(request: dict, lang: str = "") -> dict:
        """Save a training request's YAML under configs/llmops/ and return the commands that run it."""
        def act(config, target, lang):
            saved = training.save(config, target)
            return saved_reply(saved, lang, "ui.status.reused" if saved.reused else "ui.status.saved")
        return call(act, request, lang)

    def train_launch(request: dict, lang: str = "") -> dict:
        """Save a training request and queue it as a job."""
        def act(config, target, lang):
            saved, job = training.launch_config(config, target=target)
            return {**saved_reply(saved, lang, "ui.status.launched", job=job.id), "job": job.id}
        return call(act, request, lang)

    for fn in (train_preview, train_save, train_launch):
        gr.api(fn, api_name=fn.__name__)
