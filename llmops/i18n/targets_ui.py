"""Targets where jobs are launched: the picker, the Targets section, the job table's column, in English and Chinese."""

TARGETS_UI: dict[str, dict[str, str]] = {
    "err.target.local_only": {"en": "{what} runs only on this machine; target '{name}' cannot take it. Leave the target "
                                    "at 'local'.",
                              "zh": "{what}只能在本机运行，目标“{name}”无法执行。请把目标保留为“local”。"},
    "err.target.devices_here": {"en": "GPU ids name this machine's devices; target '{name}' chooses its own. Drop "
                                      "--devices.",
                                "zh": "GPU 编号指的是本机设备；目标“{name}”自行分配设备。请去掉 --devices。"},
    "err.target.pick_one": {"en": "Pick a target first.", "zh": "请先选择一个目标。"},
    "targets.what.grpo": {"en": "A GRPO training", "zh": "GRPO 训练"},
    "targets.what.serve": {"en": "A serve job", "zh": "服务任务"},
    "cli.target_help": {"en": "where the job runs: a name from `targets list` (default: local)",
                        "zh": "任务运行位置：`targets list` 中的名称（默认 local）"},
    "ui.field.run_on": {"en": "Run on", "zh": "运行于"},
    "ui.field.run_on.info": {"en": "this machine, or a target from Models › Targets",
                             "zh": "本机，或“模型 › 目标”中的目标"},
    "ui.col.where": {"en": "Where", "zh": "运行位置"},
    "ui.tg.title": {"en": "Targets", "zh": "目标"},
    "ui.tg.intro": {"en": "Where trainings, evaluations and merges may run besides this machine: a Ray cluster (its "
                          "Jobs API), a Slurm cluster (sbatch on this machine) or a GPU box over SSH (agent keys or a "
                          "key file; no password is stored).",
                    "zh": "除本机外训练、评测与合并可运行的位置：Ray 集群（其 Jobs API）、Slurm 集群（本机上的 sbatch）"
                          "或经 SSH 连接的 GPU 机器（使用 agent 密钥或密钥文件；不保存密码）。"},
    "ui.tg.table": {"en": "Targets", "zh": "目标列表"},
    "ui.tg.col.name": {"en": "Name", "zh": "名称"},
    "ui.tg.col.type": {"en": "Type", "zh": "类型"},
    "ui.tg.col.address": {"en": "Address", "zh": "地址"},
    "ui.tg.pick": {"en": "Target", "zh": "目标"},
    "ui.tg.check": {"en": "Health check", "zh": "健康检查"},
    "ui.tg.remove": {"en": "Remove", "zh": "删除"},
    "ui.tg.add_slurm": {"en": "Add a Slurm cluster", "zh": "添加 Slurm 集群"},
    "ui.tg.add_ssh": {"en": "Add an SSH box", "zh": "添加 SSH 机器"},
    "ui.tg.name": {"en": "Name", "zh": "名称"},
    "ui.tg.partition": {"en": "Partition", "zh": "分区"},
    "ui.tg.nodes": {"en": "Nodes", "zh": "节点数"},
    "ui.tg.gpus": {"en": "GPUs per node", "zh": "每节点 GPU 数"},
    "ui.tg.time": {"en": "Time limit", "zh": "时间限制"},
    "ui.tg.user_host": {"en": "user@host", "zh": "用户@主机"},
    "ui.tg.key": {"en": "Key file (optional; the key itself is never copied)",
                  "zh": "密钥文件（可选；不会复制密钥本身）"},
    "ui.tg.port": {"en": "SSH port", "zh": "SSH 端口"},
    "ui.tg.remote_dir": {"en": "Remote folder", "zh": "远端目录"},
    "ui.tg.lf_cli": {"en": "Remote llamafactory-cli", "zh": "远端 llamafactory-cli"},
    "ui.tg.add": {"en": "Add", "zh": "添加"},
    "ui.tg.ok": {"en": "{name} ({type}): healthy, {detail}", "zh": "{name}（{type}）：正常，{detail}"},
    "ui.tg.failed": {"en": "{name} ({type}): not usable, {detail}", "zh": "{name}（{type}）：不可用，{detail}"},
}
