"""A message as a key and its parameters, rendered only at the edge (UI, CLI) in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """A string-table key plus parameters; parameters may themselves be messages."""

    key: str
    params: dict = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        """The text in `lang`."""
        from . import t

        return t(self.key, lang, **self.params)

    def to_dict(self) -> dict:
        """Plain JSON: nested messages become {"key", "params"} too."""
        return {"key": self.key, "params": {k: _plain(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, raw: dict) -> Message:
        """The inverse of to_dict."""
        return cls(str(raw["key"]), {k: _revive(v) for k, v in dict(raw.get("params") or {}).items()})


@dataclass(frozen=True)
class Lines:
    """Several messages (or plain texts) shown one per line."""

    items: tuple = ()

    def render(self, lang: str = "en") -> str:
        """Each item in `lang`, joined by newlines."""
        return "\n".join(render(item, lang) for item in self.items)


def render(value: object, lang: str = "en") -> str:
    """A message, a list of lines or plain text (old records hold text) as a string in `lang`."""
    if isinstance(value, (Message, Lines)):
        return value.render(lang)
    return "" if value is None else str(value)


def _plain(value: object) -> object:
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, Lines):
        return {"lines": [_plain(item) for item in value.items]}
    return value


def _revive(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"key", "params"}:
        return Message.from_dict(value)
    if isinstance(value, dict) and set(value) == {"lines"}:
        return Lines(tuple(_revive(item) for item in value["lines"]))
    return value
