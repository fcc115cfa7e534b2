"""SFT dataset rows (alpaca, sharegpt, messages) as evaluation samples: last user turn -> prompt, answer -> reference."""

from __future__ import annotations

from ...schemas.evaluation import EvalSample
from ..datasets.formats import Shape
from ..datasets.records import Issue


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _alpaca(row: dict, shape: Shape) -> tuple[EvalSample | None, Issue | None]:
    cols = shape.columns
    # LLaMA-Factory joins instruction and input with a newline into the user turn.
    parts = [_text(row.get(cols.get("prompt", "instruction")))]
    if cols.get("query") and _text(row.get(cols["query"])):
        parts.append(row[cols["query"]])
    prompt = "\n".join(parts)
    if not prompt.strip():
        return None, Issue(0, "ds.r_empty", {"field": cols.get("prompt", "instruction")})
    history = row.get(cols["history"]) if cols.get("history") else None
    pairs = [(_text(q), _text(a)) for q, a in history] if isinstance(history, list) else []
    system = _text(row.get(cols["system"])) if cols.get("system") else ""
    return EvalSample(prompt=prompt, reference=_text(row.get(cols.get("response", "output"))),
                      system=system or None, history=pairs), None


def _conversation(row: dict, shape: Shape) -> tuple[EvalSample | None, Issue | None]:
    tags, cols = shape.tags, shape.columns
    messages = row.get(cols.get("messages", "conversations"))
    if not isinstance(messages, list):
        return None, Issue(0, "ev.r_no_answer")
    role_tag, content_tag = tags.get("role_tag", "from"), tags.get("content_tag", "value")
    asks = {tags.get("user_tag", "human"), tags.get("observation_tag", "observation")}
    answers = {tags.get("assistant_tag", "gpt"), tags.get("function_tag", "function_call")}
    system = _text(row.get(cols["system"])) if cols.get("system") else ""
    turns: list[tuple[str, str]] = []  # ("user" | "assistant", content)
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return None, Issue(0, "ev.r_no_answer")
        role, content = message.get(role_tag), _text(message.get(content_tag))
        if index == 0 and role == tags.get("system_tag", "system"):
            system = content
        elif role in asks or role in answers:
            turns.append(("user" if role in asks else "assistant", content))
    users, assistants = turns[0::2], turns[1::2]
    if not turns or len(turns) % 2 or any(r != "user" for r, _ in users) or any(r != "assistant" for r, _ in assistants):
        return None, Issue(0, "ev.r_no_answer")
    pairs = [(u[1], a[1]) for u, a in zip(users, assistants)]
    (prompt, reference), history = pairs[-1], pairs[:-1]
    return EvalSample(prompt=prompt, reference=reference, system=system or None, history=history), None


def to_sample(row: object, shape: Shape) -> tuple[EvalSample | None, Issue | None]:
    """The sample a row of an SFT dataset makes, or why it makes none (its line filled in by the caller)."""
    if not isinstance(row, dict):
        return None, Issue(0, "ev.r_no_answer")
    return _alpaca(row, shape) if shape.layout == "alpaca" else _conversation(row, shape)
