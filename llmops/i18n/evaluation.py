"""Evaluation strings (sets, metrics, scoring), in English and Chinese."""

EVALUATION: dict[str, dict[str, str]] = {
    # Errors
    "err.ev_run_unknown": {
        "en": "There is no evaluation run '{run}'.",
        "zh": "不存在评测运行“{run}”。",
    },
    "err.ev_unknown_metric": {
        "en": "Unknown metric '{name}'. Known metrics: {known}.",
        "zh": "未知指标“{name}”。可用指标：{known}。",
    },
    "err.ev_bad_option": {
        "en": "Metric '{metric}': option '{option}' cannot be {value}.",
        "zh": "指标“{metric}”：选项“{option}”不能为 {value}。",
    },
    "err.ev_needs_model": {
        "en": "Metric '{metric}' needs a local model: pass its folder (--model).",
        "zh": "指标“{metric}”需要本地模型：请指定模型文件夹（--model）。",
    },
    "err.ev_model_missing": {
        "en": "No model folder with a config.json at {path}.",
        "zh": "{path} 不是包含 config.json 的模型文件夹。",
    },
    "err.ev_no_predictions": {
        "en": "There are no predictions to score.",
        "zh": "没有可评分的预测结果。",
    },
    "err.ev_nothing_to_score": {
        "en": "No sample has what metric(s) {metric} need ({needs}).",
        "zh": "没有样本具备指标 {metric} 所需的字段（{needs}）。",
    },
    "err.ev_predictions_invalid": {
        "en": "{path} cannot be scored: {count} bad line(s).\n{errors}",
        "zh": "{path} 无法评分：有 {count} 行有误。\n{errors}",
    },
    "err.ev_set_suffix": {
        "en": "{path} is not a .jsonl file: an evaluation set is one JSON object per line.",
        "zh": "{path} 不是 .jsonl 文件：评测集每行应为一个 JSON 对象。",
    },
    "err.ev_set_invalid": {
        "en": "{path} is not a usable evaluation set: {count} problem(s).\n{errors}",
        "zh": "{path} 不是可用的评测集：发现 {count} 个问题。\n{errors}",
    },
    "err.ev_set_exists": {
        "en": "An evaluation set named '{name}' already exists; choose another name.",
        "zh": "名为“{name}”的评测集已存在，请换一个名称。",
    },
    "err.ev_set_unknown": {
        "en": "No evaluation set or SFT dataset is called '{name}' (see `eval sets list`).",
        "zh": "没有名为“{name}”的评测集或 SFT 数据集（见 `eval sets list`）。",
    },
    "err.ev_not_sft": {
        "en": "Dataset '{name}' is {format} data; only SFT datasets (alpaca, sharegpt, messages) can serve as evaluation sets.",
        "zh": "数据集“{name}”是 {format} 数据；只有 SFT 数据集（alpaca、sharegpt、messages）可作为评测集。",
    },
    "err.ev_bad_count": {
        "en": "The number of samples must be at least 1 (got {n}).",
        "zh": "样本数至少为 1（当前为 {n}）。",
    },
    "err.ev_bad_fraction": {
        "en": "The held-out fraction must lie strictly between 0 and 1 (got {fraction}).",
        "zh": "留出比例必须在 0 与 1 之间（不含端点，当前为 {fraction}）。",
    },
    "err.ev_split_too_small": {
        "en": "Dataset '{name}' has {samples} sample(s): too few to hold some out and keep some for training.",
        "zh": "数据集“{name}”只有 {samples} 个样本，不足以同时留出评测部分并保留训练部分。",
    },
    # Line-level problems
    "ev.r_sample": {
        "en": "not an evaluation sample: {details}",
        "zh": "不是有效的评测样本：{details}",
    },
    "ev.r_prediction": {
        "en": "not a prediction: {details}",
        "zh": "不是有效的预测结果：{details}",
    },
    "ev.r_no_answer": {
        "en": "the conversation does not alternate user and assistant turns ending on an answer",
        "zh": "对话未按用户、助手轮流进行，或未以助手的回答结束",
    },
    # Version notes
    "ev.note_split_eval": {
        "en": "held-out evaluation part ({fraction} of {parent}, seed {seed})",
        "zh": "留出的评测部分（{parent} 的 {fraction}，随机种子 {seed}）",
    },
    "ev.note_split_train": {
        "en": "training part after holding out {fraction} of {parent} (seed {seed})",
        "zh": "从 {parent} 留出 {fraction} 后的训练部分（随机种子 {seed}）",
    },
    # Metrics: display names and help
    "ev.metric.lf_bleu4": {
        "en": "BLEU-4 (LLaMA-Factory, characters)",
        "zh": "BLEU-4（LLaMA-Factory 口径，按字符）",
    },
    "ev.metric.lf_bleu4.help": {
        "en": "LLaMA-Factory's predict BLEU-4: nltk sentence BLEU over characters, smoothing method 3, ×100 and rounded per sample; the set's figure is the mean. Not comparable with sacreBLEU.",
        "zh": "LLaMA-Factory 预测时的 BLEU-4：nltk 按字符计算的句子级 BLEU（平滑方法 3），每个样本 ×100 并四舍五入后取平均。与 sacreBLEU 不可比。",
    },
    "ev.metric.lf_rouge1": {
        "en": "ROUGE-1 (LLaMA-Factory, jieba words)",
        "zh": "ROUGE-1（LLaMA-Factory 口径，jieba 分词）",
    },
    "ev.metric.lf_rouge1.help": {
        "en": "LLaMA-Factory's ROUGE-1 F-score: rouge-chinese over jieba words, ×100 per sample, averaged.",
        "zh": "LLaMA-Factory 的 ROUGE-1 F 值：基于 jieba 分词的 rouge-chinese，每个样本 ×100 后取平均。",
    },
    "ev.metric.lf_rouge2": {
        "en": "ROUGE-2 (LLaMA-Factory, jieba words)",
        "zh": "ROUGE-2（LLaMA-Factory 口径，jieba 分词）",
    },
    "ev.metric.lf_rouge2.help": {
        "en": "LLaMA-Factory's ROUGE-2 F-score: word bigrams of jieba words, ×100 per sample, averaged.",
        "zh": "LLaMA-Factory 的 ROUGE-2 F 值：jieba 分词后的二元组，每个样本 ×100 后取平均。",
    },
    "ev.metric.lf_rougeL": {
        "en": "ROUGE-L (LLaMA-Factory, jieba words)",
        "zh": "ROUGE-L（LLaMA-Factory 口径，jieba 分词）",
    },
    "ev.metric.lf_rougeL.help": {
        "en": "LLaMA-Factory's ROUGE-L F-score: longest common subsequence of jieba words, ×100 per sample, averaged.",
        "zh": "LLaMA-Factory 的 ROUGE-L F 值：jieba 分词的最长公共子序列，每个样本 ×100 后取平均。",
    },
    "ev.metric.sacrebleu": {
        "en": "BLEU (sacreBLEU, corpus)",
        "zh": "BLEU（sacreBLEU，语料级）",
    },
    "ev.metric.sacrebleu.help": {
        "en": "The standard corpus BLEU of sacreBLEU (tokeniser 'zh' for Chinese sets, '13a' otherwise); per-sample values are sentence BLEU.",
        "zh": "sacreBLEU 的标准语料级 BLEU（中文评测集用 'zh' 分词，其他用 '13a'）；单个样本的值为句子级 BLEU。",
    },
    "ev.metric.exact_match": {
        "en": "Exact match (normalised)",
        "zh": "完全匹配（规范化后）",
    },
    "ev.metric.exact_match.help": {
        "en": "100 when output and reference are equal after NFKC (full/half width), case folding, removing punctuation and collapsing spaces; the set's figure is the percentage.",
        "zh": "输出与参考答案经 NFKC（全角/半角）、忽略大小写、去标点、合并空白后相同记 100；评测集的值为百分比。",
    },
    "ev.metric.accuracy": {
        "en": "Accuracy (label)",
        "zh": "准确率（标签）",
    },
    "ev.metric.accuracy.help": {
        "en": "For samples with a label: the label found in the output, captured by a regex, or the choice letter A-D extracted; the set's figure is the percentage.",
        "zh": "针对带标签的样本：输出中包含标签、正则表达式提取的内容等于标签，或提取出的选项字母（A-D）等于标签；评测集的值为百分比。",
    },
    "ev.metric.perplexity": {
        "en": "Perplexity of references (local model)",
        "zh": "参考答案困惑度（本地模型）",
    },
    "ev.metric.perplexity.help": {
        "en": "exp of the mean loss on the reference answer's tokens under a local model, the prompt masked; lower is better.",
        "zh": "本地模型在参考答案各 token 上的平均损失的指数（提示部分不计）；越低越好。",
    },
    "ev.param.accuracy.mode": {
        "en": "How the answer is found (auto, contains, regex, choice)",
        "zh": "答案的提取方式（auto、contains、regex、choice）",
    },
    "ev.param.accuracy.pattern": {
        "en": "Regular expression capturing the answer (regex mode)",
        "zh": "提取答案的正则表达式（regex 模式）",
    },
    # CLI
    "ev.cli_valid": {
        "en": "{path}: valid evaluation set, {valid} sample(s).",
        "zh": "{path}：有效的评测集，共 {valid} 个样本。",
    },
    "ev.cli_invalid": {
        "en": "{path}: {count} problem(s), {valid} of {total} line(s) valid.",
        "zh": "{path}：发现 {count} 个问题，{total} 行中有 {valid} 行有效。",
    },
    "ev.cli_split": {
        "en": "{dataset}: {train_version} (train, {train} samples, now registered) and {eval_version} (evaluation, {eval} samples; use it as set '{eval_set}').",
        "zh": "{dataset}：{train_version}（训练部分，{train} 个样本，已设为当前注册版本）与 {eval_version}（评测部分，{eval} 个样本；可作为评测集“{eval_set}”使用）。",
    },
}
