"""The model registry: every model the studio can chat with, versioned, in one locked JSON file."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pydantic

from ..errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from ..lf import templates
from ..schemas.jobs import Job, JobStatus
from ..schemas.model_ref import looks_like_hub_id
from ..schemas.models import (
    NAME_PATTERN,
    VERSION_PATTERN,
    Endpoint,
    ModelEntry,
    looks_like_secret,
    url_problem,
)
from ..security.credentials import has_userinfo, require_bound
from ..security.paths import contain, contain_if_local
from ..settings import Settings
from ..storage import file_lock, write_json_if_changed
from . import demo_model

SCHEMA_VERSION = 1
DEMO_NAME = "demo"
FIRST_VERSION = "v1.0"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
FULL_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
_NAME = re.compile(NAME_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)
_SEMVER = re.compile(r"^v(\d+)\.(\d+)$")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_adapter_dir(path: Path) -> bool:
    """A folder holding a PEFT adapter (config and weights)."""
    return (path / "adapter_config.json").is_file() and any((path / name).is_file() for name in ADAPTER_WEIGHTS)


def is_model_dir(path: Path) -> bool:
    """A folder holding a full transformers model (config and weights)."""
    return (path / "config.json").is_file() and any((path / name).is_file() for name in FULL_WEIGHTS)


@dataclass
class _State:
    """The registry file's content while it is being read or edited."""

    models: dict[str, ModelEntry] = field(default_factory=dict)
    default: str | None = None

    def next_version(self, name: str) -> str:
        taken = {entry.version for entry in self.models.values() if entry.name == name}
        parsed = [(int(m[1]), int(m[2])) for m in (_SEMVER.match(v) for v in taken) if m]
        if not parsed:
            major, minor = 1, 0
        else:
            major, minor = max(parsed)
            minor += 1
        while f"v{major}.{minor}" in taken:
            minor += 1
        return f"v{major}.{minor}"

    def add(self, entry: ModelEntry) -> ModelEntry:
        if entry.id in self.models:
            raise ConflictError("err.model_exists", model_id=entry.id)
        self.models[entry.id] = entry
        return entry

    def find_by_path(self, path: str) -> ModelEntry | None:
        """The earliest base or merged entry loading exactly `path`."""
        wanted = _norm(path)
        for entry in self.models.values():
            if entry.kind in ("base", "merged") and entry.path and _norm(entry.path) == wanted:
                return entry
        return None

    def find_adapter(self, adapter: str) -> ModelEntry | None:
        """The earliest adapter entry whose adapter folder is `adapter`."""
        wanted = _norm(adapter)
        for entry in self.models.values():
            if entry.kind == "adapter" and entry.adapter and _norm(entry.adapter) == wanted:
                return entry
        return None

    def free_name(self, name: str, path: str) -> str:
        """`name`, or `name-2`, `name-3`… when that name already belongs to other weights."""
        candidate, attempt = name, 1
        while any(e.name == candidate and _norm(e.path or "") != _norm(path) for e in self.models.values()):
            attempt += 1
            candidate = f"{name}-{attempt}"
        return candidate


