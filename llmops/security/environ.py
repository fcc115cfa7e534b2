"""Child-process environments without the app's secrets: a job gets only the secret variables its spec names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Names that hold (or unlock) a credential; matched anywhere in the name, case-insensitive.
SECRET_WORDS = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|PRIVATE|_PAT$|_DSN$)",
                          re.IGNORECASE)
# Whole families of provider settings; any member may carry a credential (AWS_SESSION_TOKEN, OPENAI_ORG…).
SECRET_PREFIXES = ("AWS_", "OPENAI_", "ANTHROPIC_", "AZURE_", "GOOGLE_APPLICATION_", "GCP_", "GITHUB_", "GH_",
                   "GITLAB_", "WANDB_", "COMET_", "NEPTUNE_", "MLFLOW_TRACKING_", "DATABASE_URL", "REDIS_URL",
                   "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN")


# Settings whose names look secret but hold none: the key bindings name variables and URLs, never a key, and a
# job that calls an endpoint must see them to re-check where its key may go.
NOT_SECRET = frozenset({"LLMOPS_KEY_BINDINGS"})


def is_secret_name(name: str) -> bool:
    """True when an environment variable of this name may hold a secret."""
    upper = name.upper()
    if upper in NOT_SECRET:
        return False
    return bool(SECRET_WORDS.search(upper)) or upper.startswith(SECRET_PREFIXES)


def child_env(environ: Mapping[str, str], keep: Iterable[str] = ()) -> dict[str, str]:
    """`environ` without its secret variables, except the ones named in `keep` (a job that needs one says so)."""
    wanted = set(keep)
    return {name: value for name, value in environ.items() if name in wanted or not is_secret_name(name)}
