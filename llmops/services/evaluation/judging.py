"""LLM-as-judge over a run's predictions: a rubric per answer (single) or both orders of each pair (pairwise).

Requests go concurrently through the project's one OpenAI-compatible client (OpenAICompatBackend); the key is
read only from the variable JudgeSpec.api_key_env names, after its binding to the judge's URL is checked, and
never reaches judgements.jsonl or an error text. Each judgement is appended as it arrives, so a stopped or
crashed run resumes where it was: items already judged are never asked again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from ...backends.openai_compat import Endpoint, OpenAICompatBackend
from ...errors import BackendError, InvalidInputError
from ...schemas.eval_runs import JudgeSpec, ModelSummary, PairJudgement, PredictionRecord, RunSummary, SingleJudgement
from ...schemas.models import SamplingParams
from ...settings import Settings
from ..prefs import PrefsStore
from .judge_audit import JudgeOutcome, pairwise_outcome, single_outcome
from .judge_prompts import Malformed, Prompter, parse_scores, parse_verdict
from .run_folder import RunFolder

__all__ = ["JudgeOutcome", "judge_pairs", "judge_run", "judge_summary", "merge_into_summary"]

# The judge grades; it should not improvise. Room enough for a short reason in either language.
JUDGE_PARAMS = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=512, seed=0)
BACKOFF_S, BACKOFF_MAX_S = 0.5, 8.0
_REASON_CHARS = 2000
# A refused key, an unknown model or an unbound key fails every request alike: the run stops and says so.
_FATAL = {"err.backend_auth", "err.backend_not_found", "err.backend_key_missing", "err.backend_bad_messages",
          "err.sec_key_unbound", "err.sec_url_userinfo"}
_NOT_RETRIED = {"http_400", "http_413", "http_415", "http_422"}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Item:
    """One request to make: a rendered prompt and where its verdict goes."""

    key: tuple
    sample: int
    prompt: str
    model: str = ""  # single
    a: str = ""  # pairwise
    b: str = ""
    order: str = "ab"


def judge_pairs(spec: JudgeSpec, models: list[str]) -> list[tuple[str, str]]:
    """The (a, b) pairs to compare: spec.pairs, or each model against the run's first one; checked."""
    if len(models) < 2:
        raise InvalidInputError("err.ev_judge_needs_two", count=len(models))
    pairs = [tuple(p) for p in spec.pairs] or [(m, models[0]) for m in models[1:]]
    for a, b in pairs:
        for model in (a, b):
            if model not in models:
                raise InvalidInputError("err.ev_judge_unknown_model", model=model, models=", ".join(models))
        if a == b:
            raise InvalidInputError("err.ev_judge_same_model", model=a)
    return list(dict.fromkeys(pairs))


def _usable(predictions: list[PredictionRecord], models: list[str]) -> dict[tuple[str, int], PredictionRecord]:
    """(model, sample) -> the prediction, for answers that exist (no error, not blank)."""
    return {(r.model, r.sample): r for r in predictions
            if r.model in models and r.error is None and r.output.strip()}


def _plan(spec: JudgeSpec, prompter: Prompter, models: list[str], pairs: list[tuple[str, str]],
          predictions: list[PredictionRecord]) -> list[_Item]:
    """Every request the run needs, in a stable order (sample, then model or pair, then order)."""
    usable = _usable(predictions, models)
    if spec.mode == "single":
        return [_Item((r.sample, r.model), r.sample, prompter.single(r.prompt, r.reference, r.output), model=r.model)
                for r in sorted(usable.values(), key=lambda r: (r.sample, models.index(r.model)))]
    items = []
    samples = sorted({sample for _model, sample in usable})
    for sample in samples:
        for a, b in pairs:
            left, right = usable.get((a, sample)), usable.get((b, sample))
            if left is None or right is None:
                continue
            q, ref = left.prompt, left.reference
            items.append(_Item((sample, a, b, "ab"), sample, prompter.pair(q, ref, left.output, right.output),
                               a=a, b=b, order="ab"))
            items.append(_Item((sample, a, b, "ba"), sample, prompter.pair(q, ref, right.output, left.output),
                               a=a, b=b, order="ba"))
    return items


