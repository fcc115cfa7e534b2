"""The Jobs tab and `jobs logs|compare|restart|delete`: log viewer, run comparison, restart and delete, in English and
Chinese."""

JOBS_ADMIN: dict[str, dict[str, str]] = {
    # Errors
    "err.jobs_log_level": {
        "en": "Unknown log level '{level}'; use one of {levels}.",
        "zh": "未知的日志级别“{level}”；可选：{levels}。",
    },
    "err.jobs_compare_two": {
        "en": "Pick two or more different runs to compare ({count} given).",
        "zh": "请选择两个或更多不同的运行进行对比（当前 {count} 个）。",
    },
    "err.jobs_restart_running": {
        "en": "Job {job_id} is {status}: only a finished job can be restarted. Stop it first.",
        "zh": "任务 {job_id} 状态为 {status}：只有已结束的任务才能重启，请先停止它。",
    },
    "err.jobs_resume_train_only": {
        "en": "Job {job_id} is a {kind} job: only a training resumes from a checkpoint; restart it without resume.",
        "zh": "任务 {job_id} 是 {kind} 任务：只有训练能从检查点续训，请不勾选续训直接重启。",
    },
    "err.jobs_restart_unsupported": {
        "en": "Job {job_id} ({kind}) cannot be restarted from here; launch it again from its tab.",
        "zh": "任务 {job_id}（{kind}）无法在此重启，请在其所属页面重新发起。",
    },
    "err.jobs_restart_no_params": {
        "en": "Job {job_id} recorded no parameters to run again (looked in {path}).",
        "zh": "任务 {job_id} 没有记录可重新运行的参数（已查看 {path}）。",
    },
    "err.jobs_restart_typed_key": {
        "en": "Job {job_id} used an API key typed for that job only, which is never stored; launch it again from its "
              "tab and type the key.",
        "zh": "任务 {job_id} 使用了仅为该任务输入且从不保存的 API 密钥；请在其所属页面重新发起并输入密钥。",
    },
    "err.jobs_no_checkpoint": {
        "en": "Job {job_id} has no complete checkpoint-N in {path} to resume from; restart it fresh instead.",
        "zh": "任务 {job_id} 在 {path} 中没有完整的 checkpoint-N 可续训；请改为从头重启。",
    },
    "err.jobs_delete_running": {
        "en": "Job {job_id} is {status}: a queued or running job is never deleted. Stop it first.",
        "zh": "任务 {job_id} 状态为 {status}：排队或运行中的任务不会被删除，请先停止它。",
    },
    "err.jobs_delete_outside": {
        "en": "Refused: {path} is not a job's own folder under {root}; nothing was deleted.",
        "zh": "已拒绝：{path} 不是 {root} 下某个任务自己的文件夹；未删除任何内容。",
    },
    # Results (UI and CLI)
    "jobsx.restarted": {
        "en": "Restarted {source} as job {job_id} ({mode}) in `{run_dir}`.",
        "zh": "已将 {source} 重启为任务 {job_id}（{mode}），目录 `{run_dir}`。",
    },
    "jobsx.mode.fresh": {"en": "same config, new run folder", "zh": "相同配置、新的运行目录"},
    "jobsx.mode.resume": {"en": "resumed from {checkpoint}", "zh": "从 {checkpoint} 续训"},
    "jobsx.delete_plan": {
        "en": "Deleting job(s) {job_ids} removes {folders} and frees {size} on disk. Confirm to delete.",
        "zh": "删除任务 {job_ids} 将移除 {folders}，释放磁盘空间 {size}。请确认删除。",
    },
    "jobsx.delete_versions": {
        "en": "Registered versions whose files are in it stop loading: {versions}.",
        "zh": "文件位于其中的已注册版本将无法加载：{versions}。",
    },
    "jobsx.deleted": {
        "en": "Deleted job(s) {job_ids} and {folders}: {size} freed.",
        "zh": "已删除任务 {job_ids} 及 {folders}：释放了 {size}。",
    },
    "jobsx.log_window": {
        "en": "{shown} of {scanned} lines shown (level {level}{search}); {matches} match(es). Log size {size}{cut}.",
        "zh": "显示 {shown}/{scanned} 行（级别 {level}{search}）；{matches} 处匹配。日志大小 {size}{cut}。",
    },
    "jobsx.log_search": {"en": ", search “{query}”", "zh": "，搜索“{query}”"},
    "jobsx.log_cut": {"en": ", last {window} read", "zh": "，仅读取末尾 {window}"},
    "jobsx.no_log": {"en": "No log yet.", "zh": "暂无日志。"},
    "jobsx.differs": {"en": "≠", "zh": "≠"},
    "jobsx.compare_summary": {
        "en": "{count} runs; {differing} of {keys} config keys differ: {names}",
        "zh": "{count} 个运行；{keys} 个配置项中有 {differing} 个不同：{names}",
    },
    # Jobs tab
    "ui.tab.jobs": {"en": "Jobs", "zh": "任务"},
    "ui.jobsx.job": {"en": "Job", "zh": "任务"},
    "ui.jobsx.logs_md": {"en": "### Log", "zh": "### 日志"},
    "ui.jobsx.search": {"en": "Search", "zh": "搜索"},
    "ui.jobsx.level": {"en": "Level", "zh": "级别"},
    "ui.jobsx.follow": {"en": "Follow (keep updating while it runs)", "zh": "跟随（运行时持续刷新）"},
    "ui.jobsx.show": {"en": "Show log", "zh": "显示日志"},
    "ui.jobsx.download": {"en": "Download full log", "zh": "下载完整日志"},
    "ui.jobsx.compare_md": {"en": "### Compare runs", "zh": "### 对比运行"},
    "ui.jobsx.compare_pick": {"en": "Runs to compare", "zh": "要对比的运行"},
    "ui.jobsx.compare": {"en": "Compare", "zh": "对比"},
    "ui.jobsx.only_diff": {"en": "Only differing keys", "zh": "只看不同的配置项"},
    "ui.jobsx.config_table": {"en": "Configs (≠ marks a difference)", "zh": "配置（≠ 表示不同）"},
    "ui.jobsx.curves": {"en": "Curves", "zh": "曲线"},
    "ui.jobsx.col.key": {"en": "key", "zh": "配置项"},
    "ui.jobsx.manage_md": {"en": "### Restart or delete", "zh": "### 重启或删除"},
    "ui.jobsx.resume": {"en": "Resume from the last checkpoint (training)", "zh": "从最后一个检查点续训（训练）"},
    "ui.jobsx.restart": {"en": "Restart", "zh": "重启"},
    "ui.jobsx.delete": {"en": "Delete…", "zh": "删除…"},
    "ui.jobsx.confirm_delete": {"en": "Yes, delete it and its folder", "zh": "确认删除任务及其文件夹"},
    "ui.jobsx.cancel": {"en": "Cancel", "zh": "取消"},
    "ui.jobsx.cancelled": {"en": "Nothing was deleted.", "zh": "未删除任何内容。"},
    "ui.jobsx.pick_job": {"en": "Pick a job first.", "zh": "请先选择一个任务。"},
    "ui.jobsx.cli_md": {
        "en": "From a terminal: `python -m llmops jobs logs ID --grep TEXT --level ERROR --follow` · "
              "`python -m llmops jobs compare ID ID` · `python -m llmops jobs restart ID [--resume]` · "
              "`python -m llmops jobs delete ID --yes`",
        "zh": "命令行：`python -m llmops jobs logs ID --grep TEXT --level ERROR --follow` · "
              "`python -m llmops jobs compare ID ID` · `python -m llmops jobs restart ID [--resume]` · "
              "`python -m llmops jobs delete ID --yes`",
    },
    # CLI
    "cli.jobsx.not_confirmed": {
        "en": "{plan}\nNothing deleted: run again with --yes to delete.",
        "zh": "{plan}\n未删除：加上 --yes 再次运行以删除。",
    },
}
