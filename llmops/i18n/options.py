"""Display names of option values (the value itself is what the YAML holds), keyed ui.opt.<field>.<value>."""

_OPTS = {
    "finetuning_type": {"lora": ("LoRA", "LoRA（低秩适配）"), "full": ("full", "全参数"), "freeze": ("freeze", "冻结部分层")},
    "quantization_bit": {"none": ("none", "不量化"), "8": ("8-bit", "8 位"), "4": ("4-bit", "4 位")},
    "precision": {"auto": ("auto", "自动"), "bf16": ("bf16", "bf16"), "fp16": ("fp16", "fp16"), "fp32": ("fp32", "fp32")},
    "deepspeed": {"none": ("none", "不使用"), "z2": ("ZeRO-2", "ZeRO-2"), "z2_offload": ("ZeRO-2 + offload", "ZeRO-2 + 卸载"),
                  "z3": ("ZeRO-3", "ZeRO-3"), "z3_offload": ("ZeRO-3 + offload", "ZeRO-3 + 卸载")},
    "report_to": {"none": ("none", "不上报"), "tensorboard": ("TensorBoard", "TensorBoard"),
                  "wandb": ("Weights & Biases", "Weights & Biases"), "mlflow": ("MLflow", "MLflow"),
                  "swanlab": ("SwanLab", "SwanLab")},
    "lr_scheduler_type": {"cosine": ("cosine", "余弦"), "linear": ("linear", "线性"), "constant": ("constant", "恒定"),
                          "constant_with_warmup": ("constant with warmup", "预热后恒定"),
                          "polynomial": ("polynomial", "多项式"),
                          "cosine_with_restarts": ("cosine with restarts", "带重启的余弦"),
                          "inverse_sqrt": ("inverse square root", "平方根倒数")},
    "rope_scaling": {"none": ("none", "不缩放"), "linear": ("linear", "线性"), "dynamic": ("dynamic NTK", "动态 NTK"),
                     "yarn": ("YaRN", "YaRN"), "llama3": ("Llama 3", "Llama 3 方式")},
    "flash_attn": {"auto": ("auto", "自动"), "disabled": ("eager (disabled)", "关闭（eager）"), "sdpa": ("SDPA", "SDPA"),
                   "fa2": ("FlashAttention-2", "FlashAttention-2")},
    "galore_proj_type": {"std": ("std", "标准"), "reverse_std": ("reverse std", "反向标准"), "right": ("right", "右投影"),
                         "left": ("left", "左投影"), "full": ("full", "双侧")},
    "badam_mode": {"layer": ("by layer", "按层"), "ratio": ("by ratio", "按比例")},
    "badam_switch_mode": {"ascending": ("ascending", "升序"), "descending": ("descending", "降序"),
                          "random": ("random", "随机"), "fixed": ("fixed", "固定")},
    "pref_loss": {"sigmoid": ("sigmoid (DPO)", "sigmoid（DPO）"), "ipo": ("IPO", "IPO"), "hinge": ("hinge", "hinge（铰链）"),
                  "orpo": ("ORPO (no reference)", "ORPO（无参考模型）"),
                  "simpo": ("SimPO (no reference)", "SimPO（无参考模型）")},
    "gen_mode": {"rules": ("rules (no model)", "规则（无需模型）"), "llm": ("LLM endpoint", "大模型接口")},
    "dedup_mode": {"exact": ("exact", "完全相同"), "near": ("near-duplicate", "近似重复")},
    "source": {"all": ("all", "全部"), "human": ("human", "人工"), "synthetic": ("synthetic", "合成")},
    "format": {"auto": ("detect", "自动识别"), "pt": ("plain text (pre-training)", "纯文本（预训练）"),
               "alpaca": ("Alpaca", "Alpaca"), "sharegpt": ("ShareGPT", "ShareGPT"),
               "messages": ("OpenAI messages", "OpenAI messages"), "preference": ("preference pairs", "偏好对")},
    "lang": {"zh": ("Chinese", "中文"), "en": ("English", "英文"), "other": ("other", "其他")},
}

OPTIONS: dict[str, dict[str, str]] = {
    f"ui.opt.{field}.{value}": {"en": en, "zh": zh}
    for field, values in _OPTS.items() for value, (en, zh) in values.items()
}


def option_keys(field: str, values) -> list[tuple[str, str]]:
    """(string key, value) pairs for a field's values, as Labels takes them."""
    return [(f"ui.opt.{field}.{value}", value) for value in values]
