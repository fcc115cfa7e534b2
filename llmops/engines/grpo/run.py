"""One GRPO run on TRL's GRPOTrainer from a saved YAML: data, rewards, model (LoRA or full), trainer, outputs."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable
from pathlib import Path

import yaml

from ...schemas.grpo import GrpoYaml
from ...schemas.grpo_rewards import split_reference, trl_function
from ...security.paths import allowed_roots, in_workspace, is_within
from ...settings import Settings

log = logging.getLogger("llmops.grpo")


def load(path: Path | str) -> GrpoYaml:
    """The saved YAML as a typed config (unknown keys refused)."""
    return GrpoYaml(**(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}))


def read_rows(path: Path) -> list[dict]:
    """Rows of a .json array or a .jsonl file, each with `prompt` and `solution`."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        rows = data if isinstance(data, list) else [data]
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or "prompt" not in row or "solution" not in row:
            raise ValueError(f"{path}:{number}: a GRPO row needs prompt and solution")
    return rows


def build_dataset(config: GrpoYaml, settings: Settings):
    """A datasets.Dataset with TRL's `prompt` (a chat message list or plain text) and our `solution`."""
    from datasets import Dataset

    rows = read_rows(in_workspace(settings, config.dataset_file))
    items = []
    for row in rows:
        if config.chat_format == "chat":
            system = [{"role": "system", "content": config.system_prompt}] if config.system_prompt else []
            prompt = [*system, {"role": "user", "content": str(row["prompt"])}]
        else:
            prompt = f"{config.system_prompt}\n\n{row['prompt']}" if config.system_prompt else str(row["prompt"])
        items.append({"prompt": prompt, "solution": str(row["solution"])})
    return Dataset.from_list(items)


def user_reward(settings: Settings, reference: str) -> Callable:
    """The user's reward function, imported only from a file inside the allowed roots (it is code that will run)."""
    path, function = split_reference(reference)
    path = in_workspace(settings, path)
    if not is_within(path, allowed_roots(settings)):
        raise PermissionError(f"reward file {path} is outside the allowed folders")
    return load_user_function(path, function)


def load_user_function(path: Path, function: str) -> Callable:
    """Import `function` from the Python file at `path` (user_reward checks first that it may be)."""
    spec = importlib.util.spec_from_file_location(f"llmops_user_reward_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = getattr(module, function, None)
    if not callable(found):
        raise ValueError(f"{path} has no function {function}")
    return found


def reward_functions(config: GrpoYaml, settings: Settings) -> tuple[list[Callable], list[float]]:
    """The built-in rewards chosen, then the user's own, with their weights."""
    funcs = [trl_function(choice.name, choice.params) for choice in config.rewards]
    weights = [choice.weight for choice in config.rewards]
    if config.reward_file.strip():
        funcs.append(user_reward(settings, config.reward_file.strip()))
        weights.append(config.reward_file_weight)
    return funcs, weights


def trl_args(config: GrpoYaml, output_dir: Path, cuda: bool):
    """TRL's GRPOConfig for our typed one; prompts_per_step counts prompts, TRL's batch counts completions."""
    from trl import GRPOConfig

    save = {"save_strategy": "steps", "save_steps": config.save_steps} if config.save_steps else {"save_strategy": "no"}
    return GRPOConfig(
        output_dir=str(output_dir), per_device_train_batch_size=config.prompts_per_step * config.num_generations,
        num_generations=config.num_generations, max_prompt_length=config.max_prompt_length,
        max_completion_length=config.max_completion_length, temperature=config.temperature, beta=config.beta,
        learning_rate=config.learning_rate, max_steps=config.max_steps, seed=config.seed,
        gradient_accumulation_steps=config.gradient_accumulation_steps, logging_steps=config.logging_steps,
        bf16=config.bf16 and cuda, fp16=False, use_cpu=not cuda, report_to="none", dataloader_num_workers=0,
        disable_tqdm=True, remove_unused_columns=False, **save)


def train(config: GrpoYaml, settings: Settings) -> dict:
    """Run GRPO to the end (or to a stop request), save weights, then the results files that prove it finished."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .compat import fix_trl_package_flags, give_warnings_dict

    fix_trl_package_flags()
    from trl import GRPOTrainer

    from .trainer_log import TrainerLogWriter

    output_dir = in_workspace(settings, config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    cuda = torch.cuda.is_available()
    funcs, weights = reward_functions(config, settings)
    args = trl_args(config, output_dir, cuda)
    args.reward_weights = weights
    tokenizer = AutoTokenizer.from_pretrained(config.model, trust_remote_code=False)
    tokenizer.padding_side = "left"  # generation appends on the right
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(config.model, trust_remote_code=False, use_safetensors=True,
                                                 dtype=torch.bfloat16 if args.bf16 else torch.float32)
    give_warnings_dict(model)
    peft_config = None
    if config.finetuning_type == "lora":
        from peft import LoraConfig

        targets = config.lora_target if config.lora_target == "all-linear" else config.lora_target.split(",")
        peft_config = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                 target_modules=targets, task_type="CAUSAL_LM")
    writer = TrainerLogWriter(output_dir)
    trainer = GRPOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=build_dataset(config, settings),
                          processing_class=tokenizer, callbacks=[writer], peft_config=peft_config)
    result = trainer.train()
    trainer.save_model(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    trainer.save_state()
    metrics = {**result.metrics, "stopped_early": writer.stop_requested}
    trainer.save_metrics("train", metrics)  # train_results.json and all_results.json, written last
    return metrics


def main(argv: list[str]) -> int:
    """Entry point: one argument, the saved YAML."""
    if len(argv) != 1:
        print("usage: python -m llmops.engines.grpo CONFIG.yaml")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    config = load(argv[0])
    log.info("GRPO run: model %s, dataset %s, %d step(s), output %s", config.model, config.dataset_file,
             config.max_steps, config.output_dir)
    metrics = train(config, settings)
    log.info("GRPO finished: %s", json.dumps(metrics, default=str))
    return 0

