"""Evaluation and merge jobs on a target: the refusals before such a job exists, in English and Chinese."""

TARGETS_WORK: dict[str, dict[str, str]] = {
    "err.target.ray_needs_shared": {
        "en": "{what} on Ray target '{name}' needs a shared path: its outputs can only come back through a folder this "
              "machine and the nodes share. Add the target again with --shared-path.",
        "zh": "在 Ray 目标“{name}”上运行{what}需要共享路径：其输出只能经由本机与各节点共享的文件夹取回。请用 --shared-path "
              "重新添加该目标。"},
    "err.target.remote_python": {
        "en": "Target '{name}' cannot run this job: its Python `{python}` cannot import {modules} ({reason}). Install "
              "them there, or give the target a Python that has them (--python).",
        "zh": "目标“{name}”无法运行此任务：其 Python `{python}` 无法导入 {modules}（{reason}）。请在那里安装它们，或为目标"
              "指定已安装它们的 Python（--python）。"},
    "err.target.eval_judge": {
        "en": "Run {run} has an LLM judge, whose key stays on this machine: evaluate on the target without the judge, "
              "then judge here with `eval judge {run}`.",
        "zh": "评测 {run} 含有 LLM 评审，其密钥只留在本机：请在目标上不带评审运行评测，之后在本机用 `eval judge {run}` 评审。"},
    "err.target.endpoint_key": {
        "en": "{model} is an endpoint whose key ({var}) stays on this machine, so it cannot be evaluated on a target. "
              "Evaluate it here.",
        "zh": "{model} 是需要密钥（{var}）的接口，密钥只留在本机，因此无法在目标上评测。请在本机评测它。"},
}

SERVE_THERE: dict[str, dict[str, str]] = {
    "err.target.serve_ssh_only": {
        "en": "A server runs here or on an SSH box; target '{name}' is a {type} target. Pick an SSH target or 'local'.",
        "zh": "服务只能在本机或 SSH 机器上运行；目标“{name}”是 {type} 类型。请选择 SSH 目标或“local”。"},
    "err.target.port_in_use_there": {"en": "Port {port} is already in use on target '{name}'. Pick another port.",
                                     "zh": "目标“{name}”上的端口 {port} 已被占用。请换一个端口。"},
    "err.target.no_port_there": {"en": "No free port could be found on target '{name}': {reason}",
                                 "zh": "在目标“{name}”上找不到空闲端口：{reason}"},
    "err.target.engine_missing": {
        "en": "The {engine} engine is not installed on target '{name}': `{path}` is not found there. Install it, or "
              "give the target its path.",
        "zh": "目标“{name}”上未安装 {engine} 引擎：在那里找不到 `{path}`。请安装它，或为目标指定其路径。"},
    "err.target.no_gpu_there": {"en": "{what} with vLLM needs a GPU, and `nvidia-smi -L` lists none on target '{name}'.",
                                "zh": "用 vLLM 运行{what}需要 GPU，而目标“{name}”上的 `nvidia-smi -L` 未列出任何 GPU。"},
}

UI_TARGETS_WORK: dict[str, dict[str, str]] = {
    "ui.tg.add_ray": {"en": "Add a Ray cluster", "zh": "添加 Ray 集群"},
    "ui.tg.ray_address": {"en": "Address (ray://host:port or the dashboard's http://host:port)",
                          "zh": "地址（ray://主机:端口，或仪表盘的 http://主机:端口）"},
    "ui.tg.dashboard_port": {"en": "Dashboard port (for ray://)", "zh": "仪表盘端口（用于 ray://）"},
    "ui.tg.shared_path": {"en": "Shared path (seen by this machine and every node; evaluation and merge need it)",
                          "zh": "共享路径（本机与各节点可见；评测与合并需要它）"},
    "ui.tg.check_all": {"en": "Check all", "zh": "全部检查"},
    "ui.tg.vllm": {"en": "vllm there (for serving with vLLM)", "zh": "目标上的 vllm（用 vLLM 提供服务时）"},
    "ui.tg.python": {"en": "Python there (for evaluation and merge jobs)", "zh": "目标上的 Python（用于评测与合并任务）"},
}
