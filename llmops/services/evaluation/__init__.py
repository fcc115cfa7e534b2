"""Evaluation: sets, the metrics registry and the scorer."""

from .metrics import DEFAULT_METRICS, METRICS, Metric, describe_all
from .scorer import read_predictions, score, score_file
from .sets import EvalSets

__all__ = ["DEFAULT_METRICS", "METRICS", "EvalSets", "Metric", "describe_all", "read_predictions", "score",
           "score_file"]