class ModelRegistry:
    """Models persisted in `work_dir/models.json`; every change is a locked read-modify-atomic-write."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.path = settings.work_dir / "models.json"

    # --- reading ----------------------------------------------------------------------------------

    def list(self) -> list[ModelEntry]:
        """Every entry, in registration order."""
        return list(self._read().models.values())

    def get(self, model_id: str) -> ModelEntry:
        """One entry by `name@version`."""
        entry = self._read().models.get(model_id)
        if entry is None:
            raise NotFoundError("err.model_unknown", model_id=model_id)
        return entry

    def versions(self, name: str) -> list[ModelEntry]:
        """Every version registered under `name`, oldest first."""
        return [entry for entry in self._read().models.values() if entry.name == name]

    def next_version(self, name: str) -> str:
        """The version the next registration of `name` gets: v1.0, then v1.1, v1.2…"""
        return self._read().next_version(_check_name(name))

    def default(self) -> ModelEntry | None:
        """The model used as the chat backend, if one was chosen and still exists."""
        state = self._read()
        return state.models.get(state.default) if state.default else None

    # --- registering ------------------------------------------------------------------------------

    def add_base(self, name: str, path: str, version: str = FIRST_VERSION, template: str | None = None) -> ModelEntry:
        """Register a base model: a local folder with config.json (inside the allowed roots), or a hub id."""
        location = _model_location(contain_if_local(self.settings, path))
        local = Path(location)
        demo = local.is_dir() and demo_model.is_demo(local)
        entry = _entry(name=_check_name(name), version=_check_version(version), kind="base", path=location,
                       template=template or _guess_template(location), demo=demo)
        with self._editing() as state:
            return state.add(entry)

    def add_adapter(self, name: str, base_id: str, adapter_path: str, version: str | None = None,
                    lineage: dict | None = None) -> ModelEntry:
        """Register a LoRA adapter on a registered base (or merged) model; the version defaults to the next one."""
        name = _check_name(name)
        folder = contain(self.settings, adapter_path)
        if not is_adapter_dir(folder):
            raise NotFoundError("err.model_adapter_missing", path=str(adapter_path))
        with self._editing() as state:
            base = state.models.get(base_id)
            if base is None:
                raise NotFoundError("err.model_unknown", model_id=base_id)
            if base.kind not in ("base", "merged"):
                raise InvalidInputError("err.model_adapter_base", model_id=base_id, kind=base.kind)
            entry = _entry(name=name, version=_check_version(version or state.next_version(name)), kind="adapter",
                           path=base.path, adapter=str(folder.resolve()), template=base.template,
                           lineage={**(lineage or {}), "parent_id": base_id}, demo=base.demo)
            return state.add(entry)

    def add_merged(self, name: str, path: str, version: str | None = None, lineage: dict | None = None,
                   template: str | None = None) -> ModelEntry:
        """Register a full model folder made by a merge or a full fine-tune."""
        name = _check_name(name)
        folder = contain(self.settings, path)
        if not (folder / "config.json").is_file():
            raise NotFoundError("err.model_path_missing", path=str(path))
        lineage = dict(lineage or {})
        with self._editing() as state:
            parent = state.models.get(lineage.get("parent_id") or "")
            entry = _entry(name=name, version=_check_version(version or state.next_version(name)), kind="merged",
                           path=str(folder.resolve()), lineage=lineage,
                           template=template or (parent.template if parent else None) or _guess_template(str(folder)),
                           demo=bool(parent and parent.demo) or demo_model.is_demo(folder))
            return state.add(entry)

    def add_endpoint(self, name: str, base_url: str, model: str, api_key_env: str | None = None,
                     version: str | None = FIRST_VERSION, lineage: dict | None = None) -> ModelEntry:
        """Register an OpenAI-compatible server; `api_key_env` names a variable bound to this URL's host.

        A `lineage` with a job_id registers once per job (the entry already made for it is returned); version None
        takes the next free one."""
        name = _check_name(name)
        version = None if version is None else _check_version(version)
        if has_userinfo(base_url) or url_problem(base_url) == "credentials in the URL":
            raise InvalidInputError("err.model_endpoint_credentials")  # the URL is not echoed: it holds a secret
        if problem := url_problem(base_url):
            raise InvalidInputError("err.model_endpoint_url", url=base_url, reason=problem)
        api_key_env = (api_key_env or "").strip() or None
        if api_key_env and looks_like_secret(api_key_env):
            raise InvalidInputError("err.model_api_key_env")
        if api_key_env:
            require_bound(self.settings, api_key_env, base_url)  # a key never goes to a host it is not bound to
        try:
            endpoint = Endpoint(base_url=base_url, model=(model or "").strip(), api_key_env=api_key_env)
        except pydantic.ValidationError as exc:
            raise InvalidInputError("err.model_invalid", details=_details(exc)) from None
        lineage = dict(lineage or {})
        with self._editing() as state:
            job_id = lineage.get("job_id")
            made = next((e for e in state.models.values() if job_id and e.kind == "endpoint"
                         and e.lineage.get("job_id") == job_id), None)
            if made is not None:
                return made
            entry = _entry(name=name, version=version or state.next_version(name), kind="endpoint",
                           endpoint=endpoint, lineage=lineage)
            return state.add(entry)

    def remove(self, model_id: str) -> ModelEntry:
        """Forget one entry (files on disk are left alone); clears the default if it was that entry."""
        with self._editing() as state:
            entry = state.models.pop(model_id, None)
            if entry is None:
                raise NotFoundError("err.model_unknown", model_id=model_id)
            if state.default == model_id:
                state.default = None
            return entry

    def set_default(self, model_id: str | None, *, force: bool = False,
                    previous: str | None = None) -> ModelEntry | None:
        """Use `model_id` as the chat backend (None clears the choice).

        When the regression gate is on, `model_id` must not regress against `previous` (default: the current
        default); `force` overrides a failed gate and records the verdict in the candidate's lineage."""
        from .evaluation import gate
        from .lineage.record import record_gate

        with self._editing() as state:
            if model_id is not None and model_id not in state.models:
                raise NotFoundError("err.model_unknown", model_id=model_id)
            verdict = gate.enforce(self.settings, model_id, previous or state.default, force=force) if model_id else None
            record_gate(self.settings, verdict, forced=force)
            if verdict is not None and not verdict.passed:
                entry = state.models[model_id]
                overrides = [*entry.lineage.get("gate_overrides", []), gate.override_record(verdict, _now())]
                state.models[model_id] = entry.model_copy(update={"lineage": {**entry.lineage,
                                                                              "gate_overrides": overrides}})
            state.default = model_id
            return state.models.get(model_id) if model_id else None

    def ensure_demo(self, path: Path | str | None = None) -> ModelEntry | None:
        """Register the demo model as demo@v1.0 when its folder exists; returns the entry, or None."""
        folder = Path(path or self.settings.demo_model_dir)
        if not demo_model.is_demo(folder):
            return None
        with self._editing() as state:
            existing = state.models.get(f"{DEMO_NAME}@{FIRST_VERSION}")
            if existing is not None:
                return existing
            return state.add(_entry(name=DEMO_NAME, version=FIRST_VERSION, kind="base", path=str(folder.resolve()),
                                    template="chatml", demo=True))

    def sync_jobs(self, jobs: Iterable[Job]) -> list[ModelEntry]:
        """Register each completed training's output once as a new version of its parent; returns what was added."""
        candidates = sorted((job for job in jobs if job.kind == "train" and job.status is JobStatus.COMPLETED),
                            key=lambda job: (job.finished_at or job.created_at, job.id))
        if not candidates:
            return []
        with self._editing() as state:
            before = set(state.models)
            known = {entry.lineage.get("job_id") for entry in state.models.values()}
            for job in candidates:
                if job.id not in known:
                    entry = _entry_for_job(state, job)
                    if entry is not None:
                        state.add(entry)
                        known.add(job.id)
            # New versions, plus any base a job trained on that had not been registered yet.
            return [entry for model_id, entry in state.models.items() if model_id not in before]

    def set_load_options(self, model_id: str, trust_remote_code: bool, allow_pickle: bool) -> ModelEntry:
        """Opt one entry in (or out) of running its own code and of pickle weights."""
        with self._editing() as state:
            entry = state.models.get(model_id)
            if entry is None:
                raise NotFoundError("err.model_unknown", model_id=model_id)
            state.models[model_id] = entry.model_copy(update={"trust_remote_code": bool(trust_remote_code),
                                                               "allow_pickle": bool(allow_pickle)})
            return state.models[model_id]

    def load_options(self, path: str) -> tuple[bool, bool]:
        """(trust_remote_code, allow_pickle) for the weights at `path`: on only if an entry loading them opts in."""
        wanted = _norm(path)
        entries = [e for e in self._read().models.values() if e.path and _norm(e.path) == wanted]
        return any(e.trust_remote_code for e in entries), any(e.allow_pickle for e in entries)

    # --- storage ----------------------------------------------------------------------------------

    def _read(self) -> _State:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return _State()
        except OSError as exc:
            raise StorageError("err.model_registry_corrupt", path=str(self.path), reason=str(exc)) from None
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("models"), list):
                raise TypeError("expected an object with a 'models' list")
            if data.get("schema", SCHEMA_VERSION) > SCHEMA_VERSION:
                raise ValueError(f"written by a newer version (schema {data['schema']})")
            state = _State(default=data.get("default"))
            for index, item in enumerate(data["models"]):
                try:
                    entry = ModelEntry.model_validate(item)
                except pydantic.ValidationError as exc:
                    raise ValueError(f"entry {index}: {_details(exc)}") from None
                if entry.id in state.models:
                    raise ValueError(f"entry {index}: duplicate id {entry.id}")
                state.models[entry.id] = entry
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise StorageError("err.model_registry_corrupt", path=str(self.path), reason=str(exc)) from None
        return state

    @contextlib.contextmanager
    def _editing(self) -> Iterator[_State]:
        """Read under the file lock, let the caller change the state, write it back atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.path):
            state = self._read()  # a corrupt file raises here, so it is never overwritten
            yield state
            write_json_if_changed(self.path, {
                "schema": SCHEMA_VERSION,
                "default": state.default,
                "models": [entry.model_dump(mode="json") for entry in state.models.values()],
            })


def ensure_demo(settings: Settings, path: Path | str | None = None) -> ModelEntry | None:
    """Register the demo model (settings.demo_model_dir unless `path` is given) as demo@v1.0 if it exists."""
    return ModelRegistry(settings).ensure_demo(path)


# --- helpers ------------------------------------------------------------------------------------------


def _entry(**values) -> ModelEntry:
    try:
        return ModelEntry(created=_now(), **values)
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.model_invalid", details=_details(exc)) from None


def _entry_for_job(state: _State, job: Job) -> ModelEntry | None:
    """The entry a completed training job's output makes, or None when it left nothing loadable."""
    meta = job.meta or {}
    out = Path(meta.get("output_dir") or job.run_dir)
    trained_on = meta.get("model")
    finetuning = meta.get("finetuning_type") or "lora"
    if not trained_on:
        return None
    if finetuning == "lora" and is_adapter_dir(out):
        kind = "adapter"
    elif finetuning in ("full", "freeze") and is_model_dir(out):
        kind = "merged"
    else:
        return None
    resumed = (meta.get("config") or {}).get("adapter_name_or_path")
    parent = (state.models.get(meta.get("parent_model_id") or "")
              or (state.find_adapter(resumed) if isinstance(resumed, str) and resumed else None)
              or state.find_by_path(trained_on))
    if parent is None:
        parent = state.add(_auto_base(state, trained_on, meta.get("template")))
    datasets = meta.get("dataset") or []
    if isinstance(datasets, str):
        datasets = [part.strip() for part in datasets.split(",") if part.strip()]
    lineage = {"job_id": job.id, "datasets": list(datasets), "stage": meta.get("stage"), "parent_id": parent.id,
               "finetuning_type": finetuning, "output_dir": str(out)}
    finished = datetime.fromtimestamp(job.finished_at or job.created_at, UTC).isoformat(timespec="seconds")
    common = {"name": parent.name, "version": state.next_version(parent.name), "kind": kind, "lineage": lineage,
              "template": meta.get("template") or parent.template, "demo": parent.demo}
    if kind == "adapter":
        # The adapter loads on the weights the job actually trained on.
        values = {**common, "path": _model_location(trained_on, strict=False), "adapter": str(out.resolve())}
    else:
        values = {**common, "path": str(out.resolve())}
    try:
        return ModelEntry(created=finished, **values)
    except pydantic.ValidationError as exc:
        raise InvalidInputError("err.model_invalid", details=_details(exc)) from None


