"""Strings of the dataset store's messages that services return as keys and the UI and CLI render."""

STORES = {
    "ds.at_line": {"en": "{label}:{line}: {reason}", "zh": "{label}:{line}: {reason}"},
    "ds.at_row": {"en": "{label}: row {line}: {reason}", "zh": "{label}：第 {line} 行：{reason}"},
    "ds.problem_named": {"en": "{name}: {problem}", "zh": "{name}：{problem}"},
    "ds.entry_not_object": {"en": "{name}: entry is not an object", "zh": "{name}：条目不是对象"},
    "ds.entry_no_source": {"en": "{name}: no file_name or hub url", "zh": "{name}：没有 file_name 或 hub 地址"},
    "ds.entry_columns": {"en": "{name}: columns is not an object", "zh": "{name}：columns 不是对象"},
    "ds.info_top_not_object": {"en": "top level is not an object", "zh": "顶层不是对象"},
}
