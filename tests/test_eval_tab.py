"""The Evaluation tab through the real app: upload a set, run the tiny model, read the results, report, sheet, errors."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from llmops.cli.main import build_parser
from llmops.schemas.eval_runs import DEFAULT_DIMENSIONS
from llmops.services.models import ModelRegistry
from llmops.ui.tabs.evaluation_run import metric_choices, run_command

from .apphelpers import connect

ROWS = [{"prompt": "What does fault F012 mean?", "reference": "Insulation fault on the DC side."},
        {"prompt": "逆变器报 F012 怎么办？", "reference": "检查直流侧绝缘电阻。"},
        {"prompt": "What does MPPT stand for?", "reference": "Maximum power point tracking."}]


def _form(models: list[str], set_name: str, metrics: list[str], *, limit: int = 2, name: str = "tab run") -> list:
    """The Run form's values in eval_start's order: generation, limits, judge (off), run name, language."""
    return [models, set_name, metrics, 0.0, 1.0, 12, 0, limit, 4, 60, 0, False, "single", "", "", "", "en",
            ",".join(DEFAULT_DIMENSIONS), "", name]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _wait_complete(client: Client, run_id: str, timeout_s: float = 150) -> list:
    """Poll the runs table until the run's row says complete (a failed job fails the test with its state)."""
    deadline, row = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        table = client.predict(api_name="/eval_runs")
        row = next(r for r in table["data"] if r[0] == run_id)
        if row[4] == "complete":
            return row
        assert row[4].lower() in ("new", "pending", "running"), row
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} not complete after {timeout_s} s: {row}")


def test_metric_choices_name_their_needs_and_the_command_matches_the_form():
    zh = {value: text for text, value in metric_choices("zh")}
    assert "需要参考答案" in zh["lf_bleu4"] and "标签" in zh["accuracy"] and "本地模型" in zh["perplexity"]
    args = run_command({"models": ["a@v1", "b@v2"], "set": "mini", "metrics": ["exact_match"], "limit": 2,
                        "generation": {"temperature": 0.0, "top_p": 1.0, "max_new_tokens": 12, "seed": 0},
                        "concurrency": 4, "timeout_s": 60.0, "retries": 0, "name": "x"})
    assert args[:6] == ["eval", "run", "--models", "a@v1,b@v2", "--set", "mini"]
    assert args[args.index("--limit") + 1] == "2" and args[args.index("--max-new-tokens") + 1] == "12"
    assert build_parser().parse_args(args).limit == 2  # the echoed command is one the CLI accepts


def test_eval_tab_end_to_end_in_chinese(settings, demo_model_dir, app_factory, tmp_path):
    ModelRegistry(settings).add_base("demo", str(demo_model_dir), template="chatml")
    app = app_factory(lang="zh")
    client = connect(app.url)

    message, table = client.predict(handle_file(str(_write(tmp_path / "mini.jsonl", ROWS))), "mini",
                                    api_name="/eval_set_add")
    assert "mini" in message and ["mini", "set", 3, ""] in table["data"]
    info, grid, page = client.predict("mini", 2, 2, api_name="/eval_set_preview")
    assert page == 2 and [r[1] for r in grid["data"]] == [ROWS[2]["prompt"]] and "2 / 2" in info
    gate = client.predict("mini", "exact_match", 1.5, api_name="/eval_gate_set")
    assert "mini" in gate and "exact_match" in gate and "1.5" in gate
    _write(tmp_path / "nolabels.jsonl", [{"prompt": "hi"}])
    client.predict(handle_file(str(tmp_path / "nolabels.jsonl")), "bare", api_name="/eval_set_add")

    # Refusals arrive in the session's language, before anything is queued.
    with pytest.raises(Exception, match="没有名为“nope”的评测集"):
        client.predict(*_form(["demo@v1.0"], "nope", ["exact_match"]), api_name="/eval_start")
    with pytest.raises(Exception, match="指标“lf_bleu4”需要样本带有"):
        client.predict(*_form(["demo@v1.0"], "bare", ["lf_bleu4"]), api_name="/eval_start")
    with pytest.raises(Exception, match="请先选择一次评测运行"):
        client.predict(None, api_name="/eval_results")

    started, command, _, _, run_id = client.predict(*_form(["demo@v1.0"], "mini", ["exact_match", "lf_bleu4"]),
                                                    api_name="/eval_start")
    assert run_id in started and command.startswith("python -m llmops eval run --models demo@v1.0 --set mini")
    row = _wait_complete(client, run_id)
    assert row[1:4] == ["tab run", "mini", "demo@v1.0"] and row[5] == "2/2"
    status, _ = client.predict(run_id, api_name="/eval_status")
    assert "2/2" in status and "complete" in status

    info, grid, chart, *_ = client.predict(run_id, api_name="/eval_results")
    # The untrained tiny model answers blank lines: no usable answer, each one empty and cut at max_new_tokens.
    assert run_id in info and grid["data"][0][:2] == ["demo@v1.0", 0]
    assert any("★" in str(cell) for cell in grid["data"][0][2:]), "the only model is best in every column"
    assert len(json.loads(chart["plot"])["data"]) == 1
    page_info, samples = client.predict(run_id, None, None, None, False, "", 1, 10, api_name="/eval_samples")
    assert [r[0] for r in samples["data"]] == [0, 1] and "1 / 1" in page_info
    assert samples["data"][1][1] == ROWS[1]["prompt"] and samples["data"][1][3].startswith("demo@v1.0")
    assert [r[6] for r in samples["data"]] == ["empty", "empty"]
    filtered = client.predict(run_id, None, None, None, True, "MPPT", 1, 10, api_name="/eval_samples")[1]
    assert filtered["data"] == [], "the third sample is beyond the limit"
    errors = client.predict(run_id, api_name="/eval_errors")
    counts = dict(zip(errors["headers"], errors["data"][0], strict=True))
    assert counts["模型"] == "demo@v1.0" and counts["空回答"] == 2 and counts["被截断"] == 2 and counts["超时"] == 0

    html_file, note = client.predict(run_id, None, api_name="/eval_report_html")
    text = Path(html_file).read_text(encoding="utf-8")
    assert "report.html" in note and run_id in text and "<html" in text.lower()
    sheet_file, _ = client.predict(run_id, "csv", False, api_name="/eval_sheet_export")
    with open(sheet_file, encoding="utf-8-sig") as handle:
        sheet = list(csv.reader(handle))
    assert len(sheet) == 3 and {r[1] for r in sheet[1:]} == {"demo@v1.0"}


