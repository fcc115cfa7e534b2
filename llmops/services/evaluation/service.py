"""One facade over the evaluation services for the page: sets, runs, results, reports, sheets, gate, benchmarks.

Each method is a thin call into the module that owns the behaviour; the page keeps layout and wiring only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import InvalidInputError, NotFoundError
from ...schemas.evaluation import EvalSetInfo
from ...settings import Settings
from . import benchmarks, compare, contamination, gate, human
from . import metrics as registry
from .report import write_report
from .runs import EvalRuns, RunView

REPORT_KINDS = ("html", "pdf", "json", "samples_csv", "samples_xlsx")


@dataclass(frozen=True)
class ReportFile:
    """A written report file; `note` says why it is not the kind asked for (no Chromium: the HTML instead)."""

    path: Path
    note: str | None = None


def run_command(values: dict, target: str | None = None) -> list[str]:
    """The `python -m llmops eval run ...` arguments that start the same run (`values` as EvalRunConfig fields) on
    `target`."""
    gen = values.get("generation") or {}
    args = ["eval", "run", "--models", ",".join(values.get("models") or []), "--set", values.get("set") or ""]
    if values.get("metrics"):
        args += ["--metrics", ",".join(values["metrics"])]
    if values.get("limit"):
        args += ["--limit", values["limit"]]
    for flag, key in (("--temperature", "temperature"), ("--top-p", "top_p"), ("--max-new-tokens", "max_new_tokens"),
                      ("--seed", "seed")):
        if key in gen:
            args += [flag, gen[key]]
    for flag, key in (("--concurrency", "concurrency"), ("--timeout", "timeout_s"), ("--retries", "retries")):
        if key in values:
            args += [flag, values[key]]
    if values.get("name"):
        args += ["--name", values["name"]]
    if target and target != "local":
        args += ["--target", target]
    return [str(a) for a in args]


def judge_command(run_id: str, judge: dict) -> list[str]:
    """The `eval judge` arguments that grade the run the same way afterwards."""
    args = ["eval", "judge", run_id, "--mode", judge.get("mode", "single"), "--judge-url", judge.get("base_url", ""),
            "--judge-model", judge.get("model", "")]
    if judge.get("api_key_env"):
        args += ["--judge-key-env", judge["api_key_env"]]
    if judge.get("lang"):
        args += ["--lang", judge["lang"]]
    if judge.get("dimensions"):
        args += ["--dimensions", ",".join(judge["dimensions"])]
    return args


class EvalWorkbench:
    """What the evaluation page asks of the services, by run id and set name."""

    def __init__(self, settings: Settings, runs: EvalRuns, runner=None):
        self.settings, self.runs = settings, runs
        self.runner = runner or runs.runner

    # --- sets -----------------------------------------------------------------------------------------
    def sets(self) -> list[EvalSetInfo]:
        return self.runs.sets.list()

    def set_names(self) -> list[str]:
        return [info.name for info in self.sets()]

    def add_set(self, path: str | Path, name: str) -> EvalSetInfo:
        return self.runs.sets.add(path, name)

    def contamination(self, set_name: str, version_id: str) -> contamination.ContaminationReport:
        if not (version_id or "").strip():
            raise InvalidInputError("err.ev_pick_version")
        return contamination.check(self.settings, set_name, version_id)

    # --- runs -----------------------------------------------------------------------------------------
    def start(self, values: dict, target: str | None = None):
        """(folder, job) of a new run on `target`; `values` are EvalRunConfig fields (the judge included)."""
        return self.runs.start(values, target=target)

    def views(self) -> list[RunView]:
        return self.runs.list()

    def view(self, run_id: str) -> RunView:
        return self.runs.show(_required(run_id))

    def stop(self, run_id: str):
        return self.runs.stop(_required(run_id))

    def resume(self, run_id: str):
        return self.runs.resume(_required(run_id))

    # --- results --------------------------------------------------------------------------------------
    def comparison(self, run_id: str, lang: str) -> compare.Comparison:
        return compare.comparison(self.runs.folder(_required(run_id)), lang)

    def changes(self, run_id: str, baseline: str, threshold: float, lang: str) -> list[compare.Change]:
        table = self.comparison(run_id, lang)
        return compare.changes(table, baseline or table.models[0], threshold=threshold)

    def samples(self, run_id: str, filter: compare.SampleFilter, page: int, page_size: int) -> compare.SamplePage:
        return compare.side_by_side(self.runs.folder(_required(run_id)), filter=filter, page=page,
                                    page_size=page_size)

    def errors(self, run_id: str) -> compare.ErrorAnalysis:
        return compare.error_analysis(self.runs.folder(_required(run_id)))

    def compare_runs(self, run_a: str, run_b: str, lang: str) -> compare.RunComparison:
        return compare.compare_runs(self.runs.folder(_required(run_a)), self.runs.folder(_required(run_b)), lang)

    def report(self, run_id: str, kind: str, lang: str, baseline: str | None = None) -> ReportFile:
        """Write one report file; without a Chromium a PDF request yields the HTML and the service's message."""
        folder = self.runs.folder(_required(run_id))
        if kind == "samples_csv" or kind == "samples_xlsx":
            return ReportFile(human.export_samples(self.settings, folder, kind.rpartition("_")[2]))
        if kind not in REPORT_KINDS:
            raise InvalidInputError("err.ev_report_kind", kind=kind, known=", ".join(REPORT_KINDS))
        if kind != "pdf":
            paths = write_report(self.settings, folder, lang, baseline=baseline or None, pdf=False)
            return ReportFile(paths.json if kind == "json" else paths.html)
        try:
            paths = write_report(self.settings, folder, lang, baseline=baseline or None, pdf=True)
        except NotFoundError as exc:
            # HTML and JSON are on disk by now: hand over the HTML and say why there is no PDF.
            return ReportFile(folder.path / "report.html", exc.message(lang))
        return ReportFile(paths.pdf)

    def export_sheet(self, run_id: str, fmt: str, blind: bool, lang: str) -> Path:
        return human.export_sheet(self.settings, self.runs.folder(_required(run_id)), fmt=fmt, blind=blind, lang=lang)

    def import_sheet(self, run_id: str, path: str | Path, lang: str) -> human.HumanScores:
        folder = self.runs.folder(_required(run_id))
        scores = human.import_sheet(self.settings, folder, path, lang)
        self.runs.summarise(run_id)  # the human figures join the summary, so the table shows them
        return scores

    # --- gate and benchmarks --------------------------------------------------------------------------
    def gate(self) -> gate.GateSetting:
        return gate.read_setting(self.settings)

    def configure_gate(self, set_name: str, metric: str, threshold: float) -> gate.GateSetting:
        return gate.configure(self.settings, set_name=set_name or "", metric=metric or "", threshold=threshold)

    def disable_gate(self) -> gate.GateSetting:
        return gate.disable(self.settings)

    def benchmark_tasks(self) -> list[Path]:
        return benchmarks.example_tasks(self.settings)

    def start_benchmark(self, version_id: str, tasks: list[str], limit: int | None, target: str | None = None):
        return benchmarks.start_benchmark(self.settings, self.runner, version_id, tasks, limit=limit, target=target)


def metric_names() -> list[str]:
    return list(registry.METRICS)


def _required(run_id: str | None) -> str:
    """A run id, or the 'no such run' message when none was picked."""
    if not (run_id or "").strip():
        raise InvalidInputError("err.ev_pick_run")
    return run_id.strip()
