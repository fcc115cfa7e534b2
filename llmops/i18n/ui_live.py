"""Strings of the shared page parts: sources, charts, the loop's config viewer."""

UI_LIVE: dict[str, dict[str, str]] = {
    "ui.source.all": {"en": "all", "zh": "全部"},
    "ui.source.human": {"en": "human", "zh": "人工"},
    "ui.source.synthetic": {"en": "synthetic", "zh": "合成"},
    "ui.loop.yaml": {"en": "DPO config (YAML)", "zh": "DPO 配置（YAML）"},
    "ui.jobs.chart": {"en": "Training curves", "zh": "训练曲线"},
    "ui.chart.loss": {"en": "loss", "zh": "损失"},
    "ui.chart.eval_loss": {"en": "eval loss", "zh": "验证损失"},
    "ui.chart.accuracy": {"en": "reward accuracy", "zh": "奖励准确率"},
    "ui.chart.step": {"en": "step", "zh": "步数"},
    "ui.chart.count": {"en": "count", "zh": "数量"},
    "ui.chart.tokens": {"en": "tokens", "zh": "词元数"},
    "ui.data.gen.count": {"en": "Pairs to keep (rules)", "zh": "保留的问答对数（规则）"},
    "ui.data.gen.count.info": {"en": "0 keeps every pair; otherwise a seeded sample of this many.",
                               "zh": "0 表示全部保留；否则按种子随机抽取这么多条。"},
}
