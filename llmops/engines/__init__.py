"""Training engines of our own, run as job processes by the runner (LLaMA-Factory is the other engine)."""
