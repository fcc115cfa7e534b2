"""One batched `generate` for several chat requests on one base: an adapter, sampling and length per row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..schemas.models import SamplingParams
from .base import BackendError, RowEvent, StopSignal
from .cache import LoadedBase

BASE_ROW = "__base__"  # peft's name for "no adapter" in a mixed-adapter batch


@dataclass(frozen=True)
class RowRequest:
    """One row of a batch: the chat, how to sample it, and the adapter (None: the plain base)."""

    messages: list[dict[str, str]]
    params: SamplingParams
    adapter: str | None = None


def encode_ids(base: LoadedBase, messages: list[dict[str, str]]) -> list[int]:
    """Token ids for `messages` with the assistant's turn opened."""
    tokenizer = base.tokenizer
    try:
        if getattr(tokenizer, "chat_template", None):
            encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
        else:
            # A base model without a chat template still gets a readable transcript to continue.
            text = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages) + "Assistant:"
            encoded = tokenizer(text)
    except Exception as exc:  # a template's own refusal (e.g. no system role) comes in many types
        raise BackendError("err.backend_bad_messages", reason=str(exc)) from exc
    return list(encoded["input_ids"])


def generate_rows(base: LoadedBase, rows: list[RowRequest], emit: Callable[[RowEvent], None],
                  cancel: StopSignal) -> None:
    """Generate every row, in one batch where peft can mix the rows' adapters; the caller holds the base's lock."""
    names = [base.ensure_adapter(row.adapter) if row.adapter else BASE_ROW for row in rows]
    if len(set(names)) == 1 or _can_mix(base, names):
        _generate(base, rows, names, emit, cancel)
        return
    # peft cannot mix these adapters (DoRA) in one batch: one batch per adapter, back to back under the same lock.
    for name in dict.fromkeys(names):
        index = [i for i, other in enumerate(names) if other == name]

        def emit_row(event: RowEvent, index: list[int] = index) -> None:
            emit(RowEvent(index[event.row], event.text, event.done, event.error))
        _generate(base, [rows[i] for i in index], [name] * len(index), emit_row, cancel)


def _can_mix(base: LoadedBase, names: list[str]) -> bool:
    configs = getattr(base.model, "peft_config", {})
    return not any(getattr(configs.get(name), "use_dora", False) for name in set(names) - {BASE_ROW})


def _generate(base: LoadedBase, rows: list[RowRequest], names: list[str], emit: Callable[[RowEvent], None],
              cancel: StopSignal) -> None:
    """One generate over `rows`: one adapter switched on for all, or peft's per-row `adapter_names`."""
    if len(set(names)) == 1:
        with base.using(rows[0].adapter) as model:
            _run(base, model, rows, {}, emit, cancel)
    else:
        _run(base, base.model, rows, {"adapter_names": names}, emit, cancel)


def _run(base: LoadedBase, model, rows: list[RowRequest], extra: dict, emit: Callable[[RowEvent], None],
         cancel: StopSignal) -> None:
    """Left-pad the rows' prompts and stream `model.generate` row by row."""
    import torch
    from transformers import StoppingCriteriaList

    tokenizer = base.tokenizer
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = [encode_ids(base, row.messages) for row in rows]
    width = max(len(row) for row in ids)
    device = next(model.parameters()).device
    input_ids = torch.tensor([[pad] * (width - len(row)) + row for row in ids], device=device)
    mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in ids], device=device)
    limits = [row.params.max_new_tokens for row in rows]
    seed = next((row.params.seed for row in rows if row.params.seed is not None), None)
    if seed is not None:
        # Global RNG state: calls on one base are serialized by its lock, so a seed reproduces a reply.
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    streamer = RowStreamer(tokenizer, limits, _eos_ids(model, tokenizer), emit)
    model.generate(input_ids=input_ids, attention_mask=mask, **_sampling(rows), **extra, max_new_tokens=max(limits),
                   streamer=streamer, stopping_criteria=StoppingCriteriaList([_row_stop(width, limits, cancel)]),
                   pad_token_id=pad)


