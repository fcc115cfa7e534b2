"""TRL 0.24 under transformers 5: make TRL's optional-package flags plain booleans before its trainers import."""

from __future__ import annotations


def fix_trl_package_flags() -> None:
    """transformers 5's `_is_package_available` returns (found, version); TRL 0.24 stores that tuple as its flag, and a
    tuple is always true, so `from trl import GRPOTrainer` tries to import absent packages (llm_blender, deepspeed).
    Taking the tuple's first item restores what TRL meant."""
    import trl.import_utils as flags

    for name, value in list(vars(flags).items()):
        if name.startswith("_") and name.endswith("_available") and isinstance(value, tuple):
            setattr(flags, name, bool(value[0]))


def give_warnings_dict(model) -> None:
    """TRL 0.24 writes model.warnings_issued[...], an attribute transformers 5 no longer creates."""
    if not hasattr(model, "warnings_issued"):
        model.warnings_issued = {}
