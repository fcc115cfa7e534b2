"""Checkpoint selection and weight averaging (the `surgery checkpoints|register-checkpoint|prune|average` commands),
in English and Chinese."""

SURGERY_CKPT: dict[str, dict[str, str]] = {
    "jobs.kind.surgery_average": {"en": "Weight averaging", "zh": "权重平均"},
    # Why a checkpoint is recommended
    "sgc.reason.none": {
        "en": "No complete checkpoint: nothing can be recommended.",
        "zh": "没有完整的检查点：无法推荐。",
    },
    "sgc.reason.score": {
        "en": "Best eval score: {metric} {score} at step {step}.",
        "zh": "评测分数最佳：第 {step} 步的 {metric} 为 {score}。",
    },
    "sgc.reason.eval_loss_before_rise": {
        "en": "Lowest eval loss ({loss}) at step {step}, before it started rising (step {rise}): later checkpoints "
              "look overfitted.",
        "zh": "第 {step} 步验证损失最低（{loss}），之后开始上升（第 {rise} 步）：后面的检查点可能已过拟合。",
    },
    "sgc.reason.eval_loss": {
        "en": "Lowest eval loss ({loss}) at step {step}.",
        "zh": "第 {step} 步验证损失最低（{loss}）。",
    },
    "sgc.reason.last": {
        "en": "No eval loss or eval score was recorded: the last complete checkpoint (step {step}).",
        "zh": "没有记录验证损失或评测分数：选择最后一个完整的检查点（第 {step} 步）。",
    },
    # Flags
    "sgc.flag.incomplete": {"en": "half-written", "zh": "未写完"},
    "sgc.flag.eval_loss_rising": {"en": "eval loss rising", "zh": "验证损失上升"},
    "sgc.flag.overfitting": {"en": "overfitting (train loss falling, eval loss rising)",
                             "zh": "过拟合（训练损失下降、验证损失上升）"},
    "sgc.flag.score_falling": {"en": "eval score falling", "zh": "评测分数持续下降"},
    "sgc.flag.registered": {"en": "registered", "zh": "已注册"},
    # CLI
    "sgc.cli.recommended": {"en": "Recommended: {name}. {reason}", "zh": "推荐：{name}。{reason}"},
    "sgc.cli.registered": {"en": "Registered {name} as {model_id}.", "zh": "已将 {name} 注册为 {model_id}。"},
    "sgc.cli.prune_plan": {
        "en": "Would delete {count} checkpoint(s), freeing {size}; keeping {keep}. To delete, run again with "
              "--confirm {token}",
        "zh": "将删除 {count} 个检查点，释放 {size}；保留 {keep}。确认删除请加上 --confirm {token} 再运行一次",
    },
    "sgc.cli.pruned": {"en": "Deleted {count} checkpoint(s), freed {size}.",
                       "zh": "已删除 {count} 个检查点，释放 {size}。"},
    "sgc.cli.queued": {"en": "Averaging job {job} queued.", "zh": "权重平均任务 {job} 已排队。"},
    # Errors
    "err.sgc_not_a_run": {
        "en": "{run} is an endpoint, not a training run.",
        "zh": "{run} 是一个服务端点，不是训练运行。",
    },
    "err.sgc_no_checkpoints": {
        "en": "The run folder {run} has no checkpoint-N folders.",
        "zh": "运行文件夹 {run} 中没有 checkpoint-N 文件夹。",
    },
    "err.sgc_checkpoint_unknown": {
        "en": "The run {run} has no checkpoint {name}.",
        "zh": "运行 {run} 中没有检查点 {name}。",
    },
    "err.sgc_incomplete": {
        "en": "Checkpoint {name} is half-written (missing: {missing}) and cannot be used.",
        "zh": "检查点 {name} 未写完（缺少：{missing}），不能使用。",
    },
    "err.sgc_base_unknown": {
        "en": "The base model {base} the adapter was trained on is not registered: register it first.",
        "zh": "该适配器训练所用的基础模型 {base} 尚未注册：请先注册它。",
    },
    "err.sgc_prune_token": {
        "en": "Confirmation {token} does not match the current plan for {run}: show the plan again and use its token.",
        "zh": "确认码 {token} 与 {run} 当前的删除计划不符：请重新查看计划并使用其中的确认码。",
    },
    "err.sgc_prune_outside": {
        "en": "Refusing to delete {path}: it is not a checkpoint folder directly inside the run {run}.",
        "zh": "拒绝删除 {path}：它不是运行 {run} 中直接包含的检查点文件夹。",
    },
    "err.sga_too_few": {
        "en": "Averaging needs at least two checkpoints; {count} given.",
        "zh": "权重平均至少需要两个检查点；只给了 {count} 个。",
    },
    "err.sga_decay": {
        "en": "The EMA decay must be between 0 and 1 (exclusive); got {decay}.",
        "zh": "EMA 衰减系数必须在 0 与 1 之间（不含端点）；收到 {decay}。",
    },
    "err.sga_layout": {
        "en": "The checkpoints do not hold the same tensors in the same safetensors files ({path}).",
        "zh": "这些检查点的 safetensors 文件或张量不一致（{path}）。",
    },
    "err.sga_mixed": {
        "en": "The chosen checkpoints of {run} mix adapters and full models.",
        "zh": "所选 {run} 的检查点混合了适配器和完整模型。",
    },
    "err.sga_lora_method": {
        "en": "Unknown LoRA averaging method {method}; known: {known}.",
        "zh": "未知的 LoRA 平均方式 {method}；可选：{known}。",
    },
}
