"""Serving: a version as an OpenAI-compatible server (LLaMA-Factory api or vLLM) run as a `serve` job."""

from .plan import ENGINES, ServeOptions, ServePlan, options_from_pairs, parse_options
from .service import ServedRow, ServingService

__all__ = ["ENGINES", "ServeOptions", "ServePlan", "ServedRow", "ServingService", "options_from_pairs",
           "parse_options"]
