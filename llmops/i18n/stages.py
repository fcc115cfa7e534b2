"""Reward model, PPO, KTO and preference-loss strings: stage names, their fields and refusals, in English and Chinese."""

# field: (label en, label zh, help en, help zh)
_FIELDS = {
    "reward_model": ("Reward model", "奖励模型",
                     "A registered version trained with the RM stage (adapter or full), or a local folder.",
                     "用 RM 阶段训练并已登记的版本（适配器或全参数），或本地目录。"),
    "pref_ftx": ("SFT loss weight", "SFT 损失系数",
                 "Adds the supervised loss on the preferred answers (0 = off).", "在偏好答案上叠加监督损失（0 表示关闭）。"),
    "simpo_gamma": ("SimPO gamma (target margin)", "SimPO gamma（目标间隔）",
                    "Used by the SimPO loss only.", "仅 SimPO 损失使用。"),
    "dpo_label_smoothing": ("Label smoothing (cDPO)", "标签平滑（cDPO）",
                            "Robust DPO for noisy votes, 0–0.5; sigmoid loss only.", "应对噪声投票的稳健 DPO，0–0.5；仅 sigmoid 损失。"),
    "kto_chosen_weight": ("Desirable weight", "正例权重",
                          "Weight of the desirable (kto_tag true) losses.", "正例（kto_tag 为 true）损失的权重。"),
    "kto_rejected_weight": ("Undesirable weight", "负例权重",
                            "Weight of the undesirable (kto_tag false) losses.", "负例（kto_tag 为 false）损失的权重。"),
    "ppo_epochs": ("PPO epochs per step", "每步 PPO 轮数",
                   "Optimisation passes over each batch of samples.", "每批采样上的优化轮数。"),
    "ppo_buffer_size": ("PPO buffer (mini-batches)", "PPO 经验缓冲（小批数）",
                        "Mini-batches collected before each optimisation step.", "每次优化前收集的小批数量。"),
    "ppo_target": ("Target KL", "目标 KL",
                   "Adaptive KL control aims at this value.", "自适应 KL 控制的目标值。"),
    "ppo_score_norm": ("Normalise scores", "奖励分数归一化",
                       "Normalise the reward model's scores.", "对奖励模型的分数做归一化。"),
    "ppo_whiten_rewards": ("Whiten rewards", "奖励白化",
                           "Whiten rewards before computing advantages.", "计算优势前对奖励做白化。"),
}

# chart series: (en, zh)
_SERIES = {
    "reward": ("reward", "奖励"), "rewards/margins": ("reward margin", "奖励间隔"),
    "rewards/chosen": ("chosen reward", "正例奖励"), "rewards/rejected": ("rejected reward", "负例奖励"),
    "kl": ("KL", "KL"), "eval_accuracy": ("eval accuracy", "评估准确率"),
    "odds_ratio_loss": ("odds-ratio loss", "比值比损失"), "completion_length": ("completion length", "生成长度"),
}

STAGES_I18N: dict[str, dict[str, str]] = {
    "ui.stage.rm": {"en": "RM (reward model)", "zh": "RM（奖励模型）"},
    "ui.stage.ppo": {"en": "PPO (reinforcement)", "zh": "PPO（强化学习）"},
    "ui.stage.kto": {"en": "KTO (single-answer feedback)", "zh": "KTO（单答案反馈）"},
    "ui.section.stage": {"en": "Stage parameters (losses, KTO, PPO)", "zh": "阶段参数（损失、KTO、PPO）"},
    "ui.section.distributed": {"en": "Distributed (LLaMA-Factory's Ray mode)", "zh": "分布式（LLaMA-Factory 的 Ray 模式）"},
    "ui.btn.kto_export": {"en": "Make KTO data from A/B votes", "zh": "用 A/B 投票生成 KTO 数据"},
    "ui.status.kto_exported": {
        "en": "{count} examples ({pairs} votes) written to `{path}`, registered as dataset `{name}`.",
        "zh": "已写入 {count} 条样本（{pairs} 次投票）到 `{path}`，并登记为数据集 `{name}`。",
    },
    "err.stage.ppo_reward_model": {
        "en": "PPO needs a reward model: choose a registered version trained with the RM stage (or a folder).",
        "zh": "PPO 需要奖励模型：请选择用 RM 阶段训练并已登记的版本（或一个目录）。",
    },
    "err.stage.ppo_reward_lora": {
        "en": "A LoRA reward model can score only a LoRA PPO run; choose a full reward model for full or freeze PPO.",
        "zh": "LoRA 奖励模型只能用于 LoRA 方式的 PPO；全参数或冻结方式的 PPO 请选择全参数奖励模型。",
    },
    "err.stage.reward_model_stage": {
        "en": "A reward model is used only by the PPO stage.",
        "zh": "奖励模型仅用于 PPO 阶段。",
    },
    "err.stage.label_smoothing_loss": {
        "en": "Label smoothing works only with the sigmoid (DPO) loss; set it to 0 for other losses.",
        "zh": "标签平滑只适用于 sigmoid（DPO）损失；其他损失请设为 0。",
    },
    "err.stage.kto_no_tag": {
        "en": "Dataset '{name}' ({kind} data) has no kto_tag column, which KTO needs: each row one answer marked "
              "desirable (true) or undesirable (false). Make one from A/B votes (python -m llmops prefs export-kto).",
        "zh": "数据集“{name}”（{kind} 类型）没有 KTO 所需的 kto_tag 列：每行一个答案，标记为正例（true）或负例（false）。"
              "可用 A/B 投票生成（python -m llmops prefs export-kto）。",
    },
    "err.stage.kto_tag_value": {
        "en": "{path}: the {column} column must be true or false, not {value}.",
        "zh": "{path}：{column} 列必须是 true 或 false，而不是 {value}。",
    },
    "err.stage.reward_not_model": {
        "en": "Version '{model}' cannot serve as a reward model: it is a {kind} with no local weights.",
        "zh": "版本“{model}”不能作为奖励模型：它是 {kind}，没有本地权重。",
    },
    "err.stage.ppo_engine": {
        "en": "LLaMA-Factory's PPO needs trl {wanted}, but this environment has trl {found}; the config can be saved "
              "and run where that trl is installed.",
        "zh": "LLaMA-Factory 的 PPO 需要 trl {wanted}，而当前环境是 trl {found}；可以保存配置，在装有该版本 trl 的环境中运行。",
    },
}
for _name, (_en, _zh, _help_en, _help_zh) in _FIELDS.items():
    STAGES_I18N[f"ui.field.{_name}"] = {"en": _en, "zh": _zh}
    STAGES_I18N[f"ui.field.{_name}.info"] = {"en": _help_en, "zh": _help_zh}
for _series, (_en, _zh) in _SERIES.items():
    STAGES_I18N[f"ui.chart.{_series}"] = {"en": _en, "zh": _zh}
