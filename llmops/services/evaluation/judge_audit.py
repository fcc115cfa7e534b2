"""The judge's figures and its audit, pure functions over judgement lines and arena votes.

Pairwise verdicts are resolved per (sample, pair) from both orders: the same winner in both is a win, any
difference (A→B, or a win one way and a tie the other) is a tie and counts toward the position bias rate.
Human votes count only when cast by a person (`source == "human"`) on the same prompt and the same two models in
either position; `winner` of a vote already names model_a/model_b whatever side was shown left, and `both_bad`
is read as a tie (neither answer preferred). Several votes on one item are reduced to their majority.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ...schemas.eval_runs import JudgeSummary, PairJudgement, PredictionRecord, SingleJudgement
from ...schemas.votes import Vote

LABELS = ("a", "b", "tie")


@dataclass
class JudgeOutcome:
    """What a judge run adds to a summary: the audit, each model's judge figures and pairwise tallies."""

    summary: JudgeSummary
    models: dict[str, dict[str, float | None]] = field(default_factory=dict)  # -> ModelSummary.judge
    pairwise: dict[str, dict[str, int]] = field(default_factory=dict)  # model -> {"win", "loss", "tie"}
    new: int = 0  # judgement lines written by this call


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None with no items or when chance agreement is 1."""
    if len(first) != len(second):
        raise ValueError("both raters must label the same items")
    n = len(first)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(first, second, strict=True)) / n
    count_1, count_2 = Counter(first), Counter(second)
    expected = sum(count_1[label] * count_2[label] for label in count_1) / (n * n)
    if expected >= 1.0:
        return None  # both raters used one and the same label throughout: kappa is undefined
    return (observed - expected) / (1.0 - expected)


def resolve(ab: str | None, ba: str | None) -> str | None:
    """The order-resolved verdict of one pair ("a" | "b" | "tie"), None unless both orders have a verdict."""
    if ab is None or ba is None:
        return None
    return ab if ab == ba else "tie"


def single_outcome(lines: Iterable[SingleJudgement], models: Sequence[str], dimensions: Sequence[str],
                   judge_model: str) -> JudgeOutcome:
    """Each model's mean score per dimension and its failures, over single-mode lines."""
    scores: dict[str, dict[str, list[int]]] = {m: defaultdict(list) for m in models}
    failures: Counter = Counter()
    judged = 0
    for line in lines:
        if line.model not in scores:
            continue
        if line.error is not None:
            failures[line.model] += 1
            continue
        judged += 1
        for name in dimensions:
            if name in line.scores:
                scores[line.model][name].append(line.scores[name])
    figures = {}
    for model in models:
        row: dict[str, float | None] = {}
        for name in dimensions:
            values = scores[model][name]
            row[name] = round(sum(values) / len(values), 4) if values else None
        row["failures"] = failures[model]
        figures[model] = row
    summary = JudgeSummary(mode="single", model=judge_model, judged=judged, failures=sum(failures.values()))
    return JudgeOutcome(summary, figures)


def pair_verdicts(lines: Iterable[PairJudgement],
                  pairs: Sequence[tuple[str, str]]) -> tuple[dict[tuple[int, str, str], dict[str, str]], Counter, int, int]:
    """({(sample, a, b): {order: winner}} for usable lines, failures per model, usable lines, failed lines)."""
    wanted = set(pairs)
    verdicts: dict[tuple[int, str, str], dict[str, str]] = defaultdict(dict)
    failures: Counter = Counter()
    judged = failed = 0
    for line in lines:
        if (line.a, line.b) not in wanted:
            continue
        if line.error is not None or line.winner is None:
            failures[line.a] += 1
            failures[line.b] += 1
            failed += 1
            continue
        judged += 1
        verdicts[(line.sample, line.a, line.b)][line.order] = line.winner
    return verdicts, failures, judged, failed


