"""Model surgery strings shared by every operation (output folders, disk room), in English and Chinese."""

SURGERY: dict[str, dict[str, str]] = {
    "err.sg_output_exists": {
        "en": "The output folder {path} already exists: choose another name or remove it first.",
        "zh": "输出文件夹 {path} 已存在：请换一个名称或先删除它。",
    },
    "err.sg_output_incomplete": {
        "en": "The operation did not finish writing its model in {path}; nothing was registered.",
        "zh": "操作未在 {path} 写完模型；未注册任何版本。",
    },
    "err.sg_no_space": {
        "en": "Not enough disk space at {path}: {needed} needed, {free} free.",
        "zh": "{path} 所在磁盘空间不足：需要 {needed}，可用 {free}。",
    },
}
