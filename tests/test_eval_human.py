"""Human rating sheets: neutralised cells, safe reading of uploads, the blind key, validated import, samples table."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from llmops.errors import InvalidInputError
from llmops.schemas.eval_runs import DEFAULT_DIMENSIONS, EvalRunConfig, PredictionRecord
from llmops.schemas.evaluation import EvalSample
from llmops.services.evaluation import human, sheets
from llmops.services.evaluation.run_folder import RunFolder, new_run_id
from tests.test_cli_errors import run_cli

MODELS = ["tiny@v1.0", "tiny@v1.1", "other@v1.0"]
PROMPTS = ["What does F012 mean?", "逆变器报 F036 怎么办？", "Compute this", *[f"Question {i}?" for i in range(9)]]


def make_run(settings, models=MODELS) -> RunFolder:
    """A run of 12 samples answered by every model, with per-sample metric values; sample 2's answer is a formula."""
    folder = RunFolder(settings, new_run_id())
    samples = [EvalSample(prompt=p, reference=f"ref {i}" if i != 1 else "检查风扇。") for i, p in enumerate(PROMPTS)]
    folder.create(EvalRunConfig(run_id=folder.run_id, models=models, set="held", metrics=["exact_match"]), samples)
    for i, sample in enumerate(samples):
        for m, model in enumerate(models):
            output = "=1+1" if i == 2 else f"回答 {m}-{i}"
            folder.append(folder.predictions_path, PredictionRecord(
                sample=i, model=model, prompt=sample.prompt, reference=sample.reference, output=output,
                latency_s=0.5 + m, tokens=10 + i, error="timeout" if (i, m) == (3, 1) else None))
            folder.append(folder.scores_path, {"sample": i, "model": model, "exact_match": float(m == 0),
                                               "lf_bleu4": 12.5 + i})
    return folder


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def replace_part(path: Path, part: str, edit) -> Path:
    """Rewrite one part of a workbook's zip with `edit(old_text) -> new_text`."""
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info, edit(data.decode("utf-8")).encode("utf-8") if info.filename == part else data)
    path.write_bytes(buffer.getvalue())
    return path


def fill(path: Path, score_of) -> Path:
    """Fill every score cell of a sheet with score_of(sample, model cell, dimension index) and save it in place."""
    book = openpyxl.load_workbook(path)
    sheet = book.active
    for row in sheet.iter_rows(min_row=2):
        for d in range(len(DEFAULT_DIMENSIONS)):
            row[5 + d].value = score_of(row[0].value, row[1].value, d)
    book.save(path)
    return path


def test_cells_are_neutralised_both_ways():
    for text in ("=1+1", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "\0x", "'=x", "''=x", "'plain", "plain", "中文"):
        written = sheets.neutralise(text)
        assert not written.lstrip("'")[:1] in ("=", "+", "-", "@") or written.startswith("'"), text
        assert sheets.restore(written) == text
    assert sheets.neutralise(-2.5) == -2.5 and sheets.neutralise(None) is None


def test_xlsx_round_trip_keeps_a_formula_as_text(settings):
    folder = make_run(settings)
    path = human.export_sheet(settings, folder, fmt="xlsx", blind=False, lang="en")
    assert path == folder.human_dir / "sheet-open.xlsx"
    xml = sheet_xml(path)
    assert "<f>" not in xml and "'=1+1" in xml  # stored as text, never as a formula
    raw = openpyxl.load_workbook(path).active
    formula_row = next(r for r in raw.iter_rows(min_row=2) if r[0].value == 2)
    assert formula_row[4].data_type == "s"
    table = sheets.read_table(path)
    assert table.header[:5] == ["sample", "model", "prompt", "reference", "output"]
    assert table.header[5:] == [f"{d} (1-5)" for d in DEFAULT_DIMENSIONS] + ["comment"]
    outputs = {(r[0], r[1]): r[4] for _, r in table.rows}
    assert outputs[(2, "tiny@v1.0")] == "=1+1" and outputs[(1, "other@v1.0")] == "回答 2-1"
    assert len(table.rows) == len(PROMPTS) * len(MODELS) and table.rows[0][0] == 2


