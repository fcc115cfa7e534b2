"""Errors that carry a message for the user, in the user's language; each class names what kind of failure it is."""

from __future__ import annotations

from .i18n import t


class LLMOpsError(Exception):
    """An error the user can act on; `key` names its message in llmops.i18n, `kind_key` the kind of failure."""

    kind_key = "err.kind.generic"

    def __init__(self, key: str, /, **params):
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The message in `lang`."""
        return t(self.key, lang, **self.params)

    def kind(self, lang: str = "en") -> str:
        """A short name for this kind of failure in `lang` (a heading over the message)."""
        return t(self.kind_key, lang)


class InvalidInputError(LLMOpsError):
    """Input was refused before anything ran."""

    kind_key = "err.kind.invalid_input"


class NotFoundError(LLMOpsError):
    """A named thing (dataset, job, model, file) does not exist."""

    kind_key = "err.kind.not_found"


class ConflictError(LLMOpsError):
    """The thing already exists, is busy, or changed since it was read."""

    kind_key = "err.kind.conflict"


class StorageError(LLMOpsError):
    """A file or database could not be read or written (corrupt content, OS error, disk full)."""

    kind_key = "err.kind.storage"


class BackendError(LLMOpsError):
    """A generation backend or endpoint failed; the message says why and never contains a secret."""

    kind_key = "err.kind.backend"


class PermissionDeniedError(LLMOpsError):
    """Refused by policy: a path outside the allowed roots, a key not bound to the host, a failed login."""

    kind_key = "err.kind.permission"


class JobError(LLMOpsError):
    """A job could not be queued, stopped or read, or it ended in failure."""

    kind_key = "err.kind.job"


# Runtime failures: something the app relies on broke, not what the user asked for (the CLI exits 1 on these).
RUNTIME_ERRORS: tuple[type[LLMOpsError], ...] = (StorageError, BackendError, JobError)


def is_user_error(exc: LLMOpsError) -> bool:
    """True when the user can fix `exc` by changing what they asked for; False for storage, backend, job failures."""
    return not isinstance(exc, RUNTIME_ERRORS)


def os_failure(key: str, exc: OSError, /, **params) -> LLMOpsError:
    """A StorageError for `exc`, unless the path names the wrong kind of thing (a folder for a file): the user's to fix."""
    cls = InvalidInputError if isinstance(exc, (IsADirectoryError, NotADirectoryError)) else StorageError
    return cls(key, reason=exc.strerror or str(exc), **params)


def pydantic_details(exc, default: str = "value", limit: int | None = None) -> str:
    """A pydantic ValidationError as 'field: problem; …', with no input values (they may hold secrets)."""
    errors = exc.errors()[:limit] if limit else exc.errors()
    return "; ".join(f"{'.'.join(str(part) for part in e['loc']) or default}: {e['msg']}" for e in errors)
