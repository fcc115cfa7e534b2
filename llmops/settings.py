"""Every root and default the app uses; nothing here touches the disk at import."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_ROOT = Path(__file__).resolve().parent.parent


def _default_lang() -> str:
    """Chinese when the environment asks for it, English otherwise."""
    explicit = os.environ.get("LLMOPS_LANG", "").lower()
    if explicit in ("zh", "en"):
        return explicit
    return "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"


@dataclass(frozen=True)
class Settings:
    """Where things live. `home` holds user data; shipped assets stay in the install root."""

    home: Path = INSTALL_ROOT
    install_root: Path = INSTALL_ROOT
    lang: str = field(default_factory=_default_lang)
    host: str = "127.0.0.1"
    port: int = 7860
    # Seconds a stopping trainer gets to save and exit before its whole tree is killed.
    stop_grace_s: float = 30.0
    # Seconds a remote target (SSH box, Slurm) may stay silent before its job is marked LOST (LLMOPS_TARGET_LOST_S).
    target_lost_after_s: float = 60.0
    # Jobs allowed to run at once on one device set (a GPU list, or the CPU).
    jobs_per_device_set: int = 1
    # Memory the A/B tab may use for local models kept loaded (least recently used ones are unloaded).
    local_models_budget_gb: float = 16.0
    # Requests come from the network (the app sets this, also as LLMOPS_RESTRICTED=1 for every Settings built in
    # its process): paths must lie under the allowed roots and a key goes only to the hosts it is bound to. The
    # CLI, run by the machine's own user, leaves it off.
    restricted: bool = False
    # Extra folders the operator allows paths under (LLMOPS_ALLOWED_DIRS, os.pathsep-separated).
    allowed_dirs: tuple[Path, ...] = ()
    # "VAR=url[,url] VAR2=url" (LLMOPS_KEY_BINDINGS): which base URLs each key variable may be sent to.
    key_bindings: str = ""
    # Host names and origins accepted beside loopback (LLMOPS_ALLOWED_HOSTS / LLMOPS_ALLOWED_ORIGINS, comma-separated).
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    # Largest upload accepted, in MB (LLMOPS_MAX_UPLOAD_MB).
    max_upload_mb: float = 200.0
    # Salted password hashes for login (LLMOPS_USERS_FILE); None means <home>/configs/users.json.
    users_file: Path | None = None
    # The Chromium that prints reports to PDF (LLMOPS_CHROMIUM); None means look in the usual places.
    chromium: Path | None = None
    # The `vllm` executable of vLLM's own environment (LLMOPS_VLLM); None means vLLM serving is not set up here.
    vllm: Path | None = None

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Build settings from LLMOPS_* environment variables, then explicit overrides."""
        env: dict = {}
        if os.environ.get("LLMOPS_HOME"):
            env["home"] = Path(os.environ["LLMOPS_HOME"]).expanduser().resolve()
        if os.environ.get("LLMOPS_STOP_GRACE_S"):
            env["stop_grace_s"] = float(os.environ["LLMOPS_STOP_GRACE_S"])
        if os.environ.get("LLMOPS_TARGET_LOST_S"):
            env["target_lost_after_s"] = float(os.environ["LLMOPS_TARGET_LOST_S"])
        if os.environ.get("LLMOPS_LOCAL_MODELS_GB"):
            env["local_models_budget_gb"] = float(os.environ["LLMOPS_LOCAL_MODELS_GB"])
        if os.environ.get("LLMOPS_JOBS_PER_DEVICE_SET"):
            env["jobs_per_device_set"] = int(os.environ["LLMOPS_JOBS_PER_DEVICE_SET"])
        if os.environ.get("LLMOPS_CHROMIUM"):
            env["chromium"] = Path(os.environ["LLMOPS_CHROMIUM"]).expanduser()
        if os.environ.get("LLMOPS_VLLM"):
            env["vllm"] = Path(os.environ["LLMOPS_VLLM"]).expanduser()
        env.update(_security_env())
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)

    # User data (moved as a whole by LLMOPS_HOME).
    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def configs_dir(self) -> Path:
        return self.home / "configs"

    @property
    def checkpoints_dir(self) -> Path:
        return self.home / "checkpoints"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def generated_configs_dir(self) -> Path:
        return self.configs_dir / "llmops"

    @property
    def work_dir(self) -> Path:
        """Generated data, job table and preference log."""
        return self.data_dir / "llmops"

    @property
    def dataset_info_path(self) -> Path:
        return self.data_dir / "dataset_info.json"

    @property
    def jobs_db_path(self) -> Path:
        return self.work_dir / "jobs.sqlite3"

    @property
    def prefs_path(self) -> Path:
        return self.work_dir / "prefs.jsonl"

    @property
    def evals_dir(self) -> Path:
        """Evaluation data: sets under sets/, later runs and reports beside them."""
        return self.work_dir / "evals"

    @property
    def eval_sets_dir(self) -> Path:
        return self.evals_dir / "sets"

    @property
    def pipelines_dir(self) -> Path:
        """The workspace's pipeline files (beside the shipped templates, which they may shadow by name)."""
        return self.configs_dir / "pipelines"

    @property
    def pipeline_runs_dir(self) -> Path:
        """One folder per pipeline run: its frozen pipeline and state.json."""
        return self.work_dir / "pipelines"

    @property
    def demo_model_dir(self) -> Path:
        return self.models_dir / "demo-tiny-qwen2"

    @property
    def credentials_path(self) -> Path:
        """Key bindings kept by the operator; no API of the app writes this file."""
        return self.configs_dir / "credentials.yaml"

    @property
    def targets_path(self) -> Path:
        """Where jobs may run besides this machine (Slurm, SSH); key file paths only, never a key."""
        return self.configs_dir / "targets.json"

    @property
    def known_hosts_path(self) -> Path:
        """The studio's own SSH known_hosts (hosts are accepted on first contact, then pinned)."""
        return self.configs_dir / "known_hosts"

    @property
    def users_path(self) -> Path:
        return self.users_file or self.configs_dir / "users.json"

    @property
    def upload_dir(self) -> Path:
        """Where Gradio stores uploaded files (its own rule: GRADIO_TEMP_DIR, else <tmp>/gradio)."""
        return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")

    # Shipped assets (always read from the install root).
    @property
    def stage_defaults_dir(self) -> Path:
        return self.install_root / "configs" / "stages"

    @property
    def deepspeed_dir(self) -> Path:
        return self.install_root / "configs" / "deepspeed"

    @property
    def benchmarks_dir(self) -> Path:
        """Example lm-evaluation-harness tasks (task YAML beside its local JSONL)."""
        return self.install_root / "configs" / "benchmarks"

    @property
    def pipeline_templates_dir(self) -> Path:
        return self.install_root / "configs" / "pipelines"

    @property
    def sample_docs_dir(self) -> Path:
        return self.install_root / "data" / "docs"

    @property
    def sample_datasets_dir(self) -> Path:
        return self.install_root / "data" / "samples"

    def ensure_dirs(self) -> None:
        """Create the writable folders; called by services, never at import."""
        for path in (self.data_dir, self.work_dir, self.generated_configs_dir, self.checkpoints_dir, self.models_dir):
            path.mkdir(parents=True, exist_ok=True)