def _error_name(exc: BackendError) -> str:
    """A short, key-free name for why a request failed, as stored in a judgement line."""
    status = exc.params.get("status")
    return {"err.backend_timeout": "timeout", "err.backend_rate_limited": "http_429",
            "err.backend_unreachable": "unreachable", "err.backend_bad_response": "bad_response",
            "err.backend_server_error": f"http_{status}", "err.backend_http": f"http_{status}"}.get(exc.key, "backend")


class _Judge:
    """Asks one item, with retries; shared by the pool's threads."""

    def __init__(self, backend: OpenAICompatBackend, endpoint: Endpoint, prompter: Prompter, spec: JudgeSpec,
                 stop: threading.Event):
        self.backend, self.endpoint, self.prompter, self.spec, self.stop = backend, endpoint, prompter, spec, stop
        self.abort = threading.Event()
        self.fatal: BackendError | None = None
        self._lock = threading.Lock()
        self._answered = False  # any reply at all, usable or not
        self._lost = 0  # items lost to an unreachable server before any reply

    def halted(self) -> bool:
        return self.stop.is_set() or self.abort.is_set()

    def ask(self, item: _Item) -> SingleJudgement | PairJudgement | None:
        """The item's judgement (a failure after the last retry), or None when the run stopped first."""
        error, attempts, failed = "parse", 0, None
        for attempt in range(self.spec.retries + 1):
            if self.halted():
                return None
            attempts += 1
            try:
                text = self.backend.generate([{"role": "user", "content": item.prompt}], JUDGE_PARAMS)
            except BackendError as exc:
                if exc.key in _FATAL:
                    return self._give_up(exc)
                error, failed = _error_name(exc), exc
                if error != "unreachable":
                    self._answered = True
                if error in _NOT_RETRIED:
                    break
                if attempt < self.spec.retries and self.stop.wait(min(BACKOFF_MAX_S, BACKOFF_S * 2 ** attempt)):
                    return None
                continue
            self._answered = True
            try:
                return self._record(item, text, attempts)
            except Malformed:
                error = "parse"  # asked again at once: a malformed reply is no reason to wait
        if failed is not None and error == "unreachable" and not self._answered:
            with self._lock:
                self._lost += 1
                lost = self._lost
            if lost >= 3:
                # Three items lost before any reply: no judge is listening there; the rest are not sent.
                return self._give_up(failed)
        return self._failure(item, error, attempts)

    def _give_up(self, exc: BackendError) -> None:
        with self._lock:
            self.fatal = self.fatal or exc
        self.abort.set()

    def _record(self, item: _Item, text: str, attempts: int) -> SingleJudgement | PairJudgement:
        if self.spec.mode == "single":
            scores, reason = parse_scores(text, self.prompter.dimensions)
            return SingleJudgement(sample=item.sample, model=item.model, scores=scores, reason=self._clean(reason),
                                   attempts=attempts)
        verdict, reason = parse_verdict(text)
        # Answer A is model a's in order "ab" and model b's in order "ba".
        winner = "tie" if verdict == "tie" else ({"A": "a", "B": "b"} if item.order == "ab" else
                                                   {"A": "b", "B": "a"})[verdict]
        return PairJudgement(sample=item.sample, a=item.a, b=item.b, order=item.order, winner=winner,
                             reason=self._clean(reason), attempts=attempts)

    def _failure(self, item: _Item, error: str, attempts: int) -> SingleJudgement | PairJudgement:
        if self.spec.mode == "single":
            return SingleJudgement(sample=item.sample, model=item.model, attempts=attempts, error=error)
        return PairJudgement(sample=item.sample, a=item.a, b=item.b, order=item.order, attempts=attempts,
                             error=error)

    def _clean(self, reason: str) -> str:
        # A judge that echoes the request's key into its reason must not get it into a file.
        return self.endpoint.api_key.redact(reason)[:_REASON_CHARS]


