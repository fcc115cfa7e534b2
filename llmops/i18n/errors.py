"""Error messages: what went wrong and what to do, in English and Chinese."""

ERRORS: dict[str, dict[str, str]] = {
    "err.unsafe_name": {
        "en": "Invalid {what} '{name}': use letters, digits, '-', '_' or '.', without '/' or '..'.",
        "zh": "{what}“{name}”无效：只能使用字母、数字、汉字、“-”“_”“.”，不能包含“/”或“..”。",
    },
    "err.path_escape": {
        "en": "The {what} '{path}' points outside the workspace ({root}).",
        "zh": "{what}“{path}”指向工作区（{root}）之外，已拒绝。",
    },
    "err.dataset_info_corrupt": {
        "en": "{path} is not valid JSON ({reason}); fix or restore it — it was left untouched.",
        "zh": "{path} 不是有效的 JSON（{reason}）；请修复或恢复，文件未被改动。",
    },
    "err.dataset_entry_invalid": {
        "en": "Dataset entry refused: {reason}.",
        "zh": "数据集条目无效：{reason}。",
    },
    "err.dataset_exists": {
        "en": "A dataset named '{name}' is already registered with different settings; choose another name.",
        "zh": "已存在名为“{name}”且配置不同的数据集，请换一个名称。",
    },
    "err.dataset_unknown": {
        "en": "Dataset '{name}' is not registered in dataset_info.json.",
        "zh": "数据集“{name}”未在 dataset_info.json 中注册。",
    },
    "err.dataset_wrong_kind": {
        "en": "Dataset '{name}' holds {kind} data, but stage {stage} needs {wanted} data.",
        "zh": "数据集“{name}”是 {kind} 类型，而 {stage} 阶段需要 {wanted} 类型的数据。",
    },
    "err.dataset_file_missing": {
        "en": "Dataset '{name}' points to {path}, which does not exist.",
        "zh": "数据集“{name}”指向的文件 {path} 不存在。",
    },
    "err.dataset_shape": {
        "en": "{path}: {reason}.",
        "zh": "{path}：{reason}。",
    },
    "err.job_bad_argv": {
        "en": "A job needs a non-empty list of arguments.",
        "zh": "任务需要非空的参数列表。",
    },
    "err.job_secret_env": {
        "en": "Refusing to store secret-looking variables ({keys}) in the job table; set them in the environment.",
        "zh": "拒绝把疑似密钥的变量（{keys}）写入任务表，请通过环境变量提供。",
    },
    "err.job_unknown": {
        "en": "No job with id '{job_id}'.",
        "zh": "不存在编号为“{job_id}”的任务。",
    },
    "err.stage_unknown": {
        "en": "Unknown stage '{stage}': choose pt, sft or dpo.",
        "zh": "未知训练阶段“{stage}”：请选择 pt、sft 或 dpo。",
    },
    "err.config_invalid": {
        "en": "Invalid training settings — {details}",
        "zh": "训练参数无效 —— {details}",
    },
    "err.template_unknown": {
        "en": "Unknown chat template '{template}'; pick one LLaMA-Factory knows (e.g. qwen, llama3, chatml).",
        "zh": "未知对话模板“{template}”；请选择 LLaMA-Factory 支持的模板（如 qwen、llama3、chatml）。",
    },
    "err.model_missing": {
        "en": "Model '{model}' is neither an existing folder nor a hub id like 'Qwen/Qwen2.5-7B-Instruct'.",
        "zh": "模型“{model}”既不是已存在的目录，也不是形如“Qwen/Qwen2.5-7B-Instruct”的模型仓库名。",
    },
    "err.model_not_a_model": {
        "en": "{path} exists but has no config.json, so it is not a model folder.",
        "zh": "{path} 存在，但缺少 config.json，不是模型目录。",
    },
    "err.output_not_empty": {
        "en": "Output folder {path} already has files; choose another run name so nothing is overwritten.",
        "zh": "输出目录 {path} 已有文件；请换一个运行名称，以免覆盖已有结果。",
    },
    "err.needs_gpu": {
        "en": "{feature} needs a CUDA GPU, and none is visible here. Save the config and run it on a GPU machine.",
        "zh": "{feature} 需要 CUDA GPU，但本机没有可用 GPU。请保存配置后在 GPU 机器上运行。",
    },
    "err.yaml_missing": {
        "en": "Config file {path} does not exist.",
        "zh": "配置文件 {path} 不存在。",
    },
    "err.yaml_invalid": {
        "en": "Config file {path} cannot be used: {reason}.",
        "zh": "配置文件 {path} 无法使用：{reason}。",
    },
    "err.lf_missing": {
        "en": "llamafactory-cli was not found; run `make run` so the environment is set up.",
        "zh": "未找到 llamafactory-cli；请运行 `make run` 以安装环境。",
    },
    "err.demo_no_text": {
        "en": "Too little text to train the demo tokenizer in {sources}.",
        "zh": "{sources} 中文本太少，无法训练演示分词器。",
    },
    "err.set_syntax": {
        "en": "--set expects KEY=VALUE, got '{item}'.",
        "zh": "--set 需要 KEY=VALUE 格式，收到“{item}”。",
    },
    "err.set_unknown_key": {
        "en": "Unknown setting '{key}'. Known: {known}.",
        "zh": "未知参数“{key}”。可用参数：{known}。",
    },
    "err.empty_field": {
        "en": "Please fill in: {field}.",
        "zh": "请填写：{field}。",
    },
    "err.planner_size_unknown": {
        "en": "Cannot tell the size of '{model}'; enter its parameter count (in billions).",
        "zh": "无法识别“{model}”的规模，请填写参数量（单位：十亿）。",
    },
    "err.planner_bad_gpus": {
        "en": "GPU count must be at least 1 and GPU memory above 0.",
        "zh": "GPU 数量至少为 1，显存必须大于 0。",
    },
    "err.adapter_missing": {
        "en": "{path} is not a LoRA adapter folder (no adapter_config.json).",
        "zh": "{path} 不是 LoRA 适配器目录（缺少 adapter_config.json）。",
    },
    "err.arena_need_two": {
        "en": "The arena needs at least two registered models; add one in the Models panel.",
        "zh": "对战至少需要两个已注册模型，请先在“模型”面板中添加。",
    },
    "err.arena_same_model": {
        "en": "Pick two different models.",
        "zh": "请选择两个不同的模型。",
    },
    "err.arena_empty_prompt": {
        "en": "Type a prompt first.",
        "zh": "请先输入提示词。",
    },
    "err.arena_unknown_round": {
        "en": "This session was not shown that pair; generate answers before voting.",
        "zh": "本会话没有展示过这组回答，请先生成回答再投票。",
    },
    "err.arena_not_ready": {
        "en": "Both answers must finish without errors before a vote.",
        "zh": "两个回答都成功生成后才能投票。",
    },
    "err.arena_bad_choice": {
        "en": "Unknown vote '{choice}': use left, right, tie or both_bad.",
        "zh": "未知投票“{choice}”：请使用 left、right、tie 或 both_bad。",
    },
    "err.loop_endpoint_base": {
        "en": "{model} is an HTTP endpoint; a DPO round needs local weights (a base, adapter or merged version).",
        "zh": "{model} 是 HTTP 接口，DPO 轮次需要本地权重（基座、适配器或合并模型版本）。",
    },
    "err.loop_job_not_done": {
        "en": "Job {job_id} is {status}; only a completed DPO job becomes a new version.",
        "zh": "任务 {job_id} 状态为 {status}；只有已完成的 DPO 任务才能注册为新版本。",
    },
}
