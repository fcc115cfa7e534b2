"""Local generation with transformers; adapters share one base model in memory."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

from ..schemas.models import SamplingParams
from .base import Backend, BackendError, check_messages
from .cache import LoadedBase, LocalModelCache

_END = object()


class LocalBackend(Backend):
    """A base (or merged) model from the cache, optionally with one LoRA adapter switched on per call."""

    def __init__(self, cache: LocalModelCache, base_path: str, adapter: str | None = None):
        self.cache = cache
        self.base_path = base_path
        self.adapter = adapter

    def __repr__(self) -> str:
        return f"LocalBackend(base_path={self.base_path!r}, adapter={self.adapter!r})"

    def stream(self, messages: list[dict], params: SamplingParams) -> Iterator[str]:
        """Yield text as it is generated; closing the iterator stops the generation."""
        messages = check_messages(messages)
        return self._stream(messages, params)

    def first_token_logits(self, messages: list[dict]):
        """Logits of the first reply token (a 1-D CPU float tensor): the cheapest proof two models differ."""
        import torch

        messages = check_messages(messages)
        with self._active() as (base, model), torch.inference_mode():
            return model(**_encode(base, messages)).logits[0, -1].float().cpu()

    def _stream(self, messages: list[dict[str, str]], params: SamplingParams) -> Iterator[str]:
        # The worker thread owns the base's lock from start to end, so the consumer never holds it between
        # chunks: two streams on one base read in turns from one thread (an A/B pane) queue, never deadlock.
        chunks: queue.Queue = queue.Queue()
        cancel = threading.Event()
        worker = threading.Thread(target=self._work, args=(messages, params, chunks, cancel),
                                  name="llmops-generate", daemon=True)
        worker.start()
        try:
            while (item := chunks.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancel.set()

    def _work(self, messages: list[dict[str, str]], params: SamplingParams, chunks: queue.Queue,
              cancel: threading.Event) -> None:
        try:
            with self._active(cancel) as (base, model):
                if model is not None:
                    _generate(base, model, messages, params, chunks, cancel)
        except BackendError as exc:
            chunks.put(exc)
        except Exception as exc:  # noqa: BLE001 - any failure in the thread reaches the caller as a BackendError
            chunks.put(BackendError("err.backend_generation_failed", reason=f"{type(exc).__name__}: {exc}"))
        finally:
            chunks.put(_END)

    @contextlib.contextmanager
    def _active(self, cancel: threading.Event | None = None) -> Iterator[tuple[LoadedBase, object]]:
        """The shared base, locked, with this backend's adapter switched on (model None if cancelled meanwhile)."""
        base = self.cache.get(self.base_path)
        with base.lock:
            if cancel is not None and cancel.is_set():
                yield base, None
                return
            adapters_before = len(base.adapters)
            with base.using(self.adapter) as model:
                if len(base.adapters) != adapters_before:
                    self.cache.account(base)
                yield base, model


def _encode(base: LoadedBase, messages: list[dict[str, str]]):
    """Token ids for `messages` with the assistant's turn opened, on the model's device."""
    tokenizer = base.tokenizer
    try:
        if getattr(tokenizer, "chat_template", None):
            encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                    return_dict=True)
        else:
            # A base model without a chat template still gets a readable transcript to continue.
            text = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages) + "Assistant:"
            encoded = tokenizer(text, return_tensors="pt")
    except Exception as exc:  # a template's own refusal (e.g. no system role) comes in many types
        raise BackendError("err.backend_bad_messages", reason=str(exc)) from exc
    device = next(base.model.parameters()).device
    return {name: tensor.to(device) for name, tensor in encoded.items()
            if name in ("input_ids", "attention_mask")}


def _generate(base: LoadedBase, model, messages: list[dict[str, str]], params: SamplingParams,
              chunks: queue.Queue, cancel: threading.Event) -> None:
    """Run `model.generate`, putting each new piece of text on `chunks`; stops early once `cancel` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

    class DeltaStreamer(TextStreamer):
        """Emits every token's text as soon as it decodes to whole characters (not word by word)."""

        def put(self, value):
            if len(value.shape) > 1:
                value = value[0]
            if self.skip_prompt and self.next_tokens_are_prompt:
                self.next_tokens_are_prompt = False
                return
            self.token_cache.extend(value.tolist())
            text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
            if text.endswith("\ufffd"):
                return  # half of a multi-byte character: wait for the rest
            printable = text[self.print_len:]
            if text.endswith("\n"):
                self.token_cache, self.print_len = [], 0
            else:
                self.print_len = len(text)
            self.on_finalized_text(printable)

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                chunks.put(text)

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device)

    tokenizer = base.tokenizer
    sampling = ({"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
                if params.temperature > 0 else {"do_sample": False})
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if params.seed is not None:
        # Global RNG state: calls on one base are serialized by its lock, so a seed reproduces a reply.
        torch.manual_seed(params.seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(params.seed)
    model.generate(**_encode(base, messages), **sampling, max_new_tokens=params.max_new_tokens,
                   streamer=DeltaStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True),
                   stopping_criteria=StoppingCriteriaList([Cancelled()]), pad_token_id=pad)
