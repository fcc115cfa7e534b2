"""Lineage strings: the unknown-id refusal, the text view and the Lineage tab, in English and Chinese."""

LINEAGE: dict[str, dict[str, str]] = {
    "err.lineage_unknown": {
        "en": "Nothing in the lineage is called '{id}'. Give a model version (name@version), a dataset (name or "
              "name/vN), a job id or an evaluation run id.",
        "zh": "谱系中没有名为“{id}”的对象。请给出模型版本（name@version）、数据集（name 或 name/vN）、任务 ID 或评测运行 ID。",
    },
    "err.lineage_store": {
        "en": "The lineage store {path} cannot be used: {reason}",
        "zh": "谱系存储 {path} 无法使用：{reason}",
    },
    "lineage.text.title": {"en": "Lineage of {id} ({kind})", "zh": "{id} 的谱系（{kind}）"},
    "lineage.text.up": {"en": "Where it came from:", "zh": "来源："},
    "lineage.text.down": {"en": "What came from it:", "zh": "由它产生："},
    "lineage.text.evals": {"en": "Evaluations of it (and those that gated it):", "zh": "对它的评测（及把关它的评测）："},
    "lineage.text.none": {"en": "(nothing recorded)", "zh": "（没有记录）"},
    "lineage.kind.documents": {"en": "Source documents", "zh": "源文档"},
    "lineage.kind.corpus": {"en": "Corpora", "zh": "语料"},
    "lineage.kind.dataset": {"en": "Datasets", "zh": "数据集"},
    "lineage.kind.dataset_version": {"en": "Dataset versions", "zh": "数据集版本"},
    "lineage.kind.base_model": {"en": "Base models", "zh": "基座模型"},
    "lineage.kind.votes_batch": {"en": "Votes", "zh": "投票"},
    "lineage.kind.job": {"en": "Jobs", "zh": "任务"},
    "lineage.kind.checkpoint": {"en": "Checkpoints", "zh": "检查点"},
    "lineage.kind.model_version": {"en": "Model versions", "zh": "模型版本"},
    "lineage.kind.merge_recipe": {"en": "Merge recipes", "zh": "合并配方"},
    "lineage.kind.eval_run": {"en": "Evaluations", "zh": "评测"},
    "ui.tab.lineage": {"en": "Lineage", "zh": "谱系"},
    "ui.lineage.intro": {
        "en": "Where a version came from (base model, datasets and their versions, source documents, jobs, votes, "
              "the evaluations that gated it) and what came from it — all as the services recorded it.",
        "zh": "某个版本从何而来（基座模型、数据集及其版本、源文档、任务、投票、把关它的评测），以及由它产生了什么——"
              "全部来自各服务的记录。",
    },
    "ui.lineage.pick": {"en": "Version or artifact id", "zh": "版本或产物 ID"},
    "ui.lineage.down": {"en": "Also show what came from it", "zh": "同时显示由它产生的产物"},
    "ui.lineage.show": {"en": "Show lineage", "zh": "显示谱系"},
    "ui.lineage.graph": {"en": "Lineage graph", "zh": "谱系图"},
    "ui.lineage.table": {"en": "Layered view", "zh": "分层视图"},
    "ui.lineage.col.side": {"en": "Side", "zh": "方向"},
    "ui.lineage.col.depth": {"en": "Depth", "zh": "层级"},
    "ui.lineage.col.kind": {"en": "Kind", "zh": "类型"},
    "ui.lineage.col.id": {"en": "Id", "zh": "ID"},
    "ui.lineage.col.details": {"en": "Details", "zh": "详情"},
    "ui.lineage.side.up": {"en": "came from", "zh": "来源"},
    "ui.lineage.side.self": {"en": "this", "zh": "本身"},
    "ui.lineage.side.down": {"en": "came from it", "zh": "由它产生"},
    "ui.lineage.command": {"en": "Same from a terminal", "zh": "命令行等效命令"},
    "ui.lineage.empty": {"en": "Pick a version to see its lineage.", "zh": "请选择一个版本以查看其谱系。"},
}
