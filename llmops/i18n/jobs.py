"""Strings of job kinds, the job table and the compact job widget."""

JOBS = {
    "err.jobs_db_newer": {
        "en": "The job table {path} was written by a newer version (schema {version}; this one knows up to "
              "{supported}); it is left untouched.",
        "zh": "任务表 {path} 由更新的版本写入（结构版本 {version}；当前版本最高支持 {supported}），未作任何改动。",
    },
    "err.job_kind_unknown": {
        "en": "There is no job kind '{kind}'.",
        "zh": "不存在任务类型“{kind}”。",
    },
    "err.job_worker_spec": {
        "en": "{path} does not describe a job a worker can run.",
        "zh": "{path} 不是可由任务进程运行的任务描述。",
    },
    "err.job_failed": {
        "en": "Job {job_id} ended {status}: {message}",
        "zh": "任务 {job_id} 结束状态为 {status}：{message}",
    },
    "err.job_apply_failed": {
        "en": "Job {job_id} finished, but its result could not be applied: {reason}",
        "zh": "任务 {job_id} 已结束，但其结果未能生效：{reason}",
    },
    "err.job_wait_timeout": {
        "en": "Job {job_id} is still {status}; it keeps running — follow it with `python -m llmops jobs show {job_id}`.",
        "zh": "任务 {job_id} 仍为 {status}，会继续运行——可用 `python -m llmops jobs show {job_id}` 查看。",
    },
    "jobs.kind.train": {"en": "Training", "zh": "训练"},
    "jobs.kind.corpus": {"en": "Corpus build", "zh": "语料构建"},
    "jobs.kind.datagen": {"en": "Instruction data", "zh": "指令数据生成"},
    "jobs.kind.dedup": {"en": "Dataset dedup", "zh": "数据集去重"},
    "jobs.kind.mockprefs": {"en": "Mock preferences", "zh": "模拟偏好数据"},
    "jobs.submitted": {
        "en": "Job `{job_id}` ({kind}) queued; it keeps running if this page is closed.",
        "zh": "任务 `{job_id}`（{kind}）已排队；关闭页面后它仍会继续运行。",
    },
    "jobs.progress": {
        "en": "{stage}: {done}/{total} ({pct}%)",
        "zh": "{stage}：{done}/{total}（{pct}%）",
    },
    "jobs.status_line": {
        "en": "Job `{job_id}` · {kind} · **{status}**",
        "zh": "任务 `{job_id}` · {kind} · **{status}**",
    },
    "jobs.applied": {"en": "Result applied.", "zh": "结果已生效。"},
    "jobs.apply_pending": {"en": "Waiting for its result to be applied…", "zh": "等待结果生效……"},
    "ui.jobw.title": {"en": "Job", "zh": "任务"},
    "ui.jobw.job": {"en": "Job id", "zh": "任务编号"},
    "ui.jobw.log": {"en": "Job log", "zh": "任务日志"},
    "ui.jobw.stop": {"en": "Stop job", "zh": "停止任务"},
    "ui.jobw.refresh": {"en": "Refresh job", "zh": "刷新任务"},
    "ui.jobw.none": {"en": "No job yet.", "zh": "尚无任务。"},
    "ui.jobw.not_running": {"en": "This job is not running.", "zh": "该任务未在运行。"},
    "jobs.stage.llm": {"en": "Chunks answered", "zh": "已处理文本块"},
    "jobs.stage.rules": {"en": "Rule-based pairs", "zh": "规则生成"},
    "jobs.stage.dedup": {"en": "Deduplicating", "zh": "去重"},
    "jobs.stage.mockprefs": {"en": "Appending votes", "zh": "追加投票"},
    "jobs.stage.generate": {"en": "Answers generated", "zh": "已生成回答"},
    "jobs.stage.judge": {"en": "Answers judged", "zh": "已评判回答"},
    "jobs.stage.score": {"en": "Scored", "zh": "已评分"},
    "jobs.stage.contamination": {"en": "Checking contamination", "zh": "检查数据污染"},
    "ui.jobw.stopping": {"en": "Stopping job `{job_id}`…", "zh": "正在停止任务 `{job_id}`……"},
}
