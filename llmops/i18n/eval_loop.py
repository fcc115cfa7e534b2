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
    # The regression gate
    "gate.reason.no_run": {
        "en": "No complete evaluation run on set '{set}' holds {metric} for both {candidate} and {previous}.",
        "zh": "评测集“{set}”上没有同时包含 {candidate} 与 {previous} 的 {metric} 结果的已完成评测运行。",
    },
    "gate.passed": {
        "en": "Gate passed: {metric} on '{set}' is {candidate_figure} for {candidate} vs {previous_figure} for "
              "{previous} (change {delta}, {direction}, allowed regression {threshold}; run {run}).",
        "zh": "门禁通过：评测集“{set}”上 {metric}，{candidate} 为 {candidate_figure}，{previous} 为 {previous_figure}"
              "（变化 {delta}，{direction}，允许退步 {threshold}；运行 {run}）。",
    },
    "gate.failed": {
        "en": "Gate failed: {metric} on '{set}' is {candidate_figure} for {candidate} vs {previous_figure} for "
              "{previous} (change {delta}, {direction}, allowed regression {threshold}; run {run}).",
        "zh": "门禁未通过：评测集“{set}”上 {metric}，{candidate} 为 {candidate_figure}，{previous} 为 "
              "{previous_figure}（变化 {delta}，{direction}，允许退步 {threshold}；运行 {run}）。",
    },
    "gate.off": {"en": "The regression gate is off.", "zh": "回归门禁已关闭。"},
    "gate.on": {
        "en": "The regression gate is on: {metric} on set '{set}', allowed regression {threshold}.",
        "zh": "回归门禁已开启：评测集“{set}”上的 {metric}，允许退步 {threshold}。",
    },
    "err.gate.corrupt": {
        "en": "The gate setting {path} cannot be read: {reason}",
        "zh": "无法读取门禁设置 {path}：{reason}",
    },
    "err.gate.no_set": {"en": "The gate needs an evaluation set name.", "zh": "门禁需要一个评测集名称。"},
    "err.gate.bad_threshold": {
        "en": "The gate's allowed regression must be a number ≥ 0, not {value}.",
        "zh": "门禁允许的退步幅度必须是 ≥ 0 的数，而不是 {value}。",
    },
    "err.gate.no_args": {
        "en": "The gate is off: name --set and --metric to check without it.",
        "zh": "门禁已关闭：请指定 --set 和 --metric 以单独检查。",
    },
    "err.gate.no_evidence": {
        "en": "The regression gate refuses to make {candidate} current: no complete evaluation run on set '{set}' "
              "holds {metric} for both {candidate} and {previous}. Evaluate both on that set, or force it "
              "(the override is recorded in the lineage).",
        "zh": "回归门禁拒绝将 {candidate} 设为当前版本：评测集“{set}”上没有同时包含 {candidate} 与 {previous} 的 "
              "{metric} 结果的已完成评测运行。请先在该评测集上评测两者，或强制执行（覆盖会记录在血缘中）。",
    },
    "err.gate.refused": {
        "en": "The regression gate refuses to make {candidate} current: {metric} on '{set}' is {candidate_figure} "
              "vs {previous_figure} for {previous} (change {delta}, {direction}, allowed regression {threshold}; "
              "run {run}). Force it to override (recorded in the lineage).",
        "zh": "回归门禁拒绝将 {candidate} 设为当前版本：评测集“{set}”上 {metric} 为 {candidate_figure}，"
              "{previous} 为 {previous_figure}（变化 {delta}，{direction}，允许退步 {threshold}；运行 {run}）。"
              "可强制覆盖（会记录在血缘中）。",
    },
    "err.loop_no_round": {
        "en": "No loop round has finished yet: name the version to make current.",
        "zh": "尚无已完成的循环轮次：请指定要设为当前的版本。",
    },
    "gate.dir.higher": {"en": "higher is better", "zh": "越高越好"},
    "gate.dir.lower": {"en": "lower is better", "zh": "越低越好"},
    # Benchmarks (lm-evaluation-harness)
    "jobs.kind.benchmark": {"en": "Benchmark (lm-eval)", "zh": "基准评测（lm-eval）"},
    "err.bench.task_missing": {"en": "No benchmark task file at {path}.", "zh": "{path} 处没有基准任务文件。"},
    "err.bench.task_invalid": {
        "en": "The benchmark task {path} cannot be used: {reason}",
        "zh": "基准任务 {path} 无法使用：{reason}",
    },
    "err.bench.task_not_local": {
        "en": "The benchmark task {path} must read local JSONL (dataset_path: json, dataset_kwargs.data_files) "
              "and use no includes or code; refused: {reason}",
        "zh": "基准任务 {path} 必须读取本地 JSONL（dataset_path: json、dataset_kwargs.data_files），"
              "且不能包含 include 或代码；被拒绝的项：{reason}",
    },
    "err.bench.needs_local": {
        "en": "Benchmarks run on local weights; {model} has none here (an endpoint such as `llamafactory-cli api` "
              "offers no /v1/completions for log-likelihood tasks).",
        "zh": "基准评测需要本地权重；{model} 在此没有本地权重（`llamafactory-cli api` 等端点不提供对数似然任务所需的 "
              "/v1/completions）。",
    },
    "err.bench.no_tasks": {"en": "Name at least one benchmark task file.", "zh": "请至少指定一个基准任务文件。"},
    "err.bench.duplicate_task": {
        "en": "Two task files name the same task: {names}.",
        "zh": "有两个任务文件使用了相同的任务名：{names}。",
    },
    "err.bench.no_results": {
        "en": "The evaluation run {run} holds no benchmark results (yet).",
        "zh": "评测运行 {run} （尚）无基准评测结果。",
    },
    "bench.queued": {"en": "Benchmark queued: run {run}, job {job}.", "zh": "基准评测已排队：运行 {run}，任务 {job}。"},
}
