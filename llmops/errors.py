"""Errors that carry a message for the user, in the user's language."""

from __future__ import annotations

from .i18n import t


class LLMOpsError(Exception):
    """An error the user can act on; `key` names its message in llmops.i18n."""

    def __init__(self, key: str, /, **params):
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The message in `lang`."""
        return t(self.key, lang, **self.params)


class ValidationError(LLMOpsError):
    """Input was refused before anything ran."""


class NotFoundError(LLMOpsError):
    """A named thing (dataset, job, model) does not exist."""


class JobError(LLMOpsError):
    """A job could not be queued, stopped or read."""


def pydantic_details(exc, default: str = "value", limit: int | None = None) -> str:
    """A pydantic ValidationError as 'field: problem; …', with no input values (they may hold secrets)."""
    errors = exc.errors()[:limit] if limit else exc.errors()
    return "; ".join(f"{'.'.join(str(part) for part in e['loc']) or default}: {e['msg']}" for e in errors)
