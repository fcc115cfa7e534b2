"""Model registry and generation backend messages, in English and Chinese."""

MODELS: dict[str, dict[str, str]] = {
    # --- registry -----------------------------------------------------------------------------------
    "err.model_unknown": {
        "en": "No registered model '{model_id}'. Refresh the model list, or register it first.",
        "zh": "没有已注册的模型“{model_id}”。请刷新模型列表，或先注册该模型。",
    },
    "err.model_exists": {
        "en": "Model '{model_id}' is already registered; pick another name or version.",
        "zh": "模型“{model_id}”已注册；请换一个名称或版本。",
    },
    "err.model_invalid": {
        "en": "Invalid model entry — {details}",
        "zh": "模型条目无效 —— {details}",
    },
    "err.model_bad_name": {
        "en": "'{name}' cannot be a model name: use letters, digits, '_', '.' or '-' (no '@' or '/'), at most 100 characters.",
        "zh": "“{name}”不能作为模型名称：只能使用字母、数字、“_”、“.”或“-”（不能含“@”或“/”），最多 100 个字符。",
    },
    "err.model_bad_version": {
        "en": "'{version}' cannot be a version: use something like v1.0 (letters, digits, '.', '_', '-'; no '@').",
        "zh": "“{version}”不能作为版本号：请使用类似 v1.0 的写法（字母、数字、“.”、“_”、“-”，不能含“@”）。",
    },
    "err.model_path_missing": {
        "en": "'{path}' is neither a model folder (with config.json) nor a hub id like 'Qwen/Qwen2.5-7B-Instruct'.",
        "zh": "“{path}”既不是模型目录（含 config.json），也不是形如“Qwen/Qwen2.5-7B-Instruct”的模型仓库名。",
    },
    "err.model_adapter_missing": {
        "en": "'{path}' is not a LoRA adapter folder: it needs adapter_config.json and adapter weights.",
        "zh": "“{path}”不是 LoRA 适配器目录：需要 adapter_config.json 和适配器权重文件。",
    },
    "err.model_adapter_base": {
        "en": "An adapter must sit on a base or merged model, and '{model_id}' is a {kind} entry.",
        "zh": "适配器只能挂在基础模型或合并模型上，而“{model_id}”是 {kind} 类型的条目。",
    },
    "err.model_endpoint_url": {
        "en": "'{url}' cannot be an endpoint URL ({reason}); use e.g. http://127.0.0.1:8000/v1.",
        "zh": "“{url}”不能作为服务地址（{reason}）；示例：http://127.0.0.1:8000/v1。",
    },
    "err.model_endpoint_credentials": {
        "en": "The endpoint URL contains a user name or password; it was not saved. Put the key in an environment variable and give that variable's name instead.",
        "zh": "服务地址中含有用户名或密码，未保存。请把密钥放进环境变量，并填写该变量的名称。",
    },
    "err.model_api_key_env": {
        "en": "The API key field takes the NAME of an environment variable (like OPENAI_API_KEY: capitals, digits, '_'), never the key itself. Nothing was saved.",
        "zh": "API 密钥一栏只填写环境变量的名称（如 OPENAI_API_KEY：大写字母、数字、“_”），不能填写密钥本身。未保存任何内容。",
    },
    "err.model_registry_corrupt": {
        "en": "The model registry {path} cannot be read ({reason}). It was left untouched: fix or move the file, then try again.",
        "zh": "无法读取模型注册表 {path}（{reason}）。文件未被改动：请修复或移走该文件后重试。",
    },
    # --- backends -----------------------------------------------------------------------------------
    "err.backend_unreachable": {
        "en": "Cannot reach the model server at {url}: {reason}. Is it running, and is the address right?",
        "zh": "无法连接模型服务 {url}：{reason}。请确认服务已启动且地址正确。",
    },
    "err.backend_timeout": {
        "en": "The model server at {url} did not answer within {seconds} s.",
        "zh": "模型服务 {url} 在 {seconds} 秒内没有响应。",
    },
    "err.backend_rate_limited": {
        "en": "The model server at {url} is rate limiting requests (HTTP 429); wait a moment and try again.",
        "zh": "模型服务 {url} 正在限流（HTTP 429）；请稍候再试。",
    },
    "err.backend_auth": {
        "en": "The model server at {url} refused the API key (HTTP {status}); check the key in the environment variable {env}.",
        "zh": "模型服务 {url} 拒绝了 API 密钥（HTTP {status}）；请检查环境变量 {env} 中的密钥。",
    },
    "err.backend_key_missing": {
        "en": "The environment variable {env} that should hold this endpoint's API key is not set; set it and restart the app.",
        "zh": "应保存该服务 API 密钥的环境变量 {env} 未设置；请设置后重启应用。",
    },
    "err.backend_not_found": {
        "en": "The model server at {url} does not know model '{model}' or this path (HTTP 404): {detail}",
        "zh": "模型服务 {url} 找不到模型“{model}”或该路径（HTTP 404）：{detail}",
    },
    "err.backend_server_error": {
        "en": "The model server at {url} failed (HTTP {status}): {detail}",
        "zh": "模型服务 {url} 出错（HTTP {status}）：{detail}",
    },
    "err.backend_http": {
        "en": "The model server at {url} refused the request (HTTP {status}): {detail}",
        "zh": "模型服务 {url} 拒绝了请求（HTTP {status}）：{detail}",
    },
    "err.backend_bad_response": {
        "en": "The model server at {url} sent a reply that is not an OpenAI chat completion ({reason}).",
        "zh": "模型服务 {url} 返回的内容不是 OpenAI 格式的对话补全（{reason}）。",
    },
    "err.backend_bad_messages": {
        "en": "The conversation cannot be sent: {reason}.",
        "zh": "无法发送该对话：{reason}。",
    },
    "err.backend_load_failed": {
        "en": "The model at {path} could not be loaded: {reason}",
        "zh": "无法加载模型 {path}：{reason}",
    },
    "err.backend_adapter_failed": {
        "en": "The adapter at {path} could not be loaded onto its base model: {reason}",
        "zh": "无法把适配器 {path} 加载到其基础模型上：{reason}",
    },
    "err.backend_generation_failed": {
        "en": "Generation failed: {reason}",
        "zh": "生成失败：{reason}",
    },
    "err.backend_unsupported": {
        "en": "No generation backend for a model of kind '{kind}'.",
        "zh": "没有可用于“{kind}”类型模型的生成后端。",
    },
}
