"""Dataset registry messages (upload, validation, versions, export), in English and Chinese."""

DATA_REGISTRY: dict[str, dict[str, str]] = {
    # Errors raised to the caller
    "err.ds_source_missing": {
        "en": "{path} does not exist or is not a file.",
        "zh": "{path} 不存在或不是文件。",
    },
    "err.ds_unsupported_type": {
        "en": "{path}: unsupported file type '{suffix}'; use one of {suffixes}.",
        "zh": "{path}：不支持的文件类型“{suffix}”；请使用 {suffixes} 之一。",
    },
    "err.ds_empty": {
        "en": "{path}: the file is empty (no rows).",
        "zh": "{path}：文件为空（没有任何数据行）。",
    },
    "err.ds_too_large": {
        "en": "{path} is {size_mb} MB, over the {limit_mb} MB limit; split it or raise the limit.",
        "zh": "{path} 大小为 {size_mb} MB，超过 {limit_mb} MB 的上限；请拆分文件或调高上限。",
    },
    "err.ds_encoding": {
        "en": "{path}:{line}: byte {offset} is neither UTF-8 nor GBK/GB18030 text; save the file as UTF-8 "
              "(nothing was converted, to avoid garbled text).",
        "zh": "{path}:{line}：第 {offset} 个字节既不是 UTF-8 也不是 GBK/GB18030 文本；请将文件另存为 UTF-8"
              "（为避免乱码，未做任何转换）。",
    },
    "err.ds_binary": {
        "en": "{path}: the file contains NUL bytes; it is binary, or UTF-16 without a byte-order mark. Save it as UTF-8.",
        "zh": "{path}：文件含有 NUL 字节，可能是二进制文件或无字节序标记的 UTF-16 文件；请另存为 UTF-8。",
    },
    "err.ds_needs_conversion": {
        "en": "{path} is encoded as {encoding}, not UTF-8. Confirm to convert it to UTF-8 (the text stays the same).",
        "zh": "{path} 的编码是 {encoding} 而不是 UTF-8。确认后将转换为 UTF-8（文本内容保持不变）。",
    },
    "err.ds_unreadable": {
        "en": "{path}: the file cannot be read: {reason}.",
        "zh": "{path}：无法读取文件：{reason}。",
    },
    "err.ds_bad_format_name": {
        "en": "Unknown dataset format '{format}'; choose one of {formats}.",
        "zh": "未知的数据集格式“{format}”；请从 {formats} 中选择。",
    },
    "err.ds_format_unknown": {
        "en": "{path}: the data format could not be recognised (fields found: {fields}); choose one of {formats}.",
        "zh": "{path}：无法识别数据格式（找到的字段：{fields}）；请从 {formats} 中指定一种。",
    },
    "err.ds_invalid": {
        "en": "{path} was not registered: {count} problem(s), {valid} of {total} row(s) valid.\n{errors}",
        "zh": "{path} 未注册：发现 {count} 个问题，{total} 行中有 {valid} 行有效。\n{errors}",
    },
    "err.ds_exists": {
        "en": "A dataset named '{name}' already exists; choose another name or delete it first.",
        "zh": "名为“{name}”的数据集已存在；请换一个名称或先删除它。",
    },
    "err.ds_folder_exists": {
        "en": "The folder {path} is left from an earlier dataset named '{name}'; delete its files "
              "(python -m llmops data delete {name} --files) or choose another name.",
        "zh": "文件夹 {path} 属于之前名为“{name}”的数据集；请删除其文件"
              "（python -m llmops data delete {name} --files）或换一个名称。",
    },
    "err.ds_outside_data": {
        "en": "{path} is outside the data folder {root}, so LLaMA-Factory could not read it; register a copy instead.",
        "zh": "{path} 不在数据目录 {root} 内，LLaMA-Factory 无法读取；请改为登记一份副本。",
    },
    "err.ds_not_local": {
        "en": "Dataset '{name}' is not a local file (it comes from a hub); it cannot be opened here.",
        "zh": "数据集“{name}”不是本地文件（来自模型/数据集中心），无法在此打开。",
    },
    "err.ds_unknown_version": {
        "en": "Dataset '{name}' has no version '{version}'.",
        "zh": "数据集“{name}”没有版本“{version}”。",
    },
    "err.ds_threshold": {
        "en": "The near-duplicate threshold must be between 0.5 and 1.0 (got {threshold}).",
        "zh": "近似重复阈值必须在 0.5 到 1.0 之间（当前为 {threshold}）。",
    },
    "err.ds_write_failed": {
        "en": "{path} could not be written: {reason}. Nothing was changed.",
        "zh": "无法写入 {path}：{reason}。未做任何改动。",
    },
    # Row-level reasons, shown as "file:line: reason"
    "ds.r_json": {
        "en": "invalid JSON: {detail}",
        "zh": "JSON 格式错误：{detail}",
    },
    "ds.r_trailing_comma": {
        "en": "trailing comma (JSON allows no comma before a closing bracket or at the end of a row)",
        "zh": "多余的逗号（JSON 不允许在右括号之前或行尾出现逗号）",
    },
    "ds.r_jsonl_array": {
        "en": "a JSON array at the top level of a .jsonl file; a .jsonl file holds one JSON object per line — "
              "if the file is one JSON array, name it .json",
        "zh": ".jsonl 文件的顶层是 JSON 数组；.jsonl 文件应每行一个 JSON 对象——如果整个文件是一个 JSON 数组，请将扩展名改为 .json",
    },
    "ds.r_json_lines_in_json": {
        "en": "more than one JSON value: this looks like JSON Lines (one object per line); name the file .jsonl",
        "zh": "包含多个 JSON 值：看起来是 JSON Lines（每行一个对象）格式；请将扩展名改为 .jsonl",
    },
    "ds.r_json_top": {
        "en": "the top level of a .json file must be an array of objects, found {found}",
        "zh": ".json 文件的顶层必须是由对象组成的数组，实际为 {found}",
    },
    "ds.r_json_extra": {
        "en": "unexpected text after the closing ']'",
        "zh": "结尾的“]”之后还有多余内容",
    },
    "ds.r_not_object": {
        "en": "the row is {found}, not a JSON object",
        "zh": "该行是 {found}，而不是 JSON 对象",
    },
    "ds.r_missing": {
        "en": "missing field '{field}' required by the {format} format",
        "zh": "缺少 {format} 格式要求的字段“{field}”",
    },
    "ds.r_empty": {
        "en": "field '{field}' is empty",
        "zh": "字段“{field}”为空",
    },
    "ds.r_type": {
        "en": "field '{field}' should be {expected}, found {found}",
        "zh": "字段“{field}”应为 {expected}，实际为 {found}",
    },
    "ds.r_nested_in_csv": {
        "en": "field '{field}' is plain text, but this format needs a list of messages; a CSV file cannot hold "
              "nested data — use .json, .jsonl or .parquet",
        "zh": "字段“{field}”是纯文本，而该格式需要消息列表；CSV 无法保存嵌套数据——请使用 .json、.jsonl 或 .parquet",
    },
    "ds.r_no_turns": {
        "en": "'{field}' holds no user/assistant messages",
        "zh": "“{field}”中没有用户/助手消息",
    },
    "ds.r_msg_not_object": {
        "en": "message {index} of '{field}' is not an object with '{role}' and '{content}' keys",
        "zh": "“{field}”的第 {index} 条消息不是包含“{role}”和“{content}”键的对象",
    },
    "ds.r_msg_role": {
        "en": "message {index}: unknown role '{role}' (allowed: {allowed})",
        "zh": "第 {index} 条消息：未知角色“{role}”（允许：{allowed}）",
    },
    "ds.r_msg_empty": {
        "en": "message {index} ({role}) is empty",
        "zh": "第 {index} 条消息（{role}）为空",
    },
    "ds.r_system_not_first": {
        "en": "message {index}: a system message may only come first",
        "zh": "第 {index} 条消息：系统消息只能位于第一条",
    },
    "ds.r_order": {
        "en": "message {index}: expected {expected}, found '{role}' (turns must alternate)",
        "zh": "第 {index} 条消息：应为 {expected}，实际为“{role}”（对话轮次必须交替）",
    },
    "ds.r_function_observation": {
        "en": "message {index}: a function_call must be followed by an observation, found '{role}'",
        "zh": "第 {index} 条消息：function_call 之后必须是 observation，实际为“{role}”",
    },
    "ds.r_observation_without_call": {
        "en": "message {index}: an observation must follow a function_call",
        "zh": "第 {index} 条消息：observation 必须紧跟在 function_call 之后",
    },
    "ds.r_ends": {
        "en": "the conversation must end with {expected}, but ends with '{role}'",
        "zh": "对话必须以 {expected} 结尾，实际以“{role}”结尾",
    },
    "ds.r_same_pair": {
        "en": "chosen and rejected are identical",
        "zh": "chosen 与 rejected 完全相同",
    },
    "ds.r_csv": {
        "en": "CSV error: {detail}",
        "zh": "CSV 格式错误：{detail}",
    },
    "ds.r_csv_header": {
        "en": "the CSV header has an empty or repeated column name: {columns}",
        "zh": "CSV 表头中有空的或重复的列名：{columns}",
    },
    "ds.r_csv_fields": {
        "en": "expected {expected} fields as in the header, found {found}",
        "zh": "表头有 {expected} 列，该行却有 {found} 个字段",
    },
    "ds.r_csv_field_too_large": {
        "en": "a field is larger than the {limit_mb} MB limit",
        "zh": "有字段超过 {limit_mb} MB 的上限",
    },
    "ds.more_errors": {
        "en": "… and {count} more problem(s)",
        "zh": "……另有 {count} 个问题",
    },
    # Words used in the reasons and the table
    "ds.t_text": {"en": "text", "zh": "文本"},
    "ds.t_list": {"en": "a list", "zh": "列表"},
    "ds.t_message": {"en": "a message object", "zh": "消息对象"},
    "ds.note_adopted": {
        "en": "registered outside the studio",
        "zh": "在本工具之外登记",
    },
    "ds.note_dedup": {
        "en": "dedup: {exact} exact and {near} near duplicate(s) removed",
        "zh": "去重：删除 {exact} 条完全重复、{near} 条近似重复",
    },
    "ds.problem_file_missing": {
        "en": "file missing: {path}",
        "zh": "文件缺失：{path}",
    },
    "ds.problem_unreadable": {
        "en": "file unreadable: {reason}",
        "zh": "文件无法读取：{reason}",
    },
    "ds.problem_entry": {
        "en": "broken dataset_info.json entry: {reason}",
        "zh": "dataset_info.json 条目有误：{reason}",
    },
}