def test_checkpoints_reports_sheets_and_two_runs_through_the_tab(settings, demo_model_dir, trained_adapter,
                                                                 app_factory, tmp_path):
    from llmops.services.datasets import DatasetRegistry

    registry = ModelRegistry(settings)
    base = registry.add_base("demo", str(demo_model_dir), template="chatml")
    tuned = registry.add_adapter("tuned", base.id, str(trained_adapter), lineage={"datasets": ["sample_sft"]})
    seen = DatasetRegistry(settings).rows(DatasetRegistry(settings).file_of("sample_sft"))[0]
    rows = [{"prompt": seen["instruction"], "reference": seen["output"]}, *ROWS[:1]]
    client = connect(app_factory(lang="en").url)
    client.predict(handle_file(str(_write(tmp_path / "mix.jsonl", rows))), "mix", api_name="/eval_set_add")

    # Sampled answers (temperature 1, seed 0): the tiny model's greedy answers are blank lines.
    form = _form([tuned.id], "mix", ["exact_match", "lf_bleu4"], name="ckpts")
    form[3] = 1.0
    with pytest.raises(Exception, match="exactly one version"):
        client.predict(*_form([base.id, tuned.id], "mix", ["exact_match"]), api_name="/eval_score_checkpoints")
    _, _, _, _, run_id = client.predict(*form, api_name="/eval_score_checkpoints")
    row = _wait_complete(client, run_id)
    models = [f"{tuned.id}#checkpoint-1", f"{tuned.id}#checkpoint-2", tuned.id]
    assert row[3].replace(" ", "").split(",") == models
    grid = client.predict(run_id, api_name="/eval_results")[1]
    assert [r[0] for r in grid["data"]] == models

    json_file, _ = client.predict(run_id, None, api_name="/eval_report_json")
    report = json.loads(Path(json_file).read_text(encoding="utf-8"))
    assert run_id in json.dumps(report) and all(m in json.dumps(report) for m in models)
    pdf_file, note = client.predict(run_id, None, api_name="/eval_report_pdf")
    assert Path(pdf_file).read_bytes()[:5] == b"%PDF-", note
    csv_file, _ = client.predict(run_id, None, api_name="/eval_report_samples_csv")
    assert len(list(csv.reader(open(csv_file, encoding="utf-8-sig")))) == 1 + len(models) * 2

    # A filled sheet comes back into the summary; a bad cell is refused with its row and column named.
    sheet_file, _ = client.predict(run_id, "csv", False, api_name="/eval_sheet_export")
    with open(sheet_file, encoding="utf-8-sig", newline="") as handle:
        sheet = list(csv.reader(handle))
    score_cols = [i for i, h in enumerate(sheet[0]) if "(1-5)" in h]
    bad = [list(r) for r in sheet]
    bad[1][score_cols[0]] = "9"
    with open(tmp_path / "bad.csv", "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(bad)
    with pytest.raises(Exception, match=r"Row 2, column .accuracy \(1-5\).: 9 is outside"):
        client.predict(run_id, handle_file(str(tmp_path / "bad.csv")), api_name="/eval_sheet_import")
    for r in sheet[1:]:
        for i in score_cols:
            r[i] = "4"
    with open(tmp_path / "good.csv", "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(sheet)
    note = client.predict(run_id, handle_file(str(tmp_path / "good.csv")), api_name="/eval_sheet_import")
    assert str(len(models) * 2) in note
    headers = client.predict(run_id, api_name="/eval_results")[1]["headers"]
    assert any("accuracy" in h.lower() for h in headers)

    # A second run on the same set compares with the first; the adapter's training data holds the first prompt.
    _, _, _, _, other = client.predict(*_form([tuned.id], "mix", ["exact_match"], name="again"), api_name="/eval_start")
    _wait_complete(client, other)
    info, table = client.predict(run_id, other, api_name="/eval_compare_runs")
    assert other in info and table["data"]
    summary, matches = client.predict("mix", tuned.id, api_name="/eval_contamination")
    assert matches["data"] and matches["data"][0][0] == 0 and "sample_sft" in json.dumps(matches["data"][0])
