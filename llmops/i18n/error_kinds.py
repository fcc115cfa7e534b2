"""Names of the kinds of failure (one per LLMOpsError class), and messages for storage and endpoint failures."""

ERROR_KINDS: dict[str, dict[str, str]] = {
    "err.kind.generic": {"en": "Error", "zh": "错误"},
    "err.kind.invalid_input": {"en": "Invalid input", "zh": "输入无效"},
    "err.kind.not_found": {"en": "Not found", "zh": "未找到"},
    "err.kind.conflict": {"en": "Conflict", "zh": "冲突"},
    "err.kind.storage": {"en": "Storage failure", "zh": "存储故障"},
    "err.kind.backend": {"en": "Backend failure", "zh": "后端故障"},
    "err.kind.permission": {"en": "Not permitted", "zh": "无权限"},
    "err.kind.job": {"en": "Job failure", "zh": "任务失败"},
}
