"""Leaderboard tab strings: vote sources, chart titles and axes, table columns, notes on the log's state."""

LEADERBOARD: dict[str, dict[str, str]] = {
    "ui.lb.src_human": {"en": "Human", "zh": "人工"},
    "ui.lb.src_synthetic": {"en": "Synthetic", "zh": "合成"},
    "ui.lb.src_all": {"en": "All", "zh": "全部"},
    "ui.lb.heatmap": {"en": "Win rates", "zh": "胜率矩阵"},
    "ui.lb.heatmap_title": {"en": "Win rate (row model beats column model)", "zh": "胜率（行模型胜过列模型）"},
    "ui.lb.timeline": {"en": "Votes over time", "zh": "投票趋势"},
    "ui.lb.timeline_title": {"en": "Votes per day", "zh": "每日投票数"},
    "ui.lb.axis_day": {"en": "Day (UTC)", "zh": "日期（UTC）"},
    "ui.lb.axis_votes": {"en": "Votes", "zh": "票数"},
    "ui.lb.col_model": {"en": "Model", "zh": "模型"},
    "ui.lb.col_rating": {"en": "Rating", "zh": "评分"},
    "ui.lb.col_low": {"en": "95% low", "zh": "95% 下限"},
    "ui.lb.col_high": {"en": "95% high", "zh": "95% 上限"},
    "ui.lb.col_votes": {"en": "Votes", "zh": "票数"},
    "ui.lb.shown": {"en": "Shown: {source} votes ({n}).", "zh": "当前显示：{source}投票（{n} 票）。"},
    "ui.lb.duplicates": {"en": "{n} line(s) repeating an earlier vote_id were counted once.",
                         "zh": "有 {n} 行重复了之前的 vote_id，只计一次。"},
    "ui.lb.problems": {"en": "{n} unreadable line(s) of the log were skipped (`python -m llmops prefs stats` lists them).",
                       "zh": "日志中有 {n} 行无法读取，已跳过（`python -m llmops prefs stats` 可列出它们）。"},
}
