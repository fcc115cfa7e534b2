"""Preference log and leaderboard messages, in English and Chinese."""

PREFS: dict[str, dict[str, str]] = {
    "err.prefs_write_failed": {
        "en": "The vote could not be saved to {path}: {reason}. The log was left unchanged; free some disk space and vote again.",
        "zh": "投票未能保存到 {path}：{reason}。日志未被改动；请释放磁盘空间后重新投票。",
    },
    "err.prefs_read_failed": {
        "en": "The preference log {path} could not be opened: {reason}.",
        "zh": "无法打开偏好日志 {path}：{reason}。",
    },
    "err.prefs_invalid_vote": {
        "en": "Vote refused: {reason}.",
        "zh": "投票无效，未保存：{reason}。",
    },
    "err.prefs_export_empty": {
        "en": "No preference pairs to export: only votes where A or B won count (ties and 'both bad' are skipped), and the filters may exclude the rest.",
        "zh": "没有可导出的偏好对：只有 A 胜或 B 胜的投票会被导出（平局和“都不好”会被跳过），其余的可能已被筛选条件排除。",
    },
    "err.prefs_unknown_model": {
        "en": "Model '{model}' has no votes on the leaderboard yet.",
        "zh": "模型“{model}”在排行榜上还没有任何投票。",
    },
    "prefs.saved": {
        "en": "Vote saved.",
        "zh": "投票已保存。",
    },
    "prefs.duplicate": {
        "en": "This vote was already recorded; it was not counted twice.",
        "zh": "该投票已记录过，不会重复计数。",
    },
    "prefs.read_problems": {
        "en": "{n} line(s) of the preference log could not be read and were skipped; see the details below.",
        "zh": "偏好日志中有 {n} 行无法读取，已跳过；详见下方说明。",
    },
    "prefs.repaired": {
        "en": "An incomplete last line ({size} bytes, line {line}) left by an interrupted write was moved to {torn}.",
        "zh": "写入中断留下的不完整末行（{size} 字节，第 {line} 行）已移至 {torn}。",
    },
    "prefs.exported": {
        "en": "Exported {n} preference pairs to {path}.",
        "zh": "已导出 {n} 条偏好对到 {path}。",
    },
    "prefs.votes_to_separate": {
        "en": "About {n} more votes between {a} and {b} would separate their 95% intervals.",
        "zh": "{a} 与 {b} 之间大约还需要 {n} 票，二者的 95% 置信区间才能分开。",
    },
    "prefs.separated": {
        "en": "{a} and {b} are already separated at 95%.",
        "zh": "{a} 与 {b} 的 95% 置信区间已经分开。",
    },
    "prefs.inseparable": {
        "en": "Votes between {a} and {b} alone will not separate them: their ratings are too close, or their uncertainty against the other models is larger than the gap. Vote on other pairs too.",
        "zh": "仅靠 {a} 与 {b} 之间的投票无法把二者分开：它们的评分过于接近，或者它们相对其他模型的不确定性大于差距。请同时为其他模型对投票。",
    },
}
