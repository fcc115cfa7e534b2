"""Messages of the security layer (paths, key bindings, origins, uploads, login), in English and Chinese."""

SECURITY: dict[str, dict[str, str]] = {
    "err.sec_path_outside": {
        "en": "'{path}' lies outside the folders this app may read (the workspace, the shipped samples, uploads). "
              "To allow another folder, the operator lists it in LLMOPS_ALLOWED_DIRS (separated by ':').",
        "zh": "“{path}”不在本应用可读取的目录内（工作区、自带示例、上传目录）。如需允许其他目录，"
              "请由管理员将其加入 LLMOPS_ALLOWED_DIRS（用“:”分隔）。",
    },
    "err.sec_key_unbound": {
        "en": "The key in {env} is not bound to {url}, so it is never sent there. The operator binds keys to hosts in "
              "LLMOPS_KEY_BINDINGS (e.g. {env}=https://api.example.com/v1) or in {file}.",
        "zh": "{env} 中的密钥未绑定到 {url}，因此不会发送到该地址。管理员可在 LLMOPS_KEY_BINDINGS"
              "（例如 {env}=https://api.example.com/v1）或 {file} 中将密钥绑定到主机。",
    },
    "err.sec_url_userinfo": {
        "en": "The URL contains a user name or password; it was refused and not shown. Give the key in the key field "
              "or pick a configured credential instead.",
        "zh": "该地址中含有用户名或密码，已被拒绝且不会显示。请在密钥输入框中填写密钥，或选择已配置的凭据。",
    },
    "err.sec_bindings_invalid": {
        "en": "The key bindings ({source}) cannot be read: {reason}",
        "zh": "无法读取密钥绑定（{source}）：{reason}",
    },
    "err.sec_forbidden": {
        "en": "Refused: {reason}.",
        "zh": "已拒绝：{reason}。",
    },
    "err.sec_upload_too_large": {
        "en": "The upload is larger than {limit} MB (LLMOPS_MAX_UPLOAD_MB); nothing was stored.",
        "zh": "上传内容超过 {limit} MB（LLMOPS_MAX_UPLOAD_MB）；未保存任何内容。",
    },
    "err.sec_login_required": {
        "en": "Serving on {host} (beyond this machine) needs a login, and no user is set up. Add one with "
              "`python -m llmops users add NAME` (stored in {path}) or set LLMOPS_USERS_FILE, then start again; "
              "or serve on 127.0.0.1 behind a reverse proxy.",
        "zh": "在 {host} 上提供服务（本机之外可访问）需要登录，但尚未设置用户。请用 `python -m llmops users add NAME` "
              "添加用户（保存在 {path}）或设置 LLMOPS_USERS_FILE 后重新启动；或仅监听 127.0.0.1 并置于反向代理之后。",
    },
    "err.sec_user_bad_name": {
        "en": "'{name}' cannot be a user name: use 1-64 letters, digits, '_', '.', '-' or '@'.",
        "zh": "“{name}”不能作为用户名：请使用 1-64 个字母、数字、“_”、“.”、“-”或“@”。",
    },
    "err.sec_password_short": {
        "en": "The password must have at least {min} characters.",
        "zh": "密码至少需要 {min} 个字符。",
    },
    "err.sec_users_corrupt": {
        "en": "The users file {path} cannot be read: {reason}",
        "zh": "无法读取用户文件 {path}：{reason}",
    },
    "sec.user_added": {
        "en": "User '{name}' saved in {path}.",
        "zh": "用户“{name}”已保存到 {path}。",
    },
    "sec.cli_epilog": {
        "en": "The command line runs as your own user and may read any file you can; the web app reads only under "
              "its allowed roots (workspace, shipped samples, uploads, LLMOPS_ALLOWED_DIRS) and sends a key only to the hosts "
              "it is bound to (LLMOPS_KEY_BINDINGS).",
        "zh": "命令行以您自己的用户身份运行，可以读取您能读取的任何文件；网页应用只读取允许的目录"
              "（工作区、自带示例、上传目录、LLMOPS_ALLOWED_DIRS），并且只把密钥发送到其绑定的主机（LLMOPS_KEY_BINDINGS）。",
    },
}
