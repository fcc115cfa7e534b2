"""Ray targets: the Jobs API health check and refusals, in English and Chinese."""

TARGETS_RAY: dict[str, dict[str, str]] = {
    "err.target.ray_unreachable": {
        "en": "Ray cluster {address} cannot be reached through its Jobs API at {url}: {reason}",
        "zh": "无法通过 Jobs API（{url}）连接 Ray 集群 {address}：{reason}"},
    "err.target.shared_missing": {
        "en": "The shared path {path} of target {name} is not a folder on this machine.",
        "zh": "目标 {name} 的共享路径 {path} 在本机不是一个文件夹。"},
    "targets.health.ray_ok": {"en": "the Ray Jobs API at {url} answers (Ray {version})",
                              "zh": "{url} 上的 Ray Jobs API 有响应（Ray {version}）"},
}
