"""`models list|add-local|add-endpoint|set-default`: the model registry from a terminal."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .types import text


def register(sub) -> None:
    """Add the models subcommands."""
    group = sub.add_parser("models", help="the registered model versions (local folders, adapters, endpoints)")
    msub = group.add_subparsers(dest="models_command", required=True)
    cmd = msub.add_parser("list", help="every registered version")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_list)
    cmd = msub.add_parser("add-local", help="register a local model folder, or a LoRA adapter on it (--adapter)")
    cmd.add_argument("name", type=text)
    cmd.add_argument("path", type=text, help="model folder with config.json (the base, with --adapter)")
    cmd.add_argument("--adapter", type=text, default=None, help="LoRA adapter folder trained on PATH")
    cmd.add_argument("--template", type=text, default=None, help="LLaMA-Factory chat template name")
    cmd.add_argument("--version", type=text, default=None, help="default: the next free one (v1.0, v1.1, …)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_add_local)
    cmd = msub.add_parser("add-endpoint", help="register an OpenAI-compatible server (vLLM, llamafactory-cli api…)")
    cmd.add_argument("name", type=text)
    cmd.add_argument("--base-url", type=text, required=True, help="…/v1")
    cmd.add_argument("--model", type=text, required=True, help="the model name the server expects")
    cmd.add_argument("--api-key-env", type=text, default=None, help="the variable holding the key (never the key)")
    cmd.add_argument("--version", type=text, default=None)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_add_endpoint)
    cmd = msub.add_parser("set-default", help="the version chat uses when none is picked")
    cmd.add_argument("id", type=text, help="name@version")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_set_default)


def _registry(settings):
    from ..services.models import ModelRegistry

    settings.ensure_dirs()
    return ModelRegistry(settings)


def _list(settings, args) -> int:
    registry = _registry(settings)
    entries, default = registry.list(), registry.default()
    lines = [f"{'ID':32} {'KIND':9} {'TEMPLATE':10} WHERE"]
    for e in entries:
        where = e.endpoint.base_url + f" ({e.endpoint.model})" if e.endpoint else (e.adapter or e.path or "-")
        mark = " *" if default and default.id == e.id else ""
        lines.append(f"{e.id + mark:32} {e.kind:9} {e.template or '-':10} {where}")
    emit([{**e.model_dump(mode="json"), "default": bool(default and default.id == e.id)} for e in entries],
         args.json, "\n".join(lines))
    return 0


def _added(settings, args, entry) -> int:
    emit(entry.model_dump(mode="json"), args.json, t("mcli.added", settings.lang, model_id=entry.id))
    return 0


def _add_local(settings, args) -> int:
    registry = _registry(settings)
    if not args.adapter:
        version = args.version or registry.next_version(args.name)
        return _added(settings, args, registry.add_base(args.name, args.path, version, template=args.template))
    base = _base_for(registry, args)
    return _added(settings, args, registry.add_adapter(args.name, base.id, args.adapter, version=args.version))


def _base_for(registry, args):
    """The registered base (or merged) entry loading PATH; registered now under NAME when there is none."""
    from pathlib import Path

    wanted = Path(args.path).expanduser().resolve()
    for entry in registry.list():
        if entry.kind in ("base", "merged") and entry.path and Path(entry.path).expanduser().resolve() == wanted:
            return entry
    return registry.add_base(args.name, args.path, registry.next_version(args.name), template=args.template)


def _add_endpoint(settings, args) -> int:
    registry = _registry(settings)
    version = args.version or registry.next_version(args.name)
    return _added(settings, args, registry.add_endpoint(args.name, args.base_url, args.model, args.api_key_env,
                                                        version=version))


def _set_default(settings, args) -> int:
    entry = _registry(settings).set_default(args.id)
    emit(entry.model_dump(mode="json"), args.json, t("mcli.default", settings.lang, model_id=entry.id))
    return 0