def test_a_formula_in_a_score_cell_is_read_as_text_never_evaluated(settings):
    folder = make_run(settings, MODELS[:1])
    path = human.export_sheet(settings, folder, blind=False)
    book = openpyxl.load_workbook(path)
    book.active["F2"] = "=2+3"  # openpyxl writes this as a live formula
    book.save(path)
    # Give it the cached value a spreadsheet program would have stored: a reader using it would accept 5.
    replace_part(path, "xl/worksheets/sheet1.xml", lambda x: x.replace("<f>2+3</f><v></v>", "<f>2+3</f><v>5</v>"))
    assert "<f>2+3</f><v>5</v>" in sheet_xml(path)
    assert openpyxl.load_workbook(path, data_only=True).active["F2"].value == 5
    with pytest.raises(InvalidInputError) as info:
        human.import_sheet(settings, folder, path)
    assert info.value.params["count"] == 1
    assert "Row 2, column 'accuracy (1-5)': '=2+3' is not a number." in info.value.message("en")
    assert not (folder.human_dir / "scores.json").exists()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
@pytest.mark.parametrize("doctype", [
    ('<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'),
    '<!DOCTYPE r [<!ENTITY d SYSTEM "file:///etc/passwd">]>',
])
def test_entity_bombs_and_external_entities_are_refused(settings, part, doctype):
    assert openpyxl.DEFUSEDXML is True  # openpyxl parses through defusedxml as well
    folder = make_run(settings, MODELS[:1])
    path = human.export_sheet(settings, folder, blind=False)

    def poison(xml: str) -> str:
        head, _, body = xml.partition("?>") if xml.startswith("<?xml") else ("", "", xml)
        body = body.replace("<t>fluency (1-5)</t>", "<t>&d;</t>", 1)
        return (head + "?>" if head else "") + doctype + body

    replace_part(path, part, poison)
    with pytest.raises(InvalidInputError) as info:
        sheets.read_table(path)
    assert info.value.key == "err.sh_xml_unsafe" and info.value.params["part"] == part
    with pytest.raises(InvalidInputError):
        human.import_sheet(settings, folder, path)
    assert not (folder.human_dir / "scores.json").exists()


def test_blind_key_hides_the_models_and_translates_back(settings):
    folder = make_run(settings)
    path = human.export_sheet(settings, folder)
    key = json.loads((folder.human_dir / "key.json").read_text(encoding="utf-8"))
    table = sheets.read_table(path)
    assert {r[1] for _, r in table.rows} == {"A", "B", "C"}
    assert not any(model in sheet_xml(path) for model in MODELS)
    # Letters are shuffled per sample: which model is "A" changes across the 12 samples.
    assert len({key["letters"][str(i)]["A"] for i in range(len(PROMPTS))}) > 1
    wanted = {MODELS[0]: 5, MODELS[1]: 3, MODELS[2]: 1}
    fill(path, lambda sample, letter, d: wanted[key["letters"][str(sample)][letter]] if d == 0 else None)
    stored = human.import_sheet(settings, folder, path)
    assert len(stored.scores) == len(PROMPTS) * len(MODELS)
    means = human.aggregate(folder)
    assert means[MODELS[0]] == {"accuracy": 5.0, "relevance": None, "fluency": None, "professionalism": None}
    assert means[MODELS[2]]["accuracy"] == 1.0
    # A second export keeps the key, so a sheet handed out earlier still imports right.
    human.export_sheet(settings, folder, fmt="csv")
    assert json.loads((folder.human_dir / "key.json").read_text(encoding="utf-8"))["letters"] == key["letters"]


def _csv_sheet(settings, folder, lang="en") -> tuple[Path, list[str], list[list[str]]]:
    path = human.export_sheet(settings, folder, fmt="csv", blind=False, lang=lang)
    table = sheets.read_table(path)
    return path, table.header, [[("" if c is None else str(c)) for c in cells] for _, cells in table.rows]


