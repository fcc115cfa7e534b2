"""The metrics registry: each metric describes itself (what it needs, which way is better, its names in zh/en).

A form or a report is drawn from `describe()`; the scorer computes metrics family by family, so metrics that share
work (LLaMA-Factory's four, cut by jieba once) are computed together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ...errors import InvalidInputError
from ...i18n import t
from ...schemas.evaluation import Prediction
from . import text_metrics

REFERENCE, LABEL, MODEL = "reference", "label", "model"


@dataclass(frozen=True)
class MetricParam:
    """One setting of a metric, as a form would show it."""

    name: str
    default: str
    choices: tuple[str, ...] = ()  # empty: free text

    def describe(self, metric: str, lang: str) -> dict:
        return {"name": self.name, "default": self.default, "choices": list(self.choices),
                "label": t(f"ev.param.{metric}.{self.name}", lang)}


@dataclass(frozen=True)
class Metric:
    """A registered metric; `key` is its column in summaries and per-sample scores."""

    name: str
    key: str
    family: str
    needs: tuple[str, ...]
    higher_is_better: bool = True
    scale: str = "0-100"
    params: tuple[MetricParam, ...] = field(default_factory=tuple)

    def display(self, lang: str = "en") -> str:
        return t(f"ev.metric.{self.name}", lang)

    def help(self, lang: str = "en") -> str:
        return t(f"ev.metric.{self.name}.help", lang)

    def describe(self, lang: str = "en") -> dict:
        """Everything a form or a report needs to show this metric."""
        return {"name": self.name, "key": self.key, "family": self.family, "needs": list(self.needs),
                "higher_is_better": self.higher_is_better, "scale": self.scale, "display": self.display(lang),
                "help": self.help(lang), "params": [p.describe(self.name, lang) for p in self.params]}


_ACCURACY_PARAMS = (MetricParam("mode", "auto", ("auto", "contains", "regex", "choice")), MetricParam("pattern", ""))

METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("lf_bleu4", "bleu-4", "lf_similarity", (REFERENCE,)),
    Metric("lf_rouge1", "rouge-1", "lf_similarity", (REFERENCE,)),
    Metric("lf_rouge2", "rouge-2", "lf_similarity", (REFERENCE,)),
    Metric("lf_rougeL", "rouge-l", "lf_similarity", (REFERENCE,)),
    Metric("sacrebleu", "sacrebleu", "sacrebleu", (REFERENCE,)),
    Metric("exact_match", "exact_match", "match", (REFERENCE,)),
    Metric("accuracy", "accuracy", "label", (LABEL,), params=_ACCURACY_PARAMS),
    Metric("perplexity", "perplexity", "model", (REFERENCE, MODEL), higher_is_better=False, scale="perplexity"),
)}
DEFAULT_METRICS = ("lf_bleu4", "lf_rouge1", "lf_rouge2", "lf_rougeL", "sacrebleu", "exact_match")


def get(name: str) -> Metric:
    """The metric called `name` (or whose column is `name`)."""
    found = METRICS.get(name) or next((m for m in METRICS.values() if m.key == name), None)
    if found is None:
        raise InvalidInputError("err.ev_unknown_metric", name=name, known=", ".join(METRICS))
    return found


def describe_all(lang: str = "en") -> list[dict]:
    return [m.describe(lang) for m in METRICS.values()]


@dataclass
class Context:
    """What a family's computation may use beyond the predictions: options per metric, a local model, caches."""

    options: dict[str, dict] = field(default_factory=dict)
    model: str | None = None
    adapter: str | None = None  # a LoRA adapter folder loaded over `model`, for perplexity
    details: dict = field(default_factory=dict)  # filled by families: signatures, tokenizers


# A family: (its metrics, the predictions that have what they need) -> {key: (set figure, per-sample values)}.
Family = Callable[[Sequence[Metric], Sequence[Prediction], Context], dict[str, tuple[float, list[float]]]]


def _lf_family(metrics, rows, ctx):
    from .lf_similarity import LFSimilarity, summarise

    scores = LFSimilarity().score([r.output for r in rows], [r.reference for r in rows])
    figures = summarise(scores)
    return {m.key: (figures[m.key], scores[m.key]) for m in metrics}


def _sacrebleu_family(metrics, rows, ctx):
    figure, per_sample, signature = text_metrics.corpus_sacrebleu([r.output for r in rows],
                                                                  [r.reference for r in rows])
    ctx.details["sacrebleu_signature"] = signature
    return {"sacrebleu": (figure, per_sample)}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _match_family(metrics, rows, ctx):
    values = [text_metrics.exact_match(r.output, r.reference) for r in rows]
    return {"exact_match": (_mean(values), values)}


def _label_family(metrics, rows, ctx):
    options = ctx.options.get("accuracy", {})
    mode, pattern = options.get("mode", "auto"), options.get("pattern") or None
    if mode not in _ACCURACY_PARAMS[0].choices:
        raise InvalidInputError("err.ev_bad_option", metric="accuracy", option="mode", value=mode)
    if mode == "regex":
        import re

        try:
            re.compile(pattern or "")
        except re.error as exc:
            raise InvalidInputError("err.ev_bad_option", metric="accuracy", option="pattern", value=str(exc)) from None
        if not pattern:
            raise InvalidInputError("err.ev_bad_option", metric="accuracy", option="pattern", value="''")
    values = [text_metrics.accuracy(r.output, r.label, mode, pattern) for r in rows]
    return {"accuracy": (_mean(values), values)}


def _model_family(metrics, rows, ctx):
    from .perplexity import PerplexityScorer

    if not ctx.model:
        raise InvalidInputError("err.ev_needs_model", metric="perplexity")
    figure, per_sample = PerplexityScorer(ctx.model, ctx.adapter).score(rows, [r.reference for r in rows])
    return {"perplexity": (figure, per_sample)}


FAMILIES: dict[str, Family] = {"lf_similarity": _lf_family, "sacrebleu": _sacrebleu_family, "match": _match_family,
                               "label": _label_family, "model": _model_family}
