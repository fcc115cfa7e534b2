"""References between stages: `${stages.<id>.outputs.<name>}` and `${current}`, resolved when a stage starts."""

from __future__ import annotations

from ...errors import ConflictError
import re

from ...schemas.pipelines import REF

_PLACEHOLDER = re.compile(r"<(?:[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_]+|current)>")


def placeholder(stage_id: str, output: str) -> str:
    """What a preview shows for an output not made yet."""
    return f"<{stage_id}.{output}>"


def resolve(value, outputs: dict[str, dict], current: str | None, *, preview: bool = False, install: str = ""):
    """`value` with every reference replaced; a value that is one reference takes the output as it is (a bool, a
    number). In a preview an output not made yet (and a missing current version) shows as a placeholder."""
    if isinstance(value, dict):
        return {key: resolve(item, outputs, current, preview=preview, install=install) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, outputs, current, preview=preview, install=install) for item in value]
    if not isinstance(value, str):
        return value

    def one(match) -> object:
        stage_id, output, name = match.group(1), match.group(2), match.group(3)
        if name == "install":
            return install
        if name:
            if current:
                return current
            if preview:
                return "<current>"
            raise ConflictError("err.pl_no_current")
        made = outputs.get(stage_id, {})
        if output in made:
            return made[output]
        if preview:
            return placeholder(stage_id, output)
        raise ConflictError("err.pl_output_missing", stage=stage_id, output=output)

    whole = REF.fullmatch(value.strip())
    if whole:
        return one(whole)
    return REF.sub(lambda match: str(one(match)), value)


def has_placeholder(value) -> bool:
    """True when a resolved preview value still waits for an earlier stage."""
    if isinstance(value, str):
        return bool(_PLACEHOLDER.search(value))
    if isinstance(value, dict):
        return any(has_placeholder(item) for item in value.values())
    if isinstance(value, list):
        return any(has_placeholder(item) for item in value)
    return False
