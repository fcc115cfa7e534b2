"""Command-line messages: argparse's own errors translated, and errors met outside the services."""

CLI: dict[str, dict[str, str]] = {
    "cli.usage": {"en": "usage: ", "zh": "用法："},
    "cli.error": {"en": "error: {message}", "zh": "错误：{message}"},
    "cli.arg_required": {
        "en": "the following arguments are required: {names}",
        "zh": "缺少必需的参数：{names}",
    },
    "cli.arg_unrecognized": {
        "en": "unrecognized arguments: {names}",
        "zh": "无法识别的参数：{names}",
    },
    "cli.arg_choice": {
        "en": "argument {arg}: invalid choice: {value} (choose from {choices})",
        "zh": "参数 {arg}：无效的选项 {value}（可选：{choices}）",
    },
    "cli.arg_type": {
        "en": "argument {arg}: invalid {type} value: {value}",
        "zh": "参数 {arg}：{value} 不是有效的{type}",
    },
    "cli.arg_expected": {
        "en": "argument {arg}: expected {count}",
        "zh": "参数 {arg}：需要 {count} 个值",
    },
    "cli.arg_not_allowed": {
        "en": "argument {arg}: not allowed with argument {other}",
        "zh": "参数 {arg} 不能与参数 {other} 同时使用",
    },
    "cli.arg_ignored": {
        "en": "argument {arg}: ignored explicit argument {value}",
        "zh": "参数 {arg} 不接受值 {value}",
    },
    "cli.arg_ambiguous": {
        "en": "ambiguous option: {option} could match {matches}",
        "zh": "选项 {option} 有歧义，可能是：{matches}",
    },
    "cli.arg_other": {
        "en": "{message}",
        "zh": "参数错误：{message}",
    },
    "cli.arg_other_for": {
        "en": "argument {arg}: {message}",
        "zh": "参数 {arg} 有误：{message}",
    },
    "cli.type_int": {"en": "integer", "zh": "整数"},
    "cli.type_float": {"en": "number", "zh": "数字"},
    "cli.type_positive_int": {"en": "positive integer", "zh": "正整数"},
    "cli.type_non_negative_int": {"en": "non-negative integer", "zh": "非负整数"},
    "cli.type_non_negative_float": {"en": "non-negative number", "zh": "非负数"},
    "cli.type_positive_float": {"en": "positive number", "zh": "正数"},
    "cli.type_unit_float": {"en": "number between 0 and 1", "zh": "0 到 1 之间的数"},
    "cli.type_text": {"en": "non-empty text", "zh": "非空文本"},
    "cli.type_devices": {"en": "device list ('cpu', 'all' or GPU ids like 0,1)", "zh": "设备列表（cpu、all 或 0,1 这样的 GPU 编号）"},
    "cli.os_error": {
        "en": "cannot use '{path}': {reason}.",
        "zh": "无法使用“{path}”：{reason}。",
    },
    "cli.bad_env": {
        "en": "environment variable problem: {reason}.",
        "zh": "环境变量有误：{reason}。",
    },
    "cli.interrupted": {"en": "interrupted.", "zh": "已中断。"},
    "cli.internal": {
        "en": "unexpected internal error ({kind}: {reason}); set LLMOPS_DEBUG=1 to see the traceback.",
        "zh": "内部错误（{kind}：{reason}）；设置 LLMOPS_DEBUG=1 可查看调用栈。",
    },
    "cli.set_yaml": {
        "en": "--set {item}: the value is not valid YAML ({reason}).",
        "zh": "--set {item}：值不是有效的 YAML（{reason}）。",
    },
}
