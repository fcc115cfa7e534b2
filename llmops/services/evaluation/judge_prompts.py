"""What the judge is asked and how its answer is read: templates checked before a run, answers parsed strictly.

A judge's reply counts only when it is a JSON object (alone, or alone inside one ``` fence) with every field in
range; anything else is malformed, so a judge that rambles is asked again and finally recorded as a failure,
never read as a score of 0.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass

from ...errors import InvalidInputError
from ...i18n import has, t
from ...schemas.eval_runs import JudgeSpec

SINGLE_FIELDS = ("question", "reference", "answer", "dimensions", "format")
PAIR_FIELDS = ("question", "reference", "answer_a", "answer_b", "format")
_REQUIRED = {"single": ("answer",), "pairwise": ("answer_a", "answer_b")}
_DIMENSION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FENCE = re.compile(r"^```(?:json|JSON)?[ \t]*\n?(.*?)\n?[ \t]*```$", re.DOTALL)
SCORE_RANGE = (1, 5)


class Malformed(ValueError):
    """A judge reply that is not the JSON object asked for."""


@dataclass(frozen=True)
class Prompter:
    """Renders the judge's prompt for one mode, from a template whose placeholders were checked up front."""

    mode: str
    lang: str
    template: str
    dimensions: tuple[str, ...]

    @classmethod
    def of(cls, spec: JudgeSpec) -> Prompter:
        """The prompter for `spec`; InvalidInputError for a bad template or dimension, before any request."""
        dimensions = check_dimensions(spec.dimensions)
        key = "ev.judge_tpl_single" if spec.mode == "single" else "ev.judge_tpl_pair"
        template = spec.template if spec.template is not None else t(key, spec.lang)
        check_template(template, spec.mode)
        return cls(spec.mode, spec.lang, template, dimensions)

    def single(self, question: str, reference: str | None, answer: str) -> str:
        """The rubric prompt for one answer."""
        return self.template.format(question=question, reference=self._reference(reference), answer=answer,
                                    dimensions=self._dimension_lines(), format=self._single_format())

    def pair(self, question: str, reference: str | None, first: str, second: str) -> str:
        """The comparison prompt, `first` shown as answer A."""
        shape = '{"winner": "A" | "B" | "tie", "reason": "' + t("ev.judge_reason_hint", self.lang) + '"}'
        return self.template.format(question=question, reference=self._reference(reference), answer_a=first,
                                    answer_b=second, format=shape)

    def _reference(self, reference: str | None) -> str:
        return reference if reference and reference.strip() else t("ev.judge_no_reference", self.lang)

    def _dimension_lines(self) -> str:
        lines = []
        for name in self.dimensions:
            label, desc = f"ev.judge_dim.{name}", f"ev.judge_dimdesc.{name}"
            # A dimension the house describes gets its name and meaning in the run's language; others show as is.
            lines.append(f"- {name} ({t(label, self.lang)}): {t(desc, self.lang)}" if has(label) and has(desc)
                         else f"- {name}")
        return "\n".join(lines)

    def _single_format(self) -> str:
        fields = ", ".join(f'"{name}": <1-5>' for name in self.dimensions)
        return "{" + fields + ', "reason": "' + t("ev.judge_reason_hint", self.lang) + '"}'


def check_dimensions(names: list[str]) -> tuple[str, ...]:
    """The rubric's dimension names, each a plain identifier, unique, never the reply's own `reason` key."""
    seen: list[str] = []
    for name in names:
        if not _DIMENSION.match(name or "") or name == "reason" or name in seen:
            raise InvalidInputError("err.ev_judge_bad_dimension", name=str(name)[:64])
        seen.append(name)
    return tuple(seen)


def check_template(template: str, mode: str) -> None:
    """Refuse a template with a syntax error, an unknown or positional placeholder, or without the answers."""
    known = SINGLE_FIELDS if mode == "single" else PAIR_FIELDS
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInputError("err.ev_judge_template_syntax", reason=str(exc)) from None
    used = set()
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in known or spec or conversion:
            # `{answer.x}`, `{0}`, `{answer!r}` or `{answer:>9}` would reach into objects or fail mid-run.
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise InvalidInputError("err.ev_judge_template_field", field=shown,
                                    known=", ".join("{" + k + "}" for k in known))
        used.add(field)
    missing = [name for name in _REQUIRED[mode] if name not in used]
    if missing:
        raise InvalidInputError("err.ev_judge_template_missing", needed=", ".join("{" + m + "}" for m in missing))


def _json_object(text: str) -> dict:
    body = (text or "").strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body.startswith("{"):
        raise Malformed("not a JSON object")
    try:
        value = json.loads(body)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


def _reason(value: dict) -> str:
    reason = value.get("reason", "")
    if not isinstance(reason, str):
        raise Malformed("reason is not text")
    return reason


def parse_scores(text: str, dimensions: tuple[str, ...]) -> tuple[dict[str, int], str]:
    """(dimension -> 1..5, reason) from a rubric reply; Malformed when any dimension is missing or not such an int."""
    value = _json_object(text)
    scores = {}
    low, high = SCORE_RANGE
    for name in dimensions:
        score = value.get(name)
        # bool is an int in Python; 4.0 and "4" are not what was asked for.
        if type(score) is not int or not low <= score <= high:
            raise Malformed(f"{name} is not an integer from {low} to {high}")
        scores[name] = score
    return scores, _reason(value)


def parse_verdict(text: str) -> tuple[str, str]:
    """('A' | 'B' | 'tie', reason) from a comparison reply; Malformed otherwise."""
    value = _json_object(text)
    winner = value.get("winner")
    verdict = winner.strip().lower() if isinstance(winner, str) else None
    if verdict not in ("a", "b", "tie"):
        raise Malformed("winner is not A, B or tie")
    return ("tie" if verdict == "tie" else verdict.upper()), _reason(value)
