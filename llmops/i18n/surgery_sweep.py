"""Merge-ratio sweep strings: refusals before a sweep runs, the job, the CLI and the sweep section, in English and
Chinese."""

SURGERY_SWEEP: dict[str, dict[str, str]] = {
    "jobs.kind.surgery_sweep": {"en": "Merge-ratio sweep", "zh": "合并比例扫描"},
    "err.sgw_two_models": {
        "en": "A sweep merges exactly two models (model A and model B); {count} were given.",
        "zh": "扫描只合并恰好两个模型（模型 A 和模型 B）；现在给了 {count} 个。",
    },
    "err.sgw_grid": {
        "en": "Grid {grid} is not usable: give at least two distinct numbers as a list (0,0.5,1) or "
              "start:stop:step with a positive step (0:1:0.25).",
        "zh": "网格 {grid} 无法使用：请给出至少两个互不相同的数，可写成列表（0,0.5,1）或 start:stop:step，"
              "步长须为正（0:1:0.25）。",
    },
    "err.sgw_grid_size": {
        "en": "The grid has {count} points; a sweep takes at most {most}.",
        "zh": "网格有 {count} 个点；一次扫描最多 {most} 个。",
    },
    "err.sgw_param": {
        "en": "Method {method} has no parameter {param} to sweep; its parameters: {known}.",
        "zh": "方法 {method} 没有可扫描的参数 {param}；它的参数有：{known}。",
    },
    "err.sgw_unknown": {"en": "No sweep {sweep}.", "zh": "没有扫描 {sweep}。"},
    "sgw.point": {"en": "{ratio}: {metric} {score}", "zh": "{ratio}：{metric} {score}"},
    "sgw.best": {"en": "best {ratio}: {metric} {score}", "zh": "最佳 {ratio}：{metric} {score}"},
    "sgw.no_points": {"en": "No point was scored.", "zh": "没有完成评分的点。"},
    "ui.sgw.title": {"en": "Merge-ratio sweep", "zh": "合并比例扫描"},
    "ui.sgw.help": {
        "en": "Merges model A and model B at each ratio of the grid (linear: A gets t, B 1−t; slerp: t=0 is A, "
              "t=1 is B), scores each merge on the set and keeps the best as a new version.",
        "zh": "按网格中的每个比例合并模型 A 与模型 B（linear：A 权重 t、B 权重 1−t；slerp：t=0 为 A，t=1 为 B），"
              "在评测集上为每次合并评分，并把最佳者保存为新版本。",
    },
    "ui.sgw.model_a": {"en": "Model A", "zh": "模型 A"},
    "ui.sgw.model_b": {"en": "Model B", "zh": "模型 B"},
    "ui.sgw.method": {"en": "Method", "zh": "方法"},
    "ui.sgw.method.linear": {"en": "Linear (weights t and 1 − t)", "zh": "线性（权重 t 与 1 − t）"},
    "ui.sgw.method.slerp": {"en": "SLERP (t from A to B)", "zh": "球面插值 SLERP（t 从 A 到 B）"},
    "ui.sgw.grid": {"en": "Grid (list or start:stop:step)", "zh": "网格（列表或 start:stop:step）"},
    "ui.sgw.set": {"en": "Evaluation set", "zh": "评测集"},
    "ui.sgw.metric": {"en": "Metric", "zh": "指标"},
    "ui.sgw.keep_all": {"en": "Keep every merge", "zh": "保留所有合并结果"},
    "ui.sgw.name": {"en": "Name of the kept version", "zh": "保留版本的名称"},
    "ui.sgw.start": {"en": "Start sweep", "zh": "开始扫描"},
    "ui.sgw.stop": {"en": "Stop", "zh": "停止"},
    "ui.sgw.plot": {"en": "Score by ratio", "zh": "各比例的得分"},
    "ui.sgw.ratio": {"en": "Ratio", "zh": "比例"},
    "ui.sgw.best_marker": {"en": "Best", "zh": "最佳"},
    "ui.sgw.started": {
        "en": "Sweep {sweep} started as job {job}: {points} points, disk for {models} models ({disk}).",
        "zh": "扫描 {sweep} 已作为任务 {job} 启动：{points} 个点，预留 {models} 个模型的磁盘空间（{disk}）。",
    },
    "ui.sgw.status": {
        "en": "Sweep {sweep}: {done}/{total} points, job {status}.",
        "zh": "扫描 {sweep}：已完成 {done}/{total} 个点，任务状态 {status}。",
    },
    "ui.sgw.stopping": {"en": "Stopping job {job}; the points done are kept.", "zh": "正在停止任务 {job}；已完成的点会保留。"},
    "ui.sgw.idle": {"en": "No sweep started yet.", "zh": "尚未开始扫描。"},
}
