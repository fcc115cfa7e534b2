"""Chat template names LLaMA-Factory knows, read from its source without importing it."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path

_REGISTER = re.compile(r"register_template\(\s*name=\"([^\"]+)\"")

# Name fragments of common model families, most specific first.
_FAMILY_TEMPLATES = (
    ("qwen3", "qwen3"),
    ("qwen2.5-vl", "qwen2_vl"),
    ("qwen", "qwen"),
    ("llama-3", "llama3"),
    ("llama3", "llama3"),
    ("llama-2", "llama2"),
    ("glm-4", "glm4"),
    ("glm4", "glm4"),
    ("chatglm3", "chatglm3"),
    ("mistral", "mistral"),
    ("gemma", "gemma"),
    ("deepseek", "deepseek3"),
    ("yi-", "yi"),
    ("baichuan2", "baichuan2"),
    ("internlm", "intern2"),
    ("phi-3", "phi"),
)


@functools.lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """Every template name registered by the installed LLaMA-Factory, sorted."""
    spec = importlib.util.find_spec("llamafactory")
    if spec is None or not spec.submodule_search_locations:
        return ("chatml", "default", "empty", "llama3", "qwen")
    source = Path(list(spec.submodule_search_locations)[0]) / "data" / "template.py"
    names = set(_REGISTER.findall(source.read_text(encoding="utf-8")))
    return tuple(sorted(names))


def is_known(name: str) -> bool:
    """True when LLaMA-Factory has a template of that name."""
    return name in available()


def guess(model: str) -> str:
    """A sensible template for a model path or hub id."""
    local = Path(model).expanduser()
    if local.is_dir():
        template_text = _local_chat_template(local)
        config = _local_config(local)
        family = str(config.get("model_type", "")).lower()
        if family in ("qwen2", "qwen3") and "<|im_start|>" in template_text and "Qwen" not in template_text:
            return "chatml"  # a ChatML model of our own making (the demo model), not an official Qwen
    lowered = model.lower()
    for fragment, template in _FAMILY_TEMPLATES:
        if fragment in lowered and is_known(template):
            return template
    return "chatml" if local.is_dir() and "<|im_start|>" in _local_chat_template(local) else "default"


def _local_chat_template(folder: Path) -> str:
    jinja = folder / "chat_template.jinja"
    if jinja.exists():
        return jinja.read_text(encoding="utf-8")
    config = folder / "tokenizer_config.json"
    if config.exists():
        return str(json.loads(config.read_text(encoding="utf-8")).get("chat_template") or "")
    return ""


def _local_config(folder: Path) -> dict:
    path = folder / "config.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
