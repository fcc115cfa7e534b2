"""The typed GRPO configuration (TRL's GRPOTrainer, our second training engine) and the YAML file it renders to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from ..i18n import t

GRPO_STAGE = "grpo"
GRPO_ENGINE = "trl"
FORM_KEY = "x-form"
# Form sections in drawing order; each field names its own.
SECTIONS = ("basic", "rewards", "generation", "optim", "lora")
_NAME = r"^[A-Za-z0-9_.\-]*$"


def _f(default=..., *, section: str, **constraints):
    """A field with the form section it is drawn in (the form reads type, choices and bounds from the field)."""
    return Field(default, json_schema_extra={FORM_KEY: {"section": section}}, **constraints)


def _rule(key: str, **params) -> PydanticCustomError:
    """A cross-field refusal that names its i18n key, so the service answers in the user's language."""
    return PydanticCustomError("llmops_rule", t(key, "en", **params), {"rule": key, **params})


class RewardChoice(BaseModel):
    """One built-in reward by name, its weight and its parameters (checked against the reward's own description)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    weight: float = Field(1.0, ge=-100, le=100)
    params: dict[str, float | int | str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> RewardChoice:
        from .grpo_rewards import REWARDS

        spec = REWARDS.get(self.name)
        if spec is None:
            raise _rule("err.grpo.reward_unknown", name=self.name, known=", ".join(REWARDS))
        unknown = set(self.params) - {param.name for param in spec.params}
        if unknown:
            raise _rule("err.grpo.reward_param", name=self.name, params=", ".join(sorted(unknown)))
        return self


class GrpoConfig(BaseModel):
    """One GRPO run as the user describes it; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str = _f(section="basic", min_length=1, max_length=1000)
    dataset: str = _f(section="basic", min_length=1, max_length=200)
    chat_format: Literal["chat", "plain"] = _f("chat", section="basic")
    system_prompt: str = _f("", section="basic", max_length=4000)
    finetuning_type: Literal["lora", "full"] = _f("lora", section="basic")
    run_name: str = _f("", section="basic", max_length=100, pattern=_NAME)
    rewards: list[RewardChoice] = _f(default_factory=lambda: [RewardChoice(name="exact_answer")], section="rewards",
                                     max_length=16)
    reward_file: str = _f("", section="rewards", max_length=1000)
    reward_file_weight: float = _f(1.0, section="rewards", ge=-100, le=100)
    num_generations: int = _f(4, section="generation", ge=2, le=64)
    prompts_per_step: int = _f(1, section="generation", ge=1, le=256)
    max_prompt_length: int = _f(256, section="generation", ge=8, le=32768)
    max_completion_length: int = _f(128, section="generation", ge=1, le=32768)
    temperature: float = _f(1.0, section="generation", gt=0, le=5)
    beta: float = _f(0.04, section="optim", ge=0, le=10)
    learning_rate: float = _f(1e-5, section="optim", gt=0, le=1)
    max_steps: int = _f(100, section="optim", ge=1, le=1_000_000)
    gradient_accumulation_steps: int = _f(1, section="optim", ge=1, le=1024)
    logging_steps: int = _f(1, section="optim", ge=1, le=100_000)
    save_steps: int = _f(0, section="optim", ge=0, le=1_000_000)
    seed: int = _f(42, section="optim", ge=0, le=2**31 - 1)
    lora_rank: int = _f(8, section="lora", ge=1, le=1024)
    lora_alpha: int = _f(16, section="lora", ge=1, le=4096)
    lora_dropout: float = _f(0.0, section="lora", ge=0, lt=1)
    lora_target: str = _f("all-linear", section="lora", min_length=1, max_length=500, pattern=r"^[A-Za-z0-9_,\-]+$")

    @model_validator(mode="after")
    def _has_reward(self) -> GrpoConfig:
        if not self.rewards and not self.reward_file.strip():
            raise _rule("err.grpo.no_reward")
        return self

    @property
    def completions_per_step(self) -> int:
        """Completions scored per optimizer step: prompts x generations x accumulation."""
        return self.prompts_per_step * self.num_generations * self.gradient_accumulation_steps


class GrpoYaml(GrpoConfig):
    """What the saved YAML holds: the config with the model and dataset file resolved and the output folder chosen."""

    stage: Literal["grpo"] = GRPO_STAGE
    engine: Literal["trl"] = GRPO_ENGINE
    dataset_file: str = Field(min_length=1, max_length=2000)
    output_dir: str = Field(min_length=1, max_length=2000)
    bf16: bool = False


def form_fields() -> list[tuple[str, str]]:
    """(field name, section) of every form field, in declaration order."""
    return [(name, (field.json_schema_extra or {}).get(FORM_KEY, {}).get("section", "basic"))
            for name, field in GrpoConfig.model_fields.items()]
