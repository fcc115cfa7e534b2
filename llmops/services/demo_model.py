"""A tiny local model (own BPE tokenizer, 2-layer Qwen2, ChatML) for checking a pipeline with no download."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from ..errors import ConflictError, InvalidInputError

MARKER = "llmops_demo.json"
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def is_demo(path: str | Path) -> bool:
    """True for a folder this module built."""
    return (Path(path) / MARKER).exists()


def _corpus(sources: list[Path]) -> list[str]:
    texts = []
    for source in sources:
        files = sorted(source.rglob("*")) if source.is_dir() else [source]
        for file in files:
            if file.is_file() and file.suffix.lower() in (".md", ".txt", ".json", ".jsonl"):
                texts.append(file.read_text(encoding="utf-8", errors="replace"))
    return texts


def build(out: Path, sources: list[Path], vocab_size: int = 1024, seed: int = 0, overwrite: bool = False) -> Path:
    """Train the tokenizer on `sources`, initialise the model, and save both to `out` in one move."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        if is_demo(out):
            return out
        raise ConflictError("err.output_not_empty", path=str(out))
    texts = _corpus(sources)
    if sum(len(text) for text in texts) < 2000:
        raise InvalidInputError("err.demo_no_text", sources=", ".join(map(str, sources)))

    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHATML_TEMPLATE

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True,
        eos_token_id=fast.convert_tokens_to_ids("<|im_end|>"), pad_token_id=fast.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fast.save_pretrained(staging)
        model.save_pretrained(staging)
        (staging / MARKER).write_text(json.dumps({
            "kind": "demo", "purpose": "pipeline check only: answers are not meaningful",
            "parameters": sum(p.numel() for p in model.parameters()), "vocab_size": len(fast),
        }, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
