"""Base models kept in memory for local generation, least recently used evicted first."""

from __future__ import annotations

import contextlib
import hashlib
import json
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..schemas.models import pickle_only_weights
from .base import BackendError

_GB = 1024**3


@dataclass
class Placement:
    """Where local models run: CUDA in bf16 (fp16 without bf16 support), else the CPU in fp32."""

    device: str
    dtype_name: str

    @property
    def bytes_per_param(self) -> int:
        return 4 if self.dtype_name == "float32" else 2


def pick_placement() -> Placement:
    """CUDA if the device probe sees one, else the CPU (services.device is the one probe; it loads torch)."""
    from ..services.device import probe

    info = probe()
    return Placement("cuda" if info.cuda else "cpu", info.dtype_name)


def model_key(path: str) -> str:
    """One key per set of weights: the resolved folder, or the hub id as given."""
    local = Path(path).expanduser()
    return str(local.resolve()) if local.exists() else path


@dataclass
class LoadedBase:
    """One base model and its tokenizer in memory, with the adapters loaded onto it so far."""

    key: str
    model: Any
    tokenizer: Any
    placement: Placement
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Resolved adapter folder -> the adapter's name inside the PeftModel.
    adapters: dict[str, str] = field(default_factory=dict)

    def size_bytes(self) -> int:
        """Bytes held by parameters and buffers (adapters included)."""
        tensors = list(self.model.parameters()) + list(self.model.buffers())
        return sum(t.numel() * t.element_size() for t in tensors)

    @contextlib.contextmanager
    def using(self, adapter: str | None) -> Iterator[Any]:
        """The model with `adapter` active, or with every adapter disabled for None; hold `lock` around it."""
        if adapter is None:
            if self.adapters:
                with self.model.disable_adapter():
                    yield self.model
            else:
                yield self.model
            return
        name = self.ensure_adapter(adapter)
        self.model.set_adapter(name)
        yield self.model

    def ensure_adapter(self, adapter: str) -> str:
        """The adapter's name inside the PeftModel, loading it onto the base first if needed (caller holds `lock`)."""
        folder = model_key(adapter)
        if folder in self.adapters:
            return self.adapters[folder]
        name = "a_" + hashlib.sha1(folder.encode("utf-8")).hexdigest()[:12]
        try:
            if not self.adapters:
                from peft import PeftModel

                # The base module is wrapped in place: later adapters load next to this one, sharing its weights.
                self.model = PeftModel.from_pretrained(self.model, folder, adapter_name=name, is_trainable=False)
            else:
                self.model.load_adapter(folder, adapter_name=name, is_trainable=False)
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise BackendError("err.backend_adapter_failed", path=adapter, reason=str(exc)) from exc
        self.model.eval()
        self.adapters[folder] = name
        return name