def test_every_bad_cell_is_named_by_row_and_column_and_nothing_is_stored(settings, tmp_path):
    folder = make_run(settings)
    _, header, rows = _csv_sheet(settings, folder)
    rows[0][5] = "7"  # row 2
    rows[1][6] = "good"  # row 3
    rows[2][0] = "99"  # row 4
    rows[3][1] = "Z"  # row 5
    rows[4][7] = ""  # blank: unscored, fine
    rows.append(list(rows[5]))  # row 38 repeats row 7
    rows[5][5] = rows[-1][5] = "4"
    target = sheets.write_table(tmp_path / "filled.csv", header, rows)
    with pytest.raises(InvalidInputError) as info:
        human.import_sheet(settings, folder, target)
    en, zh = info.value.message("en"), info.value.message("zh")
    assert info.value.params["count"] == 5
    assert "Row 2, column 'accuracy (1-5)': 7 is outside 1-5." in en
    assert "Row 3, column 'relevance (1-5)': 'good' is not a number." in en
    assert "Row 4, column 'sample': no sample '99' in this run." in en
    assert "Row 5, column 'model': 'Z' is no model or blind letter of this sample." in en
    assert f"Row {len(rows) + 1}: the same answer of sample 1 as row 7." in en
    assert "第 3 行，“relevance (1-5)”列：“good”不是数字。" in zh
    assert not (folder.human_dir / "scores.json").exists()
    missing = sheets.write_table(tmp_path / "missing.csv", header[:7] + header[8:], [r[:7] + r[8:] for r in rows])
    with pytest.raises(InvalidInputError) as info:
        human.import_sheet(settings, folder, missing, lang="zh")
    assert info.value.key == "err.hu_missing_columns" and info.value.params["columns"] == "流畅性 (1-5)"


def test_csv_round_trip_with_chinese_headers_in_either_language(settings, tmp_path):
    folder = make_run(settings)
    path, header, rows = _csv_sheet(settings, folder, lang="zh")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert header[:5] == ["样本", "模型", "提示词", "参考答案", "模型输出"] and header[5] == "准确性 (1-5)"
    assert rows[3][2] == "逆变器报 F036 怎么办？" and rows[3][3] == "检查风扇。"
    for row in rows:
        row[5], row[-1] = "4", "很好"
    english = ["sample", "MODEL", *header[2:5], "Accuracy（1-5）", *header[6:]]
    for i, head in enumerate((header, english)):
        stored = human.import_sheet(settings, folder, sheets.write_table(tmp_path / f"f{i}.csv", head, rows))
        assert len(stored.scores) == len(rows) and stored.scores[0].comment == "很好"
        assert human.aggregate(folder)[MODELS[1]]["accuracy"] == 4.0


def test_samples_table_has_every_answer_with_its_figures(settings):
    folder = make_run(settings)
    for fmt in ("csv", "xlsx"):
        path = human.export_samples(settings, folder, fmt)
        assert path == folder.path / f"samples.{fmt}"
        table = sheets.read_table(path)
        assert table.header == ["sample", "model", "prompt", "reference", "output", "latency_s", "tokens", "error",
                                "exact_match", "lf_bleu4"]
        cells = {(int(float(r[0])), r[1]): r for _, r in table.rows}
        assert len(cells) == len(PROMPTS) * len(MODELS)
        assert cells[(2, MODELS[0])][4] == "=1+1" and cells[(3, MODELS[1])][7] == "timeout"
        assert float(cells[(5, MODELS[0])][9]) == 17.5 and float(cells[(5, MODELS[0])][8]) == 1.0
    assert "<f>" not in sheet_xml(folder.path / "samples.xlsx")


def test_cli_exports_and_imports(settings, tmp_path):
    folder = make_run(settings, MODELS[:2])
    code, out, _ = run_cli(["eval", "export-human", folder.run_id, "--json"])
    assert code == 0, out
    path = Path(json.loads(out)["path"])
    key = json.loads((folder.human_dir / "key.json").read_text(encoding="utf-8"))
    fill(path, lambda s, letter, d: 2 if key["letters"][str(s)][letter] == MODELS[1] else 4)
    code, out, _ = run_cli(["eval", "import-human", folder.run_id, str(path), "--json"])
    assert code == 0, out
    assert json.loads(out)["human"][MODELS[1]]["fluency"] == 2.0
    code, out, _ = run_cli(["eval", "export-samples", folder.run_id, "--csv"])
    assert code == 0 and (folder.path / "samples.csv").is_file()
    bad = sheets.write_table(tmp_path / "bad.csv", ["sample", "model"], [["0", "A"]])
    code, out, err = run_cli(["eval", "import-human", folder.run_id, str(bad)])
    assert code != 0 and "accuracy (1-5)" in out + err