def _done_keys(folder: RunFolder, mode: str, retry_failures: bool) -> set[tuple]:
    keys = set()
    for line in folder.judgements():
        if line.kind != mode or (retry_failures and line.error is not None):
            continue
        keys.add((line.sample, line.model) if line.kind == "single" else (line.sample, line.a, line.b, line.order))
    return keys


def judge_run(settings: Settings, folder: RunFolder, spec: JudgeSpec, *, stop: threading.Event | None = None,
              progress: Progress | None = None, retry_failures: bool = True) -> JudgeOutcome:
    """Judge the run's answers, appending each judgement to judgements.jsonl; returns the figures over all of them.

    Items with a usable judgement already in the file are skipped (so are earlier failures when `retry_failures`
    is off). Template, dimensions, pairs and the key's binding are checked before the first request.
    """
    models = folder.config().models
    prompter = Prompter.of(spec)
    pairs = judge_pairs(spec, models) if spec.mode == "pairwise" else []
    predictions = folder.predictions()
    if not _usable(predictions, models):
        raise InvalidInputError("err.ev_judge_no_answers", run=folder.run_id)
    endpoint = Endpoint.from_env(spec.base_url, spec.model, spec.api_key_env, settings)
    items = _plan(spec, prompter, models, pairs, predictions)
    done = _done_keys(folder, spec.mode, retry_failures)
    todo = [item for item in items if item.key not in done]
    stop = stop or threading.Event()
    report = progress or (lambda done_, total: None)
    finished, written = len(items) - len(todo), 0
    report(finished, len(items))
    # Retries are the judge's own (a malformed reply is retried too), so the client never retries by itself.
    backend = OpenAICompatBackend.from_endpoint(endpoint, timeout=spec.timeout_s, max_retries=0, settings=settings)
    judge = _Judge(backend, endpoint, prompter, spec, stop)
    try:
        # Checks the key now and imports the client here: first imports racing in the pool's threads can see a
        # half-initialised module.
        backend.client()
        with ThreadPoolExecutor(max_workers=spec.concurrency, thread_name_prefix="judge") as pool:
            futures = [pool.submit(judge.ask, item) for item in todo]
            try:
                for future in as_completed(futures):
                    record = future.result()
                    finished += 1
                    if record is not None:
                        folder.append(folder.judgements_path, record)
                        written += 1
                    report(finished, len(items))
            except BaseException:
                stop.set()  # e.g. Ctrl-C: queued items return at once, running ones after their request
                raise
    finally:
        backend.close()
    if judge.fatal is not None:
        raise judge.fatal
    outcome = judge_summary(settings, folder, spec)
    outcome.new = written
    return outcome


def judge_summary(settings: Settings, folder: RunFolder, spec: JudgeSpec) -> JudgeOutcome:
    """The judge's figures and audit from judgements.jsonl as it stands (no request is made)."""
    models = folder.config().models
    lines = [line for line in folder.judgements() if line.kind == spec.mode]
    if spec.mode == "single":
        return single_outcome(lines, models, spec.dimensions, spec.model)
    votes = PrefsStore(settings.prefs_path).read().votes
    return pairwise_outcome(lines, judge_pairs(spec, models), models, folder.predictions(), votes, spec.model)


def merge_into_summary(summary: RunSummary, outcome: JudgeOutcome) -> RunSummary:
    """`summary` with the judge's audit and each model's judge figures (and pairwise tallies) filled in."""
    merged = summary.model_copy(deep=True)
    merged.judge = outcome.summary
    for model, figures in outcome.models.items():
        entry = merged.models.setdefault(model, ModelSummary())
        entry.judge = dict(figures)
        tally = outcome.pairwise.get(model)
        if tally is not None:
            entry.win, entry.loss, entry.tie = tally["win"], tally["loss"], tally["tie"]
    return merged
