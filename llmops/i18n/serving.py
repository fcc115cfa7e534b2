"""Serving strings (a version as an OpenAI-compatible server), in English and Chinese."""

SERVING: dict[str, dict[str, str]] = {
    "jobs.kind.serve": {"en": "Model server", "zh": "模型服务"},
    "jobs.stage.starting": {"en": "Starting the server", "zh": "正在启动服务"},
    "jobs.stage.ready": {"en": "Serving", "zh": "服务中"},
    "err.serve_options": {"en": "The serving options were refused: {details}", "zh": "服务选项无效：{details}"},
    "err.serve_set_pair": {"en": "--set takes KEY=VALUE, not '{pair}'.", "zh": "--set 需要 KEY=VALUE 形式，而不是「{pair}」。"},
    "err.serve_port_in_use": {
        "en": "Port {port} on 127.0.0.1 is already in use; pick another port (or leave it empty for a free one). "
              "Nothing was started.",
        "zh": "127.0.0.1 的端口 {port} 已被占用；请换一个端口（或留空自动选择空闲端口）。未启动任何服务。",
    },
    "err.serve_vllm_unset": {
        "en": "vLLM is not set up here: set LLMOPS_VLLM to the `vllm` executable of its own environment "
              "(see `make vllm-env` in the README). Nothing was started.",
        "zh": "本机未配置 vLLM：请把 LLMOPS_VLLM 设为其独立环境中的 `vllm` 可执行文件（见 README 中的 `make vllm-env`）。"
              "未启动任何服务。",
    },
    "err.serve_vllm_not_exec": {
        "en": "LLMOPS_VLLM points to {path}, which is not an executable file. Nothing was started.",
        "zh": "LLMOPS_VLLM 指向 {path}，它不是可执行文件。未启动任何服务。",
    },
    "err.serve_no_gpu": {
        "en": "vLLM needs a CUDA GPU and none is visible here; serve with the llamafactory engine, or copy the "
              "command to a GPU machine. Nothing was started.",
        "zh": "vLLM 需要 CUDA GPU，但本机没有可用 GPU；请改用 llamafactory 引擎，或把命令复制到 GPU 机器上运行。未启动任何服务。",
    },
    "err.serve_tp_gpus": {
        "en": "A tensor parallel size of {size} needs {size} GPUs; {count} are visible here.",
        "zh": "张量并行度 {size} 需要 {size} 块 GPU；本机可见 {count} 块。",
    },
    "err.serve_vllm_adapter_base": {
        "en": "{model_id} is not a LoRA adapter on {base}: one vLLM server serves adapters of one base only.",
        "zh": "{model_id} 不是基于 {base} 的 LoRA 适配器：一个 vLLM 服务只能加载同一基座的适配器。",
    },
    "err.serve_endpoint": {
        "en": "{model_id} is already a server (an endpoint version); serve a base, adapter or merged version.",
        "zh": "{model_id} 本身就是服务（端点版本）；请选择基座、适配器或合并后的版本。",
    },
    "err.serve_exited": {
        "en": "The server of job {job_id} ended ({status}) before it answered. Last log lines:\n{tail}",
        "zh": "作业 {job_id} 的服务在应答之前就结束了（{status}）。日志末尾：\n{tail}",
    },
    "err.serve_timeout": {
        "en": "The server of job {job_id} did not answer within {seconds} s and was stopped; see the job's log.",
        "zh": "作业 {job_id} 的服务在 {seconds} 秒内没有应答，已停止；请查看作业日志。",
    },
    "err.serve_not_serve_job": {
        "en": "Job {job_id} is not a serve job.", "zh": "作业 {job_id} 不是服务作业。",
    },
    "cli.serve_ready": {"en": "Serving {version} at {base_url} (job {job}, endpoint {id})",
                        "zh": "{version} 已在 {base_url} 提供服务（作业 {job}，端点 {id}）"},
    "cli.serve_none": {"en": "No serve jobs.", "zh": "没有服务作业。"},
    "cli.serve_stopped": {"en": "Job {job} is {status}; endpoints removed: {removed}",
                          "zh": "作业 {job} 状态为 {status}；已移除端点：{removed}"},
    "ui.serve.title": {"en": "Serve a version", "zh": "部署服务"},
    "ui.serve.version": {"en": "Version to serve", "zh": "要部署的版本"},
    "ui.serve.engine": {"en": "Engine", "zh": "推理引擎"},
    "ui.serve.port": {"en": "Port (empty: a free one)", "zh": "端口（留空自动选择）"},
    "ui.serve.adapters": {"en": "More LoRA versions on the same base (vLLM)", "zh": "同一基座的更多 LoRA 版本（vLLM）"},
    "ui.serve.tp": {"en": "Tensor parallel size (vLLM)", "zh": "张量并行度（vLLM）"},
    "ui.serve.gpu_mem": {"en": "GPU memory utilization (vLLM)", "zh": "GPU 显存占用比例（vLLM）"},
    "ui.serve.max_len": {"en": "Max model length (vLLM)", "zh": "最大上下文长度（vLLM）"},
    "ui.serve.dtype": {"en": "dtype (vLLM)", "zh": "数据类型（vLLM）"},
    "ui.serve.command": {"en": "Command", "zh": "命令"},
    "ui.serve.preview": {"en": "Show command", "zh": "显示命令"},
    "ui.serve.start": {"en": "Start server", "zh": "启动服务"},
    "ui.serve.stop": {"en": "Stop server", "zh": "停止服务"},
    "ui.serve.job": {"en": "Serve job", "zh": "服务作业"},
    "ui.serve.table": {"en": "Servers", "zh": "服务列表"},
    "ui.serve.status": {"en": "Status", "zh": "状态"},
    "ui.col.serve_job": {"en": "Job", "zh": "作业"},
    "ui.col.serve_status": {"en": "Status", "zh": "状态"},
    "ui.col.serve_version": {"en": "Version", "zh": "版本"},
    "ui.col.serve_engine": {"en": "Engine", "zh": "引擎"},
    "ui.col.serve_url": {"en": "Base URL", "zh": "服务地址"},
    "ui.col.serve_endpoints": {"en": "Endpoint versions", "zh": "端点版本"},
}
