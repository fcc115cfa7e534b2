"""Typed pipeline files run as dependent jobs in the job table, advanced by the reconciler's pass."""

from .service import PipelineService, StagePreview
from .stages import StageContext

__all__ = ["PipelineService", "StageContext", "StagePreview"]
