"""GRPO on TRL's GRPOTrainer: reward functions, the typed YAML it reads, and the entry point the runner starts."""
