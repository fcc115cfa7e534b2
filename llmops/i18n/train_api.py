"""Named training API strings (JSON requests checked against the stage spec), in English and Chinese."""

TRAIN_API: dict[str, dict[str, str]] = {
    "err.train.api_unknown_keys": {
        "en": "Unknown key(s) in the {stage} request's {where}: {keys}. Accepted: {known}.",
        "zh": "{stage} 请求的 {where} 中有未知键：{keys}。可用的键：{known}。",
    },
    "err.train.api_not_object": {
        "en": "The request's {where} must be a JSON object.",
        "zh": "请求中的 {where} 必须是 JSON 对象。",
    },
}
