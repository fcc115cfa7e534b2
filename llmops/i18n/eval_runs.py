"""Evaluation runs (a job per run, its stages, the `eval run` and `models` commands), in English and Chinese."""

EVAL_RUNS: dict[str, dict[str, str]] = {
    "jobs.kind.eval": {"en": "Evaluation", "zh": "模型评测"},
    # Errors
    "err.ev_run_invalid": {
        "en": "The evaluation run's settings are invalid: {details}",
        "zh": "评测运行的设置无效：{details}",
    },
    "err.ev_run_empty_set": {
        "en": "Evaluation set '{set}' has no samples.",
        "zh": "评测集“{set}”没有样本。",
    },
    "err.ev_run_metric_needs": {
        "en": "Metric '{metric}' needs a {needs} in every sample it scores, and set '{set}' has none.",
        "zh": "指标“{metric}”需要样本带有 {needs}，而评测集“{set}”中没有任何样本带有。",
    },
    "err.ev_run_perplexity_model": {
        "en": "Metric 'perplexity' scores references under a version's own local weights; {model} is not a local "
              "version of this run (an endpoint has no weights to score with).",
        "zh": "指标“perplexity”用版本自身的本地权重为参考答案评分；{model} 不是本次运行中的本地版本（接口端点没有可用的权重）。",
    },
    "err.ev_run_busy": {
        "en": "Evaluation run '{run}' is still running (job {job_id}); stop it or wait for it first.",
        "zh": "评测运行“{run}”仍在运行（任务 {job_id}）；请先停止或等待它结束。",
    },
    "err.ev_run_set_file": {
        "en": "Set file {path} has {count} invalid line(s):\n{errors}",
        "zh": "评测集文件 {path} 有 {count} 行无效：\n{errors}",
    },
    # Notes recorded in summary.json
    "evr.note_metric_no_data": {
        "en": "{metric} not scored for {model}: no prediction has a {needs}.",
        "zh": "未对 {model} 计算 {metric}：没有预测带有 {needs}。",
    },
    "evr.note_metric_failed": {
        "en": "{metric} not scored for {model}: {reason}",
        "zh": "未对 {model} 计算 {metric}：{reason}",
    },
    "evr.note_perplexity_model": {
        "en": "Perplexity is scored with the weights of {model} only.",
        "zh": "困惑度仅使用 {model} 的权重计算。",
    },
    # The command line
    "evr.cli_started": {
        "en": "run {run} queued as job {job_id} ({total} answers to generate)",
        "zh": "评测运行 {run} 已排队为任务 {job_id}（需生成 {total} 个回答）",
    },
    "evr.cli_resumed": {
        "en": "run {run} resumed as job {job_id}",
        "zh": "评测运行 {run} 已作为任务 {job_id} 继续",
    },
    "evr.cli_stopped": {
        "en": "run {run}: stop requested",
        "zh": "评测运行 {run}：已请求停止",
    },
    "evr.cli_not_running": {
        "en": "run {run} is not running",
        "zh": "评测运行 {run} 未在运行",
    },
    "mcli.added": {
        "en": "registered {model_id}",
        "zh": "已注册 {model_id}",
    },
    "mcli.default": {
        "en": "default model: {model_id}",
        "zh": "默认模型：{model_id}",
    },
    "err.cli_option_needs": {
        "en": "{needs} needs {option} too.",
        "zh": "使用 {needs} 时还需要指定 {option}。",
    },
    "err.ev_checkpoint_ref": {
        "en": "'{ref}' is not a checkpoint of a local version: write name@version#checkpoint-N.",
        "zh": "“{ref}”不是本地版本的检查点：请写作 name@version#checkpoint-N。",
    },
    "err.ev_checkpoint_missing": {
        "en": "Checkpoint '{ref}' does not exist (no folder {path}).",
        "zh": "检查点“{ref}”不存在（没有文件夹 {path}）。",
    },
    "err.ev_no_checkpoints": {
        "en": "Version {model} has no checkpoint-N folders to score.",
        "zh": "版本 {model} 没有可评测的 checkpoint-N 文件夹。",
    },
    "evr.cli_report": {
        "en": "report written: {html}\nJSON: {json}\nPDF: {pdf}",
        "zh": "报告已写入：{html}\nJSON：{json}\nPDF：{pdf}",
    },
}
