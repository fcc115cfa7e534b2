"""The A/B arena: two anonymous models answer one prompt side by side; a person's vote becomes a prefs line."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..backends import Backend, BackendError, RowEvent, backend_for, stream_together
from ..backends.cache import LocalModelCache
from ..errors import ConflictError, InvalidInputError, LLMOpsError, NotFoundError
from ..i18n import t
from ..schemas.models import SamplingParams
from .models import ModelRegistry
from .prefs import PrefsStore, Vote

Choice = Literal["left", "right", "tie", "both_bad"]
CHOICES: tuple[str, ...] = ("left", "right", "tie", "both_bad")
_MAX_ROUNDS = 10_000  # rounds kept in memory for voting; older unvoted rounds expire
_IDLE_S = 0.25  # a round waiting for a busy base still yields this often, so it can be cancelled
_FRAME_S = 0.03  # the fastest a round sends frames (about 33 a second), however fast tokens come


@dataclass
class Round:
    """One comparison as the server remembers it; the client only ever sees left/right."""

    round_id: str
    session: str
    prompt: str
    system: str
    params: SamplingParams
    model_a: str
    model_b: str
    left: Literal["a", "b"]
    response_a: str = ""
    response_b: str = ""
    latency_ms: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    done: bool = False
    # Set when the round stops early: its client went away or its session started another round.
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def left_model(self) -> str:
        return self.model_a if self.left == "a" else self.model_b

    @property
    def right_model(self) -> str:
        return self.model_b if self.left == "a" else self.model_a

    def side_of(self, letter: str) -> str:
        """'left' or 'right': where model `letter` is shown."""
        return "left" if letter == self.left else "right"

    def side_text(self, side: str) -> str:
        """Text shown on `side` ('left' or 'right')."""
        letter = self.left if side == "left" else ("b" if self.left == "a" else "a")
        return self.response_a if letter == "a" else self.response_b

    def texts(self) -> tuple[str, str]:
        return self.side_text("left"), self.side_text("right")


class SideFailedError(BackendError):
    """One side of a round failed; the message names the side (never the hidden model) and the cause."""

    def __init__(self, side: str, cause: LLMOpsError):
        self.side, self.cause = side, cause
        super().__init__(f"err.arena_{side}_failed")

    def message(self, lang: str = "en") -> str:
        return t(self.key, lang, reason=self.cause.message(lang))


@dataclass(frozen=True)
class VoteResult:
    """What the voter learns once the vote is on disk."""

    vote_id: str
    stored: bool
    winner: str
    left_model: str
    right_model: str


class ArenaService:
    """Pairs models, streams both answers together, and records votes durably."""

    def __init__(self, models: ModelRegistry, cache: LocalModelCache, prefs: PrefsStore, rng: random.Random | None = None):
        self.models = models
        self.cache = cache
        self.prefs = prefs
        self._rng = rng or random.Random()
        self._rounds: OrderedDict[str, Round] = OrderedDict()
        self._streaming: dict[str, Round] = {}  # session -> the round it is generating now
        self._lock = threading.Lock()

    def pick_pair(self, model_a: str | None = None, model_b: str | None = None) -> tuple[str, str]:
        """The two models asked for, or distinct random ones from the registry."""
        ids = [entry.id for entry in self.models.list()]
        for chosen in (model_a, model_b):
            if chosen and chosen not in ids:
                raise NotFoundError("err.model_unknown", model_id=chosen)
        pool = [i for i in ids if i not in (model_a, model_b)]
        if not model_a:
            if not pool:
                raise InvalidInputError("err.arena_need_two")
            model_a = self._rng.choice(pool)
            pool.remove(model_a)
        if not model_b:
            if not pool:
                raise InvalidInputError("err.arena_need_two")
            model_b = self._rng.choice(pool)
        if model_a == model_b:
            raise InvalidInputError("err.arena_same_model")
        return model_a, model_b

    def start_round(self, session: str, prompt: str, system: str = "", params: SamplingParams | None = None,
                    model_a: str | None = None, model_b: str | None = None) -> Round:
        """Validate the prompt, choose the pair and a random side for each; the session's running round stops."""
        if not (prompt or "").strip():
            raise InvalidInputError("err.arena_empty_prompt")
        model_a, model_b = self.pick_pair(model_a or None, model_b or None)
        round_ = Round(uuid.uuid4().hex, session, prompt, system or "", params or SamplingParams(), model_a, model_b,
                       left=self._rng.choice(("a", "b")))
        with self._lock:
            previous = self._streaming.get(session)
            if previous is not None:
                previous.cancel.set()  # its worker gives the base up at the next token
            self._rounds[round_.round_id] = round_
            while len(self._rounds) > _MAX_ROUNDS:
                self._rounds.popitem(last=False)
        return round_

    def stream(self, round_: Round) -> Iterator[tuple[str, str]]:
        """Yield (left text, right text) as both models stream together; closing this generator cancels the round."""
        with self._lock:
            self._streaming[round_.session] = round_
        try:
            backends = self._backends(round_)
            if backends is not None:
                yield from self._generate(round_, backends)
            if round_.cancel.is_set():
                return  # a newer round of this session owns the panes now
            self._check_finished(round_)
            round_.done = not round_.errors
            yield round_.texts()
        finally:
            if not round_.done:
                round_.cancel.set()
            with self._lock:
                if self._streaming.get(round_.session) is round_:
                    del self._streaming[round_.session]

    def _backends(self, round_: Round) -> list[Backend] | None:
        """Both sides' backends; a side whose model is gone or unusable fails the round before any generation."""
        backends = []
        for letter, model_id in (("a", round_.model_a), ("b", round_.model_b)):
            try:
                backends.append(backend_for(self.models.get(model_id), self.cache))
            except LLMOpsError as exc:
                round_.errors[letter] = SideFailedError(round_.side_of(letter), exc)
        return None if round_.errors else backends

    def _generate(self, round_: Round, backends: list[Backend]) -> Iterator[tuple[str, str]]:
        messages = ([{"role": "system", "content": round_.system}] if round_.system else []) + [
            {"role": "user", "content": round_.prompt}]
        request = (messages, round_.params)
        start = time.perf_counter()
        events = stream_together(backends, [request, request], round_.cancel, idle_s=_IDLE_S)
        try:
            shown = 0.0
            for event in events:
                if round_.cancel.is_set():
                    return
                now = time.perf_counter()
                if event is not None:
                    self._apply(round_, event, round(1000 * (now - start), 1))
                    if now - shown < _FRAME_S and not event.done:
                        continue  # at most one frame per _FRAME_S: every frame costs the server a diff and a send
                # An idle frame too: a server closing this generator (its client left) can only do so at a yield.
                shown = now
                yield round_.texts()
        finally:
            events.close()

    @staticmethod
    def _apply(round_: Round, event: RowEvent, elapsed_ms: float) -> None:
        letter = "ab"[event.row]
        if event.text:
            round_.latency_ms.setdefault(f"first_token_{letter}", elapsed_ms)
            if letter == "a":
                round_.response_a += event.text
            else:
                round_.response_b += event.text
        if event.done:
            round_.latency_ms[letter] = elapsed_ms
            if event.error is not None:
                cause = event.error if isinstance(event.error, LLMOpsError) else BackendError(
                    "err.backend_generation_failed", reason=str(event.error))
                round_.errors[letter] = SideFailedError(round_.side_of(letter), cause)

    def _check_finished(self, round_: Round) -> None:
        """A side left empty, or a model removed from the registry meanwhile, fails the round."""
        for letter, model_id, text in (("a", round_.model_a, round_.response_a), ("b", round_.model_b,
                                                                                 round_.response_b)):
            if letter in round_.errors:
                continue
            try:
                self.models.get(model_id)
            except LLMOpsError as exc:
                round_.errors[letter] = SideFailedError(round_.side_of(letter), exc)
                continue
            if not text:
                round_.errors[letter] = SideFailedError(round_.side_of(letter),
                                                        InvalidInputError("err.arena_empty_answer"))

    def run(self, round_: Round) -> Round:
        """Generate both sides to the end (for scripts); raises if a side failed."""
        for _ in self.stream(round_):
            pass
        self.raise_side_error(round_)
        return round_

    @staticmethod
    def raise_side_error(round_: Round) -> None:
        """A failed side is reported to the voter, never saved as an answer."""
        for exc in round_.errors.values():
            raise exc

    def get_round(self, session: str, round_id: str | None) -> Round:
        """The round this session was shown; anything else is refused."""
        with self._lock:
            round_ = self._rounds.get(round_id or "")
        if round_ is None or round_.session != session:
            raise NotFoundError("err.arena_unknown_round")
        return round_

    def vote(self, session: str, round_id: str | None, choice: str, edited: str | None = None,
             source: str = "human") -> VoteResult:
        """Append the vote (fsynced) and reveal the names; a repeated vote on a round is stored once."""
        if choice not in CHOICES:
            raise InvalidInputError("err.arena_bad_choice", choice=choice)
        round_ = self.get_round(session, round_id)
        if round_.errors:
            raise ConflictError("err.arena_failed_round")
        if not round_.done:
            raise ConflictError("err.arena_not_ready")
        right = "b" if round_.left == "a" else "a"
        winner = {"left": round_.left, "right": right}.get(choice, choice)
        if edited and winner not in ("a", "b"):
            edited = None  # an improved answer only makes sense for a chosen side
        vote = Vote(vote_id=round_.round_id, session=session, prompt=round_.prompt, system=round_.system,
                    model_a=round_.model_a, model_b=round_.model_b, response_a=round_.response_a,
                    response_b=round_.response_b, left=round_.left, winner=winner, edited=edited,
                    params=round_.params.model_dump(), latency_ms=_numeric(round_.latency_ms), source=source)
        stored = self.prefs.append(vote)
        return VoteResult(round_.round_id, stored, winner, round_.left_model, round_.right_model)


def _numeric(latency: dict) -> dict[str, float]:
    return {key: float(value) for key, value in latency.items()}


def prompts_from_file(path) -> list[str]:
    """Prompts of a dataset file for batch voting: alpaca instruction(+input), preference prompt, or first user turn."""
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = json.loads(text) if Path(path).suffix == ".json" else [json.loads(x) for x in text.splitlines() if x.strip()]
    prompts = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        if row.get("instruction"):
            prompt = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
        elif row.get("prompt"):
            prompt = row["prompt"]
        else:
            turns = row.get("conversations") or row.get("messages") or []
            prompt = next((t.get("value") or t.get("content") for t in turns
                           if t.get("from") in ("human", "user") or t.get("role") == "user"), "")
        if prompt and prompt.strip():
            prompts.append(prompt.strip())
    return list(dict.fromkeys(prompts))