def _auto_base(state: _State, model: str, template: str | None) -> ModelEntry:
    """A base entry for weights a job trained on that nobody registered yet."""
    location = _model_location(model, strict=False)
    local = Path(location)
    demo = local.is_dir() and demo_model.is_demo(local)
    raw = DEMO_NAME if demo else Path(location.rstrip("/")).name
    name = re.sub(r"[^A-Za-z0-9_.\-\u4e00-\u9fff]+", "-", raw).strip("-._")[:100] or "model"
    name = state.free_name(name, location)
    return _entry(name=name, version=state.next_version(name), kind="base", path=location,
                  template=template or _guess_template(location), demo=demo)


def _model_location(path: str, *, strict: bool = True) -> str:
    """An absolute folder path, or a hub id kept as typed; `strict` refuses anything else."""
    text = (path or "").strip()
    local = Path(text).expanduser()
    if text and local.exists():
        if strict and not (local / "config.json").is_file():
            raise NotFoundError("err.model_path_missing", path=text)
        return str(local.resolve())
    if strict and not looks_like_hub_id(text):
        raise NotFoundError("err.model_path_missing", path=text)
    return text


def _norm(path: str) -> str:
    local = Path(path).expanduser()
    return str(local.resolve()) if local.exists() else path


def _guess_template(location: str) -> str | None:
    return templates.guess(location) or None


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name) or ".." in name:
        raise InvalidInputError("err.model_bad_name", name=name)
    return name


def _check_version(version: str) -> str:
    version = (version or "").strip()
    if not _VERSION.match(version):
        raise InvalidInputError("err.model_bad_version", version=version)
    return version


def _details(exc: pydantic.ValidationError) -> str:
    # input values are left out on purpose: they may hold a secret someone pasted in the wrong field.
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors())
