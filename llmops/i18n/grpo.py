"""GRPO strings: refusals, the built-in rewards' names and help, and the GRPO form, in English and Chinese."""

GRPO = {
    # refusals
    "err.grpo.reward_unknown": {"en": "Unknown reward function {name}; built in: {known}.",
                                "zh": "未知的奖励函数 {name}；内置的有：{known}。"},
    "err.grpo.reward_param": {"en": "Reward {name} has no parameter(s) {params}.",
                              "zh": "奖励函数 {name} 没有参数 {params}。"},
    "err.grpo.no_reward": {"en": "Choose at least one reward function (built in or your own file).",
                           "zh": "请至少选择一个奖励函数（内置的或自己的文件）。"},
    "err.grpo.config_invalid": {"en": "The GRPO settings were refused: {details}",
                                "zh": "GRPO 设置不被接受：{details}"},
    "err.grpo.dataset_shape": {"en": "Dataset {name} cannot be used for GRPO: {path} lacks {missing} (each row needs "
                                     "prompt and solution).",
                               "zh": "数据集 {name} 不能用于 GRPO：{path} 缺少 {missing}（每行都需要 prompt 和 solution）。"},
    "err.grpo.dataset_not_local": {"en": "Dataset {name} must be a local .json or .jsonl file for GRPO.",
                                   "zh": "GRPO 的数据集 {name} 必须是本地 .json 或 .jsonl 文件。"},
    "err.grpo.reward_file_syntax": {"en": "Reward file {reference}: write it as path/to/file.py:function_name.",
                                    "zh": "奖励函数文件 {reference}：请写成 path/to/file.py:函数名。"},
    "err.grpo.reward_file_outside": {"en": "Reward file {path} lies outside the allowed folders; its code is not run.",
                                     "zh": "奖励函数文件 {path} 位于允许的目录之外；不会运行其中的代码。"},
    "err.grpo.reward_file_missing": {"en": "Reward file {path} does not exist or is not a .py file.",
                                     "zh": "奖励函数文件 {path} 不存在或不是 .py 文件。"},
    "err.grpo.reward_function_missing": {"en": "{path} defines no top-level function {function}.",
                                         "zh": "{path} 中没有顶层函数 {function}。"},
    "err.grpo.model_adapter": {"en": "{model} is an adapter version; GRPO starts from a base or merged model (merge the "
                                     "adapter first).",
                               "zh": "{model} 是适配器版本；GRPO 需要从基础模型或合并后的模型开始（请先合并适配器）。"},
    "err.grpo.yaml_invalid": {"en": "{path} is not a GRPO config: {details}",
                              "zh": "{path} 不是 GRPO 配置：{details}"},
    # built-in rewards
    "grpo.reward.exact_answer": {"en": "Exact final answer", "zh": "最终答案完全正确"},
    "grpo.reward.exact_answer.help": {
        "en": "1 when the final answer (after ####, else the last \\boxed{}, else the last number) equals the "
              "solution's; numbers compare as numbers.",
        "zh": "最终答案（#### 之后，否则最后一个 \\boxed{}，否则最后一个数字）与参考答案相同得 1 分；数字按数值比较。"},
    "grpo.reward.format": {"en": "Output format", "zh": "输出格式"},
    "grpo.reward.format.help": {"en": "1 when the whole completion matches the pattern (default "
                                      "<think>…</think><answer>…</answer>).",
                                "zh": "整段输出匹配该正则时得 1 分（默认 <think>…</think><answer>…</answer>）。"},
    "grpo.reward.length": {"en": "Length", "zh": "长度"},
    "grpo.reward.length.help": {"en": "1 at the target length in characters, falling to 0 at zero or twice the target.",
                                "zh": "正好达到目标字符数得 1 分，长度为 0 或目标两倍时降为 0。"},
}
GRPO.update({
    "ui.chart.grpo_reward": {"en": "reward (mean)", "zh": "奖励（平均）"},
    "ui.chart.grpo_kl": {"en": "KL", "zh": "KL 散度"},
    "ui.chart.grpo_length": {"en": "completion length", "zh": "生成长度"},
})