def _eos_ids(model, tokenizer) -> set[int]:
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(configured if isinstance(configured, list) else [configured])
    ids.add(tokenizer.eos_token_id)
    return {i for i in ids if i is not None}


def _sampling(rows: list[RowRequest]) -> dict:
    """generate's sampling arguments; rows that differ get a per-row processor instead of one shared setting."""
    params = [row.params for row in rows]
    if all(p.temperature == 0 for p in params):
        return {"do_sample": False}
    first = params[0]
    if all((p.temperature, p.top_p) == (first.temperature, first.top_p) for p in params):
        return {"do_sample": True, "temperature": first.temperature, "top_p": first.top_p}
    from transformers import LogitsProcessorList

    return {"do_sample": True, "temperature": 1.0, "top_p": 1.0,
            "logits_processor": LogitsProcessorList([_row_sampling(params)])}


def _row_sampling(params: list[SamplingParams]):
    """A logits processor applying each row's temperature and top_p; a greedy row keeps only its argmax."""
    import torch
    from transformers import LogitsProcessor

    class RowSampling(LogitsProcessor):
        def __call__(self, input_ids, scores):
            out = scores.clone()
            for row, p in enumerate(params):
                if p.temperature == 0:
                    keep = out[row].argmax()
                    out[row] = float("-inf")
                    out[row, keep] = scores[row, keep]
                    continue
                out[row] = out[row] / p.temperature
                if p.top_p < 1.0:
                    ordered, index = out[row].sort(descending=False)
                    drop = ordered.softmax(-1).cumsum(-1) <= (1 - p.top_p)
                    drop[-1] = False  # the most likely token always stays
                    out[row, index[drop]] = float("-inf")
            return out

    return RowSampling()


def _row_stop(prompt_width: int, limits: list[int], cancel: StopSignal):
    """Each row stops at its own max_new_tokens; every row stops once `cancel` is set."""
    import torch
    from transformers import StoppingCriteria

    class RowStop(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            generated = input_ids.shape[1] - prompt_width
            done = torch.tensor([cancel.is_set() or generated >= limit for limit in limits], dtype=torch.bool)
            return done.to(input_ids.device)

    return RowStop()


class RowStreamer:
    """generate's streamer for a batch: emits each row's text as soon as it decodes to whole characters."""

    def __init__(self, tokenizer, limits: list[int], eos_ids: set[int], emit: Callable[[RowEvent], None]):
        self.tokenizer, self.limits, self.eos_ids, self.emit = tokenizer, limits, eos_ids, emit
        rows = len(limits)
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.printed, self.counts, self.done = [0] * rows, [0] * rows, [False] * rows
        self.prompt_seen = False

    def put(self, value) -> None:
        """Called by generate with the prompt first, then with one new token per row per step."""
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        for row, token in enumerate(value.reshape(-1).tolist()):
            if self.done[row]:
                continue  # a finished row keeps receiving padding
            self.counts[row] += 1
            if token in self.eos_ids:
                self._finish(row)
                continue
            self.tokens[row].append(token)
            text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
            if not text.endswith("\ufffd"):  # else half of a multi-byte character: wait for the rest
                self._emit_text(row, text)
            if self.counts[row] >= self.limits[row]:
                self._finish(row)

    def end(self) -> None:
        """Called by generate when the batch is done: every row not yet finished ends now."""
        for row, done in enumerate(self.done):
            if not done:
                self._finish(row)

    def _emit_text(self, row: int, text: str) -> None:
        piece = text[self.printed[row]:]
        if text.endswith("\n"):
            self.tokens[row], self.printed[row] = [], 0  # decoding restarts after a line: cost stays flat
        else:
            self.printed[row] = len(text)
        if piece:
            self.emit(RowEvent(row, text=piece))

    def _finish(self, row: int) -> None:
        rest = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)[self.printed[row]:]
        if rest:
            self.emit(RowEvent(row, text=rest))
        self.done[row] = True
        self.emit(RowEvent(row, done=True))
