"""GRPO runs and LoRA exports on a target: the names their refusals use, in English and Chinese."""

TARGETS_MORE: dict[str, dict[str, str]] = {
    "targets.what.lora_export": {"en": "A LoRA merge-export", "zh": "LoRA 合并导出"},
}
