"""Perplexity of reference answers under a local model: loss on the answer's tokens only, the prompt masked."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ...errors import NotFoundError
from ...schemas.evaluation import EvalSample

IGNORE = -100


def _texts(tokenizer, sample: EvalSample, reference: str) -> tuple[str, str]:
    """The prompt as the model sees it, and the answer part that follows it (the template's end-of-turn included)."""
    messages = sample.messages()
    if getattr(tokenizer, "chat_template", None):
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": reference}], tokenize=False)
        if full.startswith(prompt):
            return prompt, full[len(prompt):]
    # No chat template (or one that rewrites earlier turns): plain text, the answer after a newline.
    return "\n".join(m["content"] for m in messages) + "\n", reference + (tokenizer.eos_token or "")


def encode(tokenizer, sample: EvalSample, reference: str) -> tuple[list[int], list[int]]:
    """Input ids and labels: the prompt's positions are IGNORE, so only the answer's tokens count."""
    prompt, answer = _texts(tokenizer, sample, reference)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    return prompt_ids + answer_ids, [IGNORE] * len(prompt_ids) + answer_ids


class PerplexityScorer:
    """A local causal LM (folder, with a LoRA adapter over it when given) loaded once; torch is imported on first use."""

    def __init__(self, model_path: Path | str, adapter: Path | str | None = None):
        path = Path(model_path)
        if not (path / "config.json").is_file():
            raise NotFoundError("err.ev_model_missing", path=str(path))
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path)
        if adapter:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, str(adapter))
        self.model.eval()

    def losses(self, sample: EvalSample, reference: str) -> tuple[float, int]:
        """Summed negative log-likelihood of the answer's tokens and how many there are."""
        import torch

        ids, labels = encode(self.tokenizer, sample, reference)
        with torch.no_grad():
            logits = self.model(input_ids=torch.tensor([ids])).logits[0, :-1].float()
        target = torch.tensor(labels[1:])
        total = torch.nn.functional.cross_entropy(logits, target, ignore_index=IGNORE, reduction="sum")
        return float(total), int((target != IGNORE).sum())

    def score(self, samples: Sequence[EvalSample], references: Sequence[str]) -> tuple[float, list[float]]:
        """The set's perplexity (exp of the token-weighted mean loss) and each sample's own."""
        total, count, per_sample = 0.0, 0, []
        for sample, reference in zip(samples, references):
            loss, tokens = self.losses(sample, reference)
            total, count = total + loss, count + tokens
            per_sample.append(math.exp(loss / tokens) if tokens else math.nan)
        return (math.exp(total / count) if count else math.nan), per_sample
