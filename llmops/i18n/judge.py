"""LLM-as-judge strings: errors, the default zh/en prompt templates and the rubric's dimensions."""

JUDGE: dict[str, dict[str, str]] = {
    # --- errors -----------------------------------------------------------------------------------------
    "err.ev_judge_template_syntax": {
        "en": "The judge template cannot be read: {reason}. Write literal braces as {{{{ and }}}}.",
        "zh": "无法解析评审模板：{reason}。字面量花括号请写作 {{{{ 和 }}}}。",
    },
    "err.ev_judge_template_field": {
        "en": "The judge template uses the placeholder '{field}', which it cannot fill. Placeholders: {known}.",
        "zh": "评审模板使用了无法填充的占位符“{field}”。可用占位符：{known}。",
    },
    "err.ev_judge_template_missing": {
        "en": "The judge template must contain {needed}, or the judge never sees the answers.",
        "zh": "评审模板必须包含 {needed}，否则评审模型看不到待评回答。",
    },
    "err.ev_judge_bad_dimension": {
        "en": "'{name}' cannot be a rubric dimension: use letters, digits and _ only, each name once, never 'reason'.",
        "zh": "“{name}”不能作为评分维度：只能使用字母、数字和 _，每个名称只出现一次，且不能是“reason”。",
    },
    "err.ev_judge_unknown_model": {
        "en": "The judge pair names model '{model}', which is not in this run ({models}).",
        "zh": "评审对比组中的模型“{model}”不在本次运行中（{models}）。",
    },
    "err.ev_judge_same_model": {
        "en": "A judge pair compares two different models, not '{model}' with itself.",
        "zh": "评审对比组应包含两个不同的模型，不能将“{model}”与其自身比较。",
    },
    "err.ev_judge_needs_two": {
        "en": "Pairwise judging needs at least two models in the run; this one has {count}.",
        "zh": "两两对比评审需要运行中至少有两个模型；本次运行只有 {count} 个。",
    },
    "err.ev_judge_spec_invalid": {
        "en": "Invalid judge settings — {details}",
        "zh": "评审设置无效 —— {details}",
    },
    "err.ev_judge_no_answers": {
        "en": "Run '{run}' has no answers to judge yet: generate its predictions first.",
        "zh": "运行“{run}”还没有可评审的回答：请先生成预测结果。",
    },
    # --- CLI --------------------------------------------------------------------------------------------
    "ev.judge_cli_done": {
        "en": "Judge {model} ({mode}): {judged} judged, {failures} failed, {new} new this time.",
        "zh": "评审模型 {model}（{mode}）：已评 {judged} 条，失败 {failures} 条，本次新增 {new} 条。",
    },
    "ev.judge_cli_audit": {
        "en": "Position bias {bias}; agreement with humans {agreement}, kappa {kappa} over {overlap} pair(s).",
        "zh": "位置偏差 {bias}；与人工投票一致率 {agreement}，kappa {kappa}，重叠 {overlap} 组。",
    },
    # --- prompt pieces ----------------------------------------------------------------------------------
    "ev.judge_no_reference": {
        "en": "(no reference answer)",
        "zh": "（无参考答案）",
    },
    "ev.judge_reason_hint": {
        "en": "<one or two sentences on why>",
        "zh": "<一两句理由>",
    },
    "ev.judge_tpl_single": {
        "en": (
            "You are an impartial judge of answers written by an AI assistant.\n\n"
            "[Question]\n{question}\n\n"
            "[Reference answer]\n{reference}\n\n"
            "[Assistant's answer]\n{answer}\n\n"
            "Grade the assistant's answer on each dimension below with an integer from 1 (very poor) "
            "to 5 (excellent):\n{dimensions}\n\n"
            "Reply with only a JSON object and nothing else, in this form:\n{format}"
        ),
        "zh": (
            "你是一名公正的评审，负责评价 AI 助手写出的回答。\n\n"
            "[问题]\n{question}\n\n"
            "[参考答案]\n{reference}\n\n"
            "[助手的回答]\n{answer}\n\n"
            "请按下列每个维度为助手的回答打分，分值为 1（很差）到 5（优秀）的整数：\n{dimensions}\n\n"
            "只回复一个 JSON 对象，不要有其他任何内容，格式如下：\n{format}"
        ),
    },
    "ev.judge_tpl_pair": {
        "en": (
            "You are an impartial judge comparing two answers that AI assistants wrote to the same question.\n"
            "Decide which answer is better: more accurate, relevant, fluent and professional. Do not let the "
            "order in which the answers are shown or their length sway you.\n\n"
            "[Question]\n{question}\n\n"
            "[Reference answer]\n{reference}\n\n"
            "[Answer A]\n{answer_a}\n\n"
            "[Answer B]\n{answer_b}\n\n"
            "Reply with only a JSON object and nothing else, in this form:\n{format}\n"
            "where \"winner\" is \"A\" when answer A is better, \"B\" when answer B is better, "
            "and \"tie\" when they are equally good."
        ),
        "zh": (
            "你是一名公正的评审，负责比较两个 AI 助手对同一问题写出的回答。\n"
            "请判断哪个回答更好：更准确、更切题、更流畅、更专业。不要受回答的展示顺序或长度影响。\n\n"
            "[问题]\n{question}\n\n"
            "[参考答案]\n{reference}\n\n"
            "[回答 A]\n{answer_a}\n\n"
            "[回答 B]\n{answer_b}\n\n"
            "只回复一个 JSON 对象，不要有其他任何内容，格式如下：\n{format}\n"
            "其中 \"winner\" 为 \"A\" 表示回答 A 更好，\"B\" 表示回答 B 更好，\"tie\" 表示两者一样好。"
        ),
    },
    # --- rubric dimensions ------------------------------------------------------------------------------
    "ev.judge_dim.accuracy": {"en": "Accuracy", "zh": "准确性"},
    "ev.judge_dim.relevance": {"en": "Relevance", "zh": "相关性"},
    "ev.judge_dim.fluency": {"en": "Fluency", "zh": "流畅性"},
    "ev.judge_dim.professionalism": {"en": "Professionalism", "zh": "专业性"},
    "ev.judge_dimdesc.accuracy": {
        "en": "the facts are right and agree with the reference answer",
        "zh": "内容事实正确，与参考答案一致",
    },
    "ev.judge_dimdesc.relevance": {
        "en": "it answers the question that was asked, without drifting off topic",
        "zh": "回答了所提的问题，不跑题",
    },
    "ev.judge_dimdesc.fluency": {
        "en": "it reads naturally, with correct grammar and clear structure",
        "zh": "语言自然通顺，语法正确，结构清晰",
    },
    "ev.judge_dimdesc.professionalism": {
        "en": "the tone, terms and level of detail suit an expert audience",
        "zh": "语气、术语和详略程度符合专业场景",
    },
}
