"""Execution targets (local, Slurm, SSH): the registry, health checks and remote launches, in English and Chinese."""

TARGETS: dict[str, dict[str, str]] = {
    "err.target.unknown": {"en": "No target named '{name}'. Known: {known}.",
                           "zh": "没有名为“{name}”的目标。已有：{known}。"},
    "err.target.exists": {"en": "A target named '{name}' already exists; remove it first.",
                          "zh": "名为“{name}”的目标已存在；请先删除它。"},
    "err.target.reserved": {"en": "'local' is this machine and cannot be added or removed.",
                            "zh": "“local”是本机，不能添加或删除。"},
    "err.target.invalid": {"en": "Invalid target: {reason}", "zh": "目标无效：{reason}"},
    "err.target.file_invalid": {"en": "The targets file {path} cannot be read: {reason}",
                                "zh": "无法读取目标文件 {path}：{reason}"},
    "err.target.unreachable": {"en": "SSH target {host} cannot be reached: {reason}",
                               "zh": "无法连接 SSH 目标 {host}：{reason}"},
    "err.target.key_refused": {
        "en": "SSH target {host} refused the key ({key}): {reason}. Load the key into your SSH agent or name a key "
              "file the remote accepts.",
        "zh": "SSH 目标 {host} 拒绝了密钥（{key}）：{reason}。请把密钥加入 SSH agent，或指定远端接受的密钥文件。"},
    "err.target.key_missing": {"en": "The key file {path} does not exist.", "zh": "密钥文件 {path} 不存在。"},
    "err.target.no_slurm": {"en": "Slurm is not available here: {missing} not found on PATH.",
                            "zh": "此处无法使用 Slurm：PATH 中找不到 {missing}。"},
    "err.target.missing_on_target": {"en": "{what} {path} is not on target {name}; copy it there first.",
                                     "zh": "目标 {name} 上没有{what} {path}；请先把它复制过去。"},
    "targets.what.model": {"en": "The model", "zh": "模型"},
    "targets.what.adapter": {"en": "The adapter", "zh": "适配器"},
    "targets.health.local": {"en": "this machine", "zh": "本机"},
    "targets.health.slurm_ok": {"en": "sbatch, squeue, sacct and scancel found", "zh": "已找到 sbatch、squeue、sacct 和 scancel"},
    "targets.health.ssh_ok": {"en": "logged in to {host} with no password", "zh": "已免密码登录 {host}"},
    "targets.added": {"en": "Added target {name} ({type}).", "zh": "已添加目标 {name}（{type}）。"},
    "targets.removed": {"en": "Removed target {name}.", "zh": "已删除目标 {name}。"},
    "targets.sbatch_written": {"en": "Wrote {path}:", "zh": "已写入 {path}："},
}
