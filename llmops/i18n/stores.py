"""Strings of the dataset store's messages that services return as keys and the UI and CLI render."""

STORES = {
    "ds.at_line": {"en": "{label}:{line}: {reason}", "zh": "{label}:{line}: {reason}"},
    "ds.at_row": {"en": "{label}: row {line}: {reason}", "zh": "{label}：第 {line} 行：{reason}"},
    "ds.problem_named": {"en": "{name}: {problem}", "zh": "{name}：{problem}"},
    "ds.entry_not_object": {"en": "{name}: entry is not an object", "zh": "{name}：条目不是对象"},
    "ds.entry_no_source": {"en": "{name}: no file_name or hub url", "zh": "{name}：没有 file_name 或 hub 地址"},
    "ds.entry_columns": {"en": "{name}: columns is not an object", "zh": "{name}：columns 不是对象"},
    "ds.info_top_not_object": {"en": "top level is not an object", "zh": "顶层不是对象"},
    "ds.json_at": {"en": "{what} (column {column})", "zh": "{what}（第 {column} 列）"},
    "ds.json_value": {"en": "Expecting value", "zh": "此处缺少值"},
    "ds.json_name": {"en": "Expecting property name enclosed in double quotes", "zh": "此处应为双引号括起的键名"},
    "ds.json_comma": {"en": "Expecting ',' delimiter", "zh": "此处缺少逗号分隔符"},
    "ds.json_colon": {"en": "Expecting ':' delimiter", "zh": "此处缺少冒号分隔符"},
    "ds.json_unterminated": {"en": "Unterminated string starting at", "zh": "字符串没有结束"},
    "ds.json_control": {"en": "Invalid control character at", "zh": "字符串中有无效的控制字符"},
    "ds.json_escape": {"en": "Invalid \\escape", "zh": "无效的转义序列"},
    "ds.json_extra": {"en": "Extra data", "zh": "多余的数据"},
    "cli.data.validated": {
        "en": "{path}: {format}, {valid}/{total} rows valid, {count} problem(s), encoding {encoding}",
        "zh": "{path}：{format}，{valid}/{total} 行有效，{count} 个问题，编码 {encoding}",
    },
}
