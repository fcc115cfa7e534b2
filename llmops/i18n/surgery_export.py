"""LoRA merge and compression strings (dtype cast, GPTQ, GGUF), in English and Chinese."""

SURGERY_EXPORT: dict[str, dict[str, str]] = {
    "jobs.kind.surgery_export": {"en": "Model export (LLaMA-Factory)", "zh": "模型导出（LLaMA-Factory）"},
    "jobs.kind.surgery_convert": {"en": "Precision cast", "zh": "精度转换"},
    "jobs.kind.surgery_gguf": {"en": "GGUF conversion", "zh": "GGUF 转换"},
    "jobs.stage.sgx_cast": {"en": "Casting weights", "zh": "正在转换权重精度"},
    "jobs.stage.sgx_perplexity": {"en": "Perplexity measured", "zh": "已测量困惑度"},
    "jobs.stage.sgx_done": {"en": "Cast written", "zh": "转换已写出"},
    "err.sgx_not_adapter": {
        "en": "{model_id} is a {kind} version, not a base + LoRA adapter: only an adapter can be merged.",
        "zh": "{model_id} 是 {kind} 版本，不是基座 + LoRA 适配器：只有适配器才能合并。",
    },
    "err.sgx_not_local_model": {
        "en": "{model_id} is a {kind} version: only a base or merged model folder on this machine can be converted "
              "(merge an adapter first).",
        "zh": "{model_id} 是 {kind} 版本：只能转换本机上的基座或合并后模型目录（适配器请先合并）。",
    },
    "err.sgx_adapter_incomplete": {
        "en": "The adapter folder {path} is incomplete ({reason}); it may still be written. Nothing was run.",
        "zh": "适配器目录 {path} 不完整（{reason}）；可能仍在写入。未运行任何操作。",
    },
    "err.sgx_base_missing": {
        "en": "The model weights {path} are not a model folder on this machine (no config.json).",
        "zh": "模型权重 {path} 不是本机上的模型目录（缺少 config.json）。",
    },
    "err.sgx_out_outside": {
        "en": "The output folder {path} lies outside the workspace {home}.",
        "zh": "输出文件夹 {path} 不在工作区 {home} 内。",
    },
    "err.sgx_same_dtype": {
        "en": "{model_id} is already stored as {dtype}: nothing to convert.",
        "zh": "{model_id} 已经是 {dtype} 精度：无需转换。",
    },
    "err.sgx_gptq_needs_cuda": {
        "en": "GPTQ {bits}-bit quantization needs a CUDA GPU and none is visible here. The config was saved as "
              "{path}; on the GPU machine, from the workspace, run: {command}",
        "zh": "GPTQ {bits} 位量化需要 CUDA GPU，但本机没有可用 GPU。配置已保存为 {path}；请在 GPU 机器的工作区中运行：{command}",
    },
    "err.sgx_gptq_packages": {
        "en": "GPTQ export needs the packages {packages} (pip install {packages}). The config was saved as {path}.",
        "zh": "GPTQ 导出需要安装 {packages}（pip install {packages}）。配置已保存为 {path}。",
    },
    "err.sgx_gptq_dataset": {
        "en": "The calibration dataset {dataset} is neither a registered dataset with a file nor a file here.",
        "zh": "校准数据集 {dataset} 既不是带文件的已注册数据集，也不是本机文件。",
    },
    "err.sgx_gguf_missing": {
        "en": "llama.cpp's convert_hf_to_gguf.py was not found. Get it with `git clone https://github.com/ggml-org/"
              "llama.cpp` and `pip install -r llama.cpp/requirements/requirements-convert_hf_to_gguf.txt`, then set "
              "LLMOPS_LLAMA_CPP to that folder (or put convert_hf_to_gguf.py on PATH).",
        "zh": "未找到 llama.cpp 的 convert_hf_to_gguf.py。请先 `git clone https://github.com/ggml-org/llama.cpp`，"
              "再 `pip install -r llama.cpp/requirements/requirements-convert_hf_to_gguf.txt`，然后把 "
              "LLMOPS_LLAMA_CPP 设为该目录（或把 convert_hf_to_gguf.py 放到 PATH 中）。",
    },
    "err.sgx_gguf_incomplete": {
        "en": "The GGUF converter ended without writing a GGUF file in {path}; nothing was kept.",
        "zh": "GGUF 转换器结束时未在 {path} 写出 GGUF 文件；未保留任何内容。",
    },
    "err.sgx_export_plan": {
        "en": "The export job's plan {path} is missing or unreadable; nothing was registered.",
        "zh": "导出任务的计划文件 {path} 缺失或无法读取；未注册任何版本。",
    },
    "sgx.saved": {
        "en": "Export config saved: {path}\nRun it by hand from the workspace: {command}",
        "zh": "导出配置已保存：{path}\n可在工作区中手动运行：{command}",
    },
    "sgx.queued": {"en": "Job {job} queued; output folder {path}", "zh": "任务 {job} 已排队；输出文件夹 {path}"},
    "sgx.done": {
        "en": "Registered {model_id} at {path} ({before} → {after} of weights)",
        "zh": "已注册 {model_id}，位于 {path}（权重 {before} → {after}）",
    },
    "sgx.ppl": {"en": "Perplexity on {set}: {before} → {after}", "zh": "{set} 上的困惑度：{before} → {after}"},
    "sgx.gguf_done": {"en": "GGUF written: {file}", "zh": "GGUF 已写出：{file}"},
}