def pairwise_outcome(lines: Iterable[PairJudgement], pairs: Sequence[tuple[str, str]], models: Sequence[str],
                     predictions: Iterable[PredictionRecord], votes: Iterable[Vote],
                     judge_model: str) -> JudgeOutcome:
    """Win/loss/tie per model, the position bias rate and the agreement with human votes."""
    verdicts, failures, judged, failed = pair_verdicts(lines, pairs)
    tally = {m: {"win": 0, "loss": 0, "tie": 0} for m in models}
    resolved: dict[tuple[int, str, str], str] = {}
    flips = both = 0
    for (sample, a, b), orders in verdicts.items():
        verdict = resolve(orders.get("ab"), orders.get("ba"))
        if verdict is None:
            continue
        both += 1
        flips += orders["ab"] != orders["ba"]
        resolved[(sample, a, b)] = verdict
        if verdict == "tie":
            tally[a]["tie"] += 1
            tally[b]["tie"] += 1
        else:
            winner, loser = (a, b) if verdict == "a" else (b, a)
            tally[winner]["win"] += 1
            tally[loser]["loss"] += 1
    agreement, kappa, overlap = human_agreement(resolved, predictions, votes)
    figures: dict[str, dict[str, float | None]] = {}
    for model in models:
        counts = tally[model]
        n = counts["win"] + counts["loss"] + counts["tie"]
        figures[model] = {"win_rate": round((counts["win"] + 0.5 * counts["tie"]) / n, 4) if n else None,
                          "failures": failures[model]}
    summary = JudgeSummary(mode="pairwise", model=judge_model, judged=judged, failures=failed,
                           position_bias_rate=round(flips / both, 4) if both else None,
                           human_agreement=agreement, kappa=kappa, overlap=overlap)
    return JudgeOutcome(summary, figures, tally)


def human_labels(votes: Iterable[Vote], prompts: dict[str, set[tuple[str, str]]]) -> dict[tuple[str, str, str], str]:
    """{(prompt, a, b): majority human label in the (a, b) frame} for votes on a judged prompt and pair."""
    counts: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    for vote in votes:
        if vote.source != "human":
            continue
        prompt = vote.prompt.strip()
        for a, b in prompts.get(prompt, ()):
            if {vote.model_a, vote.model_b} != {a, b} or a == b:
                continue
            label = "tie" if vote.winner in ("tie", "both_bad") else (
                vote.winner if vote.model_a == a else ("b" if vote.winner == "a" else "a"))
            counts[(prompt, a, b)][label] += 1
    labels = {}
    for key, counter in counts.items():
        ranked = counter.most_common()
        # A split vote (as many for A as for B) is no preference.
        labels[key] = "tie" if len(ranked) > 1 and ranked[0][1] == ranked[1][1] else ranked[0][0]
    return labels


def human_agreement(resolved: dict[tuple[int, str, str], str], predictions: Iterable[PredictionRecord],
                    votes: Iterable[Vote]) -> tuple[float | None, float | None, int]:
    """(raw agreement, Cohen's kappa, items) of the judge's resolved verdicts and the humans' majority labels."""
    prompt_of = {record.sample: record.prompt.strip() for record in predictions}
    judged: dict[tuple[str, str, str], str] = {}
    prompts: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for (sample, a, b), verdict in sorted(resolved.items()):
        prompt = prompt_of.get(sample)
        if prompt is None:
            continue
        judged.setdefault((prompt, a, b), verdict)  # a prompt that appears twice in the set: its first sample
        prompts[prompt].add((a, b))
    humans = human_labels(votes, prompts)
    keys = sorted(humans)
    if not keys:
        return None, None, 0
    mine = [judged[key] for key in keys]
    theirs = [humans[key] for key in keys]
    agreement = sum(x == y for x, y in zip(mine, theirs, strict=True)) / len(keys)
    kappa = cohen_kappa(mine, theirs)
    return round(agreement, 4), (round(kappa, 4) if kappa is not None else None), len(keys)
