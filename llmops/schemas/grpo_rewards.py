"""Reward functions for GRPO, in a registry whose entries describe themselves (name, parameters, help keys).

Each reward scores a list of completions against the row's `solution`; pure Python, so it is tested in
milliseconds and the form draws its choices from `describe()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# GSM8K writes the final answer after '####'; MATH-style sets use \boxed{...}.
_HASHES = re.compile(r"####\s*([^\n]+)")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
DEFAULT_FORMAT = r"^\s*<think>.*?</think>\s*<answer>.*?</answer>\s*$"


@dataclass(frozen=True)
class RewardParam:
    """One parameter of a reward: name, kind ('float', 'int' or 'text') and default."""

    name: str
    kind: str
    default: float | int | str


@dataclass(frozen=True)
class RewardSpec:
    """A built-in reward: its name, what it needs, its parameters and the function (completions, solutions, params)."""

    name: str
    title_key: str
    help_key: str
    needs_solution: bool
    params: tuple[RewardParam, ...] = ()
    score: Callable[[list[str], list[str], dict], list[float]] = field(default=lambda c, s, p: [], repr=False)

    def defaults(self) -> dict:
        """Every parameter at its default."""
        return {param.name: param.default for param in self.params}


def completion_text(completion) -> str:
    """A completion as text: TRL passes a string for plain prompts and a message list for chat prompts."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion or "")


def final_answer(text: str) -> str | None:
    """The final answer of a text: after '####', else the last \\boxed{}, else the last number; None when none."""
    text = text or ""
    hashes = _HASHES.findall(text)
    if hashes:
        return _clean(hashes[-1])
    boxed = _BOXED.findall(text)
    if boxed:
        return _clean(boxed[-1])
    numbers = _NUMBER.findall(text)
    return _clean(numbers[-1]) if numbers else None


def _clean(answer: str) -> str:
    return answer.strip().rstrip(".").replace(",", "").replace("$", "").strip()


def _as_number(answer: str | None) -> float | None:
    try:
        return float(answer) if answer is not None else None
    except ValueError:
        return None


def exact_answer(completions: list[str], solutions: list[str], params: dict) -> list[float]:
    """1 when the completion's final answer equals the solution's (numbers compared as numbers), else 0."""
    scores = []
    for completion, solution in zip(completions, solutions, strict=True):
        got, want = final_answer(completion), final_answer(str(solution)) or _clean(str(solution))
        got_n, want_n = _as_number(got), _as_number(want)
        if got_n is not None and want_n is not None:
            scores.append(1.0 if abs(got_n - want_n) <= float(params.get("tolerance", 1e-6)) else 0.0)
        else:
            scores.append(1.0 if got is not None and got == want else 0.0)
    return scores


def output_format(completions: list[str], solutions: list[str], params: dict) -> list[float]:
    """1 when the whole completion matches the format pattern (dot matches newlines), else 0."""
    pattern = re.compile(str(params.get("pattern") or DEFAULT_FORMAT), re.DOTALL)
    return [1.0 if pattern.match(completion) else 0.0 for completion in completions]


def length(completions: list[str], solutions: list[str], params: dict) -> list[float]:
    """1 at the target length in characters, falling linearly to 0 at twice (or zero times) the target."""
    target = max(1, int(params.get("target_chars", 200)))
    return [max(0.0, 1.0 - abs(len(completion) - target) / target) for completion in completions]


REWARDS: dict[str, RewardSpec] = {spec.name: spec for spec in (
    RewardSpec("exact_answer", "grpo.reward.exact_answer", "grpo.reward.exact_answer.help", True,
               (RewardParam("tolerance", "float", 1e-6),), exact_answer),
    RewardSpec("format", "grpo.reward.format", "grpo.reward.format.help", False,
               (RewardParam("pattern", "text", DEFAULT_FORMAT),), output_format),
    RewardSpec("length", "grpo.reward.length", "grpo.reward.length.help", False,
               (RewardParam("target_chars", "int", 200),), length),
)}


def describe() -> list[dict]:
    """Every built-in reward as plain data (for forms, `--json` and the README)."""
    return [{"name": spec.name, "title_key": spec.title_key, "help_key": spec.help_key,
             "needs_solution": spec.needs_solution,
             "params": [{"name": p.name, "kind": p.kind, "default": p.default} for p in spec.params]}
            for spec in REWARDS.values()]


def trl_function(name: str, params: dict) -> Callable:
    """A built-in reward wrapped in the signature TRL calls: (prompts, completions, solution=..., **kwargs)."""
    spec = REWARDS[name]
    merged = {**spec.defaults(), **params}

    def reward(prompts, completions, **kwargs) -> list[float]:
        texts = [completion_text(c) for c in completions]
        solutions = [str(s) for s in (kwargs.get("solution") or [""] * len(texts))]
        return spec.score(texts, solutions, merged)

    reward.__name__ = name  # TRL logs rewards/<name>/mean
    return reward


def split_reference(reference: str) -> tuple[Path, str]:
    """'path/to/file.py:function' as (path, function name); the path may itself hold ':' only before the last one."""
    path, sep, function = (reference or "").rpartition(":")
    if not sep or not path or not function.isidentifier():
        raise ValueError(f"expected path.py:function, got {reference!r}")
    return Path(path).expanduser(), function