class LocalModelCache:
    """Loaded bases by path, LRU-evicted when their estimated size exceeds `memory_budget_gb`; thread-safe."""

    def __init__(self, memory_budget_gb: float = 8.0, placement: Placement | None = None):
        self.budget_bytes = int(memory_budget_gb * _GB)
        self._placement = placement
        self._entries: OrderedDict[str, LoadedBase] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0
        self.evictions = 0
        # Weights key -> (trust_remote_code, allow_pickle), set from the registry entry; both off when absent.
        self.opt_ins: dict[str, tuple[bool, bool]] = {}

    def __repr__(self) -> str:
        return f"LocalModelCache(budget={self.budget_bytes / _GB:g} GB, loaded={self.loaded()})"

    @property
    def placement(self) -> Placement:
        if self._placement is None:
            self._placement = pick_placement()
        return self._placement

    def get(self, path: str) -> LoadedBase:
        """The loaded base at `path`, loading it (and evicting others to make room) when absent."""
        key = model_key(path)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            loading = self._loading.setdefault(key, threading.Lock())
        # Loads of different bases run in parallel; two callers of one base wait for a single load.
        with loading:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
                self._shrink(extra=estimate_bytes(key, self.placement.bytes_per_param), keep=None)
            try:
                loaded = _load(key, path, self.placement, *self.opt_ins.get(key, (False, False)))
                size = loaded.size_bytes()
            except BaseException:
                with self._lock:
                    self._loading.pop(key, None)
                raise
            # One critical section: a caller arriving now finds the entry, never a gap in which it would load again.
            with self._lock:
                self._entries[key] = loaded
                self._sizes[key] = size
                self._loading.pop(key, None)
                self.loads += 1
                self._shrink(extra=0, keep=key)
        return loaded

    def account(self, base: LoadedBase) -> None:
        """Re-measure `base` after it grew (an adapter was loaded onto it; the caller holds its lock)."""
        size = base.size_bytes()
        with self._lock:
            if self._entries.get(base.key) is base:
                self._sizes[base.key] = size
                self._shrink(extra=0, keep=base.key)

    def loaded(self) -> list[str]:
        """Keys of the loaded bases, least recently used first."""
        with self._lock:
            return list(self._entries)

    def used_bytes(self) -> int:
        """Estimated bytes held by every loaded base."""
        with self._lock:
            return sum(self._sizes.values())

    def evict(self, path: str) -> bool:
        """Drop one base; a generation already running on it finishes first (it holds a reference)."""
        with self._lock:
            key = model_key(path)
            entry = self._entries.pop(key, None)
            self._sizes.pop(key, None)
            if entry is not None:
                self.evictions += 1
        if entry is not None:
            _release_memory()
        return entry is not None

    def clear(self) -> None:
        """Drop every base."""
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
        _release_memory()

    def _shrink(self, extra: int, keep: str | None) -> None:
        """Evict least recently used bases (never `keep`) until the rest plus `extra` fit the budget."""
        evicted = False
        while self._entries and sum(self._sizes.values()) + extra > self.budget_bytes:
            victim = next((k for k in self._entries if k != keep), None)
            if victim is None:
                break  # only the base being used is left: it stays even when it alone exceeds the budget
            del self._entries[victim]
            self._sizes.pop(victim, None)
            self.evictions += 1
            evicted = True
        if evicted:
            _release_memory()


def estimate_bytes(path: str, bytes_per_param: int) -> int:
    """Parameters counted from safetensors headers (no weights read) × bytes each; 0 when unknown."""
    folder = Path(path)
    if not folder.is_dir():
        return 0
    count = 0
    for file in sorted(folder.glob("*.safetensors")):
        if file.name.startswith("adapter_"):
            continue
        try:
            with open(file, "rb") as handle:
                (size,) = struct.unpack("<Q", handle.read(8))
                header = json.loads(handle.read(size))
        except (OSError, ValueError, struct.error):
            continue
        for name, info in header.items():
            if name != "__metadata__" and isinstance(info, dict):
                shape = info.get("shape") or []
                count += _product(shape)
    if count:
        return count * bytes_per_param
    # Old .bin checkpoints: their size on disk is the best guess.
    return sum(file.stat().st_size for file in folder.glob("*.bin") if not file.name.startswith("adapter_"))


def _product(shape: list[int]) -> int:
    result = 1
    for dim in shape:
        result *= int(dim)
    return result


def _load(key: str, path: str, placement: Placement, trust: bool = False, allow_pickle: bool = False) -> LoadedBase:
    """Tokenizer and model from `path`, on the cache's device, in eval mode; safetensors and no remote code
    unless the registry entry opted in."""
    if not allow_pickle and pickle_only_weights(key):
        raise BackendError("err.train.pickle_only", path=path)
    import torch

    dtype = getattr(torch, placement.dtype_name)
    try:
        tokenizer, model = _from_pretrained(key, dtype, placement, trust, allow_pickle)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError, ImportError) as exc:
        raise BackendError("err.backend_load_failed", path=path, reason=str(exc)) from exc
    model.eval()
    return LoadedBase(key=key, model=model, tokenizer=tokenizer, placement=placement)


def _from_pretrained(key: str, dtype, placement: Placement, trust: bool = False,
                     allow_pickle: bool = False) -> tuple[Any, Any]:
    """The one place weights and tokenizer are read from disk: safetensors and no remote code unless opted in."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(key, trust_remote_code=trust)
    extra = {"device_map": placement.device} if placement.device != "cpu" else {}
    model = AutoModelForCausalLM.from_pretrained(key, dtype=dtype, trust_remote_code=trust,
                                                 use_safetensors=None if allow_pickle else True, **extra)
    return tokenizer, model


def _release_memory() -> None:
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
