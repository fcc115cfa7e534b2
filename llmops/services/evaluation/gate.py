"""The regression gate: a candidate version becomes current only if an evaluation run shows it no worse than the
version it replaces, on one set and one metric, beyond a tolerance.

The evidence is read, never computed here: the newest complete run whose summary holds the metric for both models.
The setting lives in `<configs>/gate.json`; overriding a failed gate is the caller's to record (lineage).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...errors import ConflictError, InvalidInputError, StorageError
from ...i18n import Message, t
from ...settings import Settings
from ...storage import atomic_write_json
from . import metrics as metric_registry
from .run_folder import list_runs

GATE_FILE = "gate.json"
REASON_NO_RUN = "gate.reason.no_run"


class GateSetting(BaseModel):
    """gate.json: whether the gate is on, and the set, metric and tolerated regression it checks."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    set: str | None = Field(None, min_length=1, max_length=300)
    metric: str | None = Field(None, min_length=1, max_length=100)
    threshold: float = Field(0.0, ge=0.0, le=1e9)  # the largest regression allowed, in the metric's own units


@dataclass(frozen=True)
class GateResult:
    """One gate verdict with the figures behind it."""

    passed: bool
    candidate: str
    previous: str
    set: str
    metric: str  # the registry name
    key: str  # its column in summaries
    higher_is_better: bool
    threshold: float
    candidate_figure: float | None = None
    previous_figure: float | None = None
    delta: float | None = None  # candidate minus previous, in the metric's units (sign as the metric reads)
    run_id: str | None = None  # the evaluation run that is the evidence
    reason: str | None = None  # i18n key: why no verdict could be drawn from the runs

    def to_dict(self) -> dict:
        return asdict(self)

    def message(self, lang: str = "en") -> str:
        """The verdict in one sentence, naming the figures (or why there are none)."""
        if self.reason:
            return t(self.reason, lang, set=self.set, metric=self.metric, candidate=self.candidate,
                     previous=self.previous)
        key = "gate.passed" if self.passed else "gate.failed"
        return t(key, lang, **_figures(self))


def _figures(result: GateResult) -> dict:
    direction = Message("gate.dir.higher" if result.higher_is_better else "gate.dir.lower")
    return {"candidate": result.candidate, "previous": result.previous, "set": result.set, "metric": result.metric,
            "candidate_figure": _fmt(result.candidate_figure), "previous_figure": _fmt(result.previous_figure),
            "delta": f"{result.delta:+.4g}" if result.delta is not None else "-", "threshold": _fmt(result.threshold),
            "run": result.run_id or "-", "direction": direction}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


# --- the setting ---------------------------------------------------------------------------------------

def setting_path(settings: Settings):
    return settings.configs_dir / GATE_FILE


def read_setting(settings: Settings) -> GateSetting:
    """The stored setting; off when never set."""
    path = setting_path(settings)
    try:
        return GateSetting.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return GateSetting()
    except (OSError, ValueError, ValidationError) as exc:
        raise StorageError("err.gate.corrupt", path=str(path), reason=str(exc)[:300]) from None


def configure(settings: Settings, *, set_name: str, metric: str, threshold: float = 0.0) -> GateSetting:
    """Turn the gate on for `set_name` and `metric` (a registry name or column), tolerating `threshold`."""
    found = metric_registry.get(metric)  # an unknown metric is refused here, not at the first check
    if not set_name or not set_name.strip():
        raise InvalidInputError("err.gate.no_set")
    if not math.isfinite(threshold) or threshold < 0:
        raise InvalidInputError("err.gate.bad_threshold", value=threshold)
    setting = GateSetting(enabled=True, set=set_name.strip(), metric=found.name, threshold=float(threshold))
    atomic_write_json(setting_path(settings), setting.model_dump(mode="json"))
    return setting


def disable(settings: Settings) -> GateSetting:
    """Turn the gate off, keeping its set, metric and threshold for the next time it is turned on."""
    setting = read_setting(settings).model_copy(update={"enabled": False})
    atomic_write_json(setting_path(settings), setting.model_dump(mode="json"))
    return setting


# --- the check -----------------------------------------------------------------------------------------

def check(settings: Settings, candidate_id: str, previous_id: str, *, set_name: str, metric: str,
          threshold: float) -> GateResult:
    """The verdict from the newest complete run on `set_name` that holds `metric` for both versions."""
    found = metric_registry.get(metric)
    base = {"candidate": candidate_id, "previous": previous_id, "set": set_name, "metric": found.name,
            "key": found.key, "higher_is_better": found.higher_is_better, "threshold": float(threshold)}
    for folder in list_runs(settings):
        summary = folder.summary()
        if summary is None or summary.status != "complete" or summary.set != set_name:
            continue
        figures = [_figure(summary.models.get(model), found.key) for model in (candidate_id, previous_id)]
        if None in figures:
            continue
        candidate, previous = figures
        delta = candidate - previous
        regression = -delta if found.higher_is_better else delta
        return GateResult(passed=regression <= threshold + 1e-12, candidate_figure=candidate, previous_figure=previous,
                          delta=delta, run_id=summary.run_id, **base)
    return GateResult(passed=False, reason=REASON_NO_RUN, **base)


def _figure(model_summary, key: str) -> float | None:
    value = model_summary.metrics.get(key) if model_summary is not None else None
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def check_stored(settings: Settings, candidate_id: str, previous_id: str) -> GateResult | None:
    """The stored gate's verdict; None when the gate is off."""
    setting = read_setting(settings)
    if not setting.enabled or not setting.set or not setting.metric:
        return None
    return check(settings, candidate_id, previous_id, set_name=setting.set, metric=setting.metric,
                 threshold=setting.threshold)


def enforce(settings: Settings, candidate_id: str, previous_id: str | None, *, force: bool = False
            ) -> GateResult | None:
    """Refuse (ConflictError naming the figures) when the stored gate is on and fails, unless `force`.

    Returns the verdict when the gate was consulted (a failed one only under `force`), None when it was not."""
    if not previous_id or previous_id == candidate_id:
        return None
    result = check_stored(settings, candidate_id, previous_id)
    if result is None or result.passed or force:
        return result
    if result.reason:
        raise ConflictError("err.gate.no_evidence", set=result.set, metric=result.metric, candidate=candidate_id,
                            previous=previous_id)
    raise ConflictError("err.gate.refused", **_figures(result))


def override_record(result: GateResult, at: str) -> dict:
    """What a forced promotion past a failed gate leaves in the candidate's lineage."""
    return {**result.to_dict(), "forced_at": at}
