"""Messages of corpus building, instruction data generation and mock preferences, in English and Chinese."""

DATAGEN: dict[str, dict[str, str]] = {
    # Errors
    "err.gen_corpus_empty": {
        "en": "No chunk survived the corpus filters ({chunks} chunks before filtering); nothing was written or "
              "registered. Loosen the quality thresholds or add documents.",
        "zh": "没有任何文本块通过语料过滤（过滤前共 {chunks} 块），未写入也未注册任何数据。请放宽质量阈值或补充文档。",
    },
    "err.gen_out_suffix": {
        "en": "The output file '{path}' must end in {suffix}.",
        "zh": "输出文件“{path}”的扩展名必须是 {suffix}。",
    },
    "err.gen_out_exists": {
        "en": "'{path}' already exists and is never overwritten; choose another output file.",
        "zh": "“{path}”已存在，不会被覆盖；请换一个输出文件。",
    },
    "err.gen_corpus_missing": {
        "en": "'{corpus}' is neither a corpus file, a document folder nor a registered dataset.",
        "zh": "“{corpus}”既不是语料文件或文档目录，也不是已注册的数据集。",
    },
    "err.gen_corpus_unreadable": {
        "en": "The corpus file {path} is not valid JSON: {reason}.",
        "zh": "语料文件 {path} 不是有效的 JSON：{reason}。",
    },
    "err.gen_corpus_no_text": {
        "en": "{path} holds no records with a non-empty \"text\" field.",
        "zh": "{path} 中没有任何带非空 \"text\" 字段的记录。",
    },
    "err.gen_no_pairs_rules": {
        "en": "No question/answer pair could be made from the {sections} sections of this corpus (skipped: "
              "{skipped}); nothing was written or registered. Rule-based generation needs sections with headings "
              "(build the corpus from Markdown or HTML documents).",
        "zh": "无法从该语料的 {sections} 个章节中生成任何问答对（跳过：{skipped}），未写入也未注册任何数据。"
              "基于规则的生成需要带标题的章节（请用 Markdown 或 HTML 文档构建语料）。",
    },
    "err.gen_options_invalid": {
        "en": "Invalid generation settings — {details}",
        "zh": "生成参数无效 —— {details}",
    },
    "err.gen_bad_base_url": {
        "en": "The base URL '{url}' must start with http:// or https:// (for example http://127.0.0.1:8000/v1).",
        "zh": "接口地址“{url}”必须以 http:// 或 https:// 开头（例如 http://127.0.0.1:8000/v1）。",
    },
    "err.gen_model_required": {
        "en": "Name the model the endpoint serves.",
        "zh": "请填写接口所提供的模型名称。",
    },
    "err.gen_llm_args": {
        "en": "LLM generation needs {missing}.",
        "zh": "使用大模型生成时必须提供 {missing}。",
    },
    "err.gen_api_key_env_missing": {
        "en": "The environment variable {name} is not set. Export the API key there; it is read into memory only "
              "and never saved.",
        "zh": "环境变量 {name} 未设置。请将 API 密钥写入该变量；密钥只保存在内存中，不会被保存到任何地方。",
    },
    "err.gen_llm_aborted": {
        "en": "Generation was abandoned because the endpoint refused or could not be reached ({reason}); nothing "
              "was written or registered. Check that the server is running, and the base URL, model name and API key.",
        "zh": "接口拒绝请求或无法连接（{reason}），生成已中止，未写入也未注册任何数据。请确认服务已启动，并检查接口地址、"
              "模型名称和 API 密钥。",
    },
    "err.gen_no_pairs_llm": {
        "en": "The model produced no usable question/answer pair, so nothing was written or registered: "
              "{chunks} chunks, {requests} requests, {ok} usable, {malformed} malformed answers, {failed} failed, "
              "{skipped} not sent. Malformed answers mean the model does not follow the JSON instruction; use a larger "
              "instruction model.",
        "zh": "模型没有产出任何可用的问答对，因此未写入也未注册任何数据：共 {chunks} 个文本块、{requests} 次请求，"
              "可用 {ok} 个，格式错误 {malformed} 个，失败 {failed} 个，未发送 {skipped} 个。格式错误说明模型未按要求输出 "
              "JSON，请改用更大的指令模型。",
    },
    "err.gen_sft_missing": {
        "en": "'{sft}' is neither an instruction data file (.json/.jsonl) nor a registered dataset.",
        "zh": "“{sft}”既不是指令数据文件（.json/.jsonl），也不是已注册的数据集。",
    },
    "err.gen_sft_kind": {
        "en": "Dataset '{name}' is {kind} data; mock preferences are made from instruction (SFT, alpaca) data.",
        "zh": "数据集“{name}”是 {kind} 类型；模拟偏好数据只能由指令数据（SFT，alpaca 格式）生成。",
    },
    "err.gen_sft_unreadable": {
        "en": "{path} is not valid JSON: {reason}.",
        "zh": "{path} 不是有效的 JSON：{reason}。",
    },
    "err.gen_sft_empty": {
        "en": "{path} holds no record with both an instruction and an output.",
        "zh": "{path} 中没有同时包含指令和回答的记录。",
    },
    "err.gen_limit_invalid": {
        "en": "The limit must be at least 1 (got {limit}).",
        "zh": "数量上限至少为 1（当前为 {limit}）。",
    },
    # Results and labels
    "gen.corpus_done": {
        "en": "Corpus '{name}': {records} records, {tokens} tokens, written to {path} and registered for pre-training.",
        "zh": "语料“{name}”：{records} 条记录，{tokens} 个 token，已写入 {path} 并注册为预训练数据。",
    },
    "gen.sft_done": {
        "en": "{pairs} question/answer pairs written to {path} and registered as '{name}'.",
        "zh": "{pairs} 个问答对已写入 {path}，并注册为“{name}”。",
    },
    "gen.llm_progress": {
        "en": "{done}/{total} chunks: {ok} usable, {malformed} malformed, {failed} failed",
        "zh": "{done}/{total} 个文本块：可用 {ok}，格式错误 {malformed}，失败 {failed}",
    },
    "gen.llm_stopped": {
        "en": "Stopped early; the {pairs} pairs made so far were kept.",
        "zh": "已提前停止；已生成的 {pairs} 个问答对均已保留。",
    },
    "gen.mock_done": {
        "en": "{count} synthetic preference votes appended to {path} (session {session}).",
        "zh": "已向 {path} 追加 {count} 条合成偏好投票（会话 {session}）。",
    },
    "gen.mode.rules": {
        "en": "From document structure (no model needed)",
        "zh": "根据文档结构生成（无需模型）",
    },
    "gen.mode.llm": {
        "en": "With a model behind an OpenAI-compatible endpoint",
        "zh": "调用 OpenAI 兼容接口上的模型生成",
    },
    "gen.preset_sources": {
        "en": "Shipped sample documents (PV station O&M, Chinese and English)",
        "zh": "内置示例文档（光伏电站运维，中英文）",
    },
    "gen.api_key_note": {
        "en": "The API key is read from the environment variable you name and kept in memory only; it is never "
              "saved, logged or shown.",
        "zh": "API 密钥从你指定的环境变量读取，只保存在内存中，不会被保存、记录或显示。",
    },
    "gen.stop": {
        "en": "Stop (keep the pairs made so far)",
        "zh": "停止（保留已生成的问答对）",
    },
    "gen.degrade.truncate": {"en": "cut off mid-sentence", "zh": "句子中途截断"},
    "gen.degrade.shuffle_drop": {"en": "sentences dropped and shuffled", "zh": "删句并打乱顺序"},
    "gen.degrade.number": {"en": "a number changed", "zh": "篡改一个数字"},
    "gen.degrade.vague": {"en": "vague generic answer", "zh": "空泛的通用回答"},
}
