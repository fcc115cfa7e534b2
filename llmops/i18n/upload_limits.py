"""Dataset reading limits: rows too long to read whole, files changed while being stored."""

UPLOAD_LIMITS: dict[str, dict[str, str]] = {
    "ds.r_too_long": {
        "en": "the row is longer than the {limit_mb} MB limit for one row (skipped without being read whole)",
        "zh": "该行超过单行 {limit_mb} MB 的上限（已跳过，未整行读入）",
    },
    "err.ds_changed": {
        "en": "{path} changed while it was being stored; upload it again.",
        "zh": "{path} 在保存过程中被修改，请重新上传。",
    },
}
