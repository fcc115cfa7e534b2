"""Evaluation inside the loop (eval sets while training, the regression gate, benchmarks), in English and Chinese."""

EVAL_LOOP: dict[str, dict[str, str]] = {
    # Evaluation while training
    "ui.section.eval": {"en": "Evaluation while training", "zh": "训练中评估"},
    "ui.field.eval_dataset": {"en": "Eval datasets", "zh": "评估数据集"},
    "ui.field.eval_dataset.info": {
        "en": "Registered datasets (comma-separated) scored every N steps; leave the validation fraction at 0.",
        "zh": "每 N 步评估的已注册数据集（逗号分隔）；此时验证集比例须为 0。",
    },
    "err.train.eval_both": {
        "en": "Choose either eval datasets or a validation fraction, not both (LLaMA-Factory refuses the pair).",
        "zh": "评估数据集与验证集比例只能二选一（LLaMA-Factory 不接受两者同时设置）。",
    },
}