def demo_workspace() -> Path:
    """Where `app.py --demo` keeps its own workspace (LLMOPS_DEMO_HOME), apart from the normal one."""
    explicit = os.environ.get("LLMOPS_DEMO_HOME")
    return Path(explicit).expanduser().resolve() if explicit else Path.home() / ".cache" / "llmops-demo"


def _split(value: str, sep: str = ",") -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(sep) if part.strip())


def _security_env() -> dict:
    """The LLMOPS_* security settings that are set in the environment."""
    env: dict = {}
    if os.environ.get("LLMOPS_RESTRICTED") == "1":
        env["restricted"] = True
    if os.environ.get("LLMOPS_ALLOWED_DIRS"):
        env["allowed_dirs"] = tuple(Path(p).expanduser() for p in _split(os.environ["LLMOPS_ALLOWED_DIRS"], os.pathsep))
    if os.environ.get("LLMOPS_KEY_BINDINGS"):
        env["key_bindings"] = os.environ["LLMOPS_KEY_BINDINGS"]
    if os.environ.get("LLMOPS_ALLOWED_HOSTS"):
        env["allowed_hosts"] = tuple(h.lower() for h in _split(os.environ["LLMOPS_ALLOWED_HOSTS"]))
    if os.environ.get("LLMOPS_ALLOWED_ORIGINS"):
        env["allowed_origins"] = tuple(o.lower().rstrip("/") for o in _split(os.environ["LLMOPS_ALLOWED_ORIGINS"]))
    if os.environ.get("LLMOPS_MAX_UPLOAD_MB"):
        env["max_upload_mb"] = float(os.environ["LLMOPS_MAX_UPLOAD_MB"])
    if os.environ.get("LLMOPS_USERS_FILE"):
        env["users_file"] = Path(os.environ["LLMOPS_USERS_FILE"]).expanduser()
    return env
