"""Metrics and scorer: LLaMA-Factory's own ComputeSimilarity gives the same floats; the other metrics on known cases."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from llmops.errors import InvalidInputError
from llmops.schemas.evaluation import EvalSample, Prediction
from llmops.services.evaluation import metrics, scorer, text_metrics
from llmops.services.evaluation.lf_similarity import LFSimilarity, summarise

PAIRS = [
    ("F012 是绝缘阻抗低故障：逆变器启动自检时测得直流侧对地绝缘阻抗低于 100 kΩ。", "F012 是绝缘阻抗低故障：逆变器启动自检时测得直流侧对地绝缘阻抗低于 100 kΩ，因此不允许并网。"),
    ("逆变器会每 15 分钟重试一次自检！真的吗？是的。", "逆变器每 15 分钟重试一次。"),
    ("The inverter stays disconnected from the grid.", "F012 means insulation resistance low: the inverter stays disconnected from the grid."),
    ("It retries the measurement every 15 minutes...... then stops", "It retries every 15 minutes."),
    ("", "a reference"),
    ("   \n ", "空白的预测"),
    ("an answer", ""),
    ("完全相同的句子。", "完全相同的句子。"),
    ("line one\r\nline two\n\nthree", "line one\nline two"),
    ("Yf = 196,100 kWh ÷ 50,540 kWp ≈ 3.88 h，PR ≈ 77.6%。", "PR = 3.88 ÷ 5.0 ≈ 77.6%，不触发告警。"),
    ("a", "b"),
    ("“引号”后的句子。”再来", "“引号”后的句子。"),
]


class _IndexTokenizer:
    """Decodes row i of the id matrix to text i: LLaMA-Factory's class then scores exactly these strings."""

    pad_token_id = 0

    def __init__(self, texts):
        self.texts = texts

    def batch_decode(self, ids, skip_special_tokens=True):
        return [self.texts[int(row[0])] for row in ids]


def lf_compute_similarity(pairs):
    """LLaMA-Factory's own ComputeSimilarity over (prediction, label) pairs: per-sample lists and the set figures."""
    from llamafactory.train.sft.metric import ComputeSimilarity
    from transformers import EvalPrediction

    texts = [p for p, _ in pairs] + [r for _, r in pairs]
    n = len(pairs)
    metric = ComputeSimilarity(_IndexTokenizer(texts))
    metric(EvalPrediction(predictions=np.arange(n).reshape(-1, 1), label_ids=(np.arange(n) + n).reshape(-1, 1)),
           compute_result=False)
    per_sample = {k: list(v) for k, v in metric.score_dict.items()}
    return per_sample, metric._dump()


def test_lf_metrics_equal_llamafactory_compute_similarity_zh_and_en():
    per_sample, figures = lf_compute_similarity(PAIRS)
    ours = LFSimilarity().score([p for p, _ in PAIRS], [r for _, r in PAIRS])
    assert ours == per_sample  # every rounded per-sample value, identical floats
    assert summarise(ours) == figures
    assert figures["rouge-1"] > 0 and per_sample["bleu-4"][7] == 100.0


_ALPHABET = st.sampled_from(list("逆变器绝缘阻抗故障自检。！？，、“”的是了 \n\r\tabcXYZ019.%-+#&_…?!,;:") + ["......", "kΩ"])


@hsettings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(_ALPHABET, max_size=40).map("".join), st.lists(_ALPHABET, max_size=40).map("".join)),
                min_size=1, max_size=6))
def test_lf_metrics_equal_llamafactory_on_random_texts(pairs):
    import jieba

    engine = LFSimilarity()
    for pred, label in pairs:
        assert engine.cut(pred) == list(jieba.cut(pred))
    per_sample, figures = lf_compute_similarity(pairs)
    ours = engine.score([p for p, _ in pairs], [r for _, r in pairs])
    assert ours == per_sample and summarise(ours) == figures


def test_sacrebleu_known_values_and_tokenizer_choice():
    figure, per_sample, signature = text_metrics.corpus_sacrebleu(["a b c d e"], ["a b c d f"])
    assert figure == pytest.approx(100 * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25)  # brevity penalty 1
    assert "tok:13a" in signature and per_sample[0] == pytest.approx(figure)
    figure, _, signature = text_metrics.corpus_sacrebleu(["逆变器启动自检"], ["逆变器启动自检"])
    assert figure == pytest.approx(100.0) and "tok:zh" in signature
    assert text_metrics.sacrebleu_tokenizer(["The inverter", "逆变器绝缘阻抗低"]) == "zh"
    assert text_metrics.sacrebleu_tokenizer(["The inverter stays off", "kΩ"]) == "13a"


@pytest.mark.parametrize("output, reference, expected", [
    ("Hello,  World!", "hello world", 100.0),
    ("ＡＢＣ１２３", "abc123", 100.0),  # full width -> half width
    ("答案：北京。", "答案 北京", 100.0),
    ("  tab\tand\nnewline ", "tab and newline", 100.0),
    ("hello world", "hello there", 0.0),
    ("42", "42.0", 0.0),
])
def test_exact_match_normalisation(output, reference, expected):
    assert text_metrics.exact_match(output, reference) == expected


@pytest.mark.parametrize("output, label, mode, pattern, expected", [
    ("The answer is B.", "B", "auto", None, 100.0),
    ("答案是C", "C", "auto", None, 100.0),
    ("(D) because the fan is slow", "D", "auto", None, 100.0),
    ("A. Replace the fan", "a", "auto", None, 100.0),
    ("Answer: B", "C", "choice", None, 0.0),
    ("no letter here", "A", "choice", None, 0.0),
    ("It is insulation resistance LOW.", "insulation resistance low", "auto", None, 100.0),
    ("It is a fan fault", "insulation", "contains", None, 0.0),
    ("Result: 42 kWh", "42", "regex", r"Result:\s*(\d+)", 100.0),
    ("Result: 43 kWh", "42", "regex", r"Result:\s*(\d+)", 0.0),
])
def test_accuracy_extraction(output, label, mode, pattern, expected):
    assert text_metrics.accuracy(output, label, mode, pattern) == expected


def test_registry_entries_describe_themselves_in_both_languages():
    for lang in ("en", "zh"):
        for entry in metrics.describe_all(lang):
            assert entry["display"] != f"ev.metric.{entry['name']}" and entry["help"]
            assert entry["needs"] and isinstance(entry["higher_is_better"], bool)
    assert "LLaMA-Factory" in metrics.get("lf_bleu4").display("en") and "LLaMA-Factory" not in metrics.get(
        "sacrebleu").display("en")
    assert metrics.get("perplexity").needs == ("reference", "model") and not metrics.get("perplexity").higher_is_better
    with pytest.raises(InvalidInputError):
        metrics.get("bleu")


def test_score_reads_llamafactory_and_our_predictions(tmp_path):
    lf = tmp_path / "generated_predictions.jsonl"
    lf.write_text("".join(json.dumps({"prompt": "p", "predict": p, "label": r}, ensure_ascii=False) + "\n"
                          for p, r in PAIRS), encoding="utf-8")
    ours = tmp_path / "predictions.jsonl"
    ours.write_text("".join(json.dumps({"prompt": "p", "output": p, "reference": r, "label": "A"}, ensure_ascii=False)
                            + "\n" for p, r in PAIRS), encoding="utf-8")
    _, figures = lf_compute_similarity(PAIRS)
    for path in (lf, ours):
        report = scorer.score(scorer.read_predictions(path), [*metrics.DEFAULT_METRICS])
        assert {k: report.summary[k] for k in figures} == figures
        assert report.summary["n"] == len(PAIRS) and report.summary["exact_match"] == pytest.approx(100 / len(PAIRS))
        assert len(report.per_sample) == len(PAIRS) and report.per_sample[7]["exact_match"] == 100.0
    with pytest.raises(InvalidInputError, match="accuracy"):
        scorer.score(scorer.read_predictions(lf), ["accuracy"])  # LF files carry no label of ours
    assert scorer.score(scorer.read_predictions(ours), ["accuracy"]).summary["accuracy"] == 0.0


def test_bad_prediction_lines_are_reported_by_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"output": "ok", "reference": "ok"}\n{oops\n{"reference": "no output"}\n', encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        scorer.read_predictions(path)
    message = caught.value.message("en")
    assert f"{path}:2: invalid JSON" in message and f"{path}:3: not a prediction" in message and "2 bad" in message


def test_perplexity_equals_exp_of_masked_loss(demo_model_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops.services.evaluation.perplexity import PerplexityScorer, encode

    sample = EvalSample(prompt="HX-110 逆变器报 F012 是什么意思？", system="You are terse.")
    reference = "F012 是绝缘阻抗低故障。"
    figure, per_sample = PerplexityScorer(demo_model_dir).score([sample], [reference])
    tokenizer = AutoTokenizer.from_pretrained(demo_model_dir)
    model = AutoModelForCausalLM.from_pretrained(demo_model_dir)
    ids, labels = encode(tokenizer, sample, reference)
    prompt_ids = tokenizer(tokenizer.apply_chat_template(sample.messages(), tokenize=False, add_generation_prompt=True),
                           add_special_tokens=False)["input_ids"]
    assert labels[:len(prompt_ids)] == [-100] * len(prompt_ids) and -100 not in labels[len(prompt_ids):]
    assert tokenizer.decode(ids[len(prompt_ids):]).startswith(reference)
    with torch.no_grad():
        loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss  # HF's masked mean
    assert per_sample[0] == pytest.approx(math.exp(float(loss)), rel=1e-5) and figure == pytest.approx(per_sample[0])
    report = scorer.score([Prediction(prompt=sample.prompt, system=sample.system, reference=reference, output="x")],
                          ["perplexity"], model=str(demo_model_dir))
    assert report.summary["perplexity"] == pytest.approx(figure)
    with pytest.raises(InvalidInputError, match="local model"):
        scorer.score([Prediction(prompt="p", reference="r", output="x")], ["perplexity"])


def test_llamafactory_do_predict_figures_match_our_scoring(demo_model_dir, tmp_path, settings):
    """A real `llamafactory-cli train` with do_predict on the tiny model; its predict_results.json is our summary."""
    data = tmp_path / "data"
    data.mkdir()
    rows = json.loads((settings.sample_datasets_dir / "sft.json").read_text(encoding="utf-8"))[:6]
    (data / "eval.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    (data / "dataset_info.json").write_text(json.dumps({"tiny_eval": {"file_name": "eval.json"}}), encoding="utf-8")
    out = tmp_path / "out"
    cfg = tmp_path / "predict.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        model_name_or_path: {demo_model_dir}
        stage: sft
        do_predict: true
        finetuning_type: lora
        eval_dataset: tiny_eval
        dataset_dir: {data}
        template: chatml
        cutoff_len: 256
        max_new_tokens: 12
        do_sample: false
        predict_with_generate: true
        per_device_eval_batch_size: 6
        output_dir: {out}
        overwrite_output_dir: true
        report_to: none
        bf16: false
        fp16: false
        preprocessing_num_workers: 1
        dataloader_num_workers: 0
        """), encoding="utf-8")
    cli = os.path.join(os.path.dirname(sys.executable), "llamafactory-cli")
    env = {**os.environ, "DISABLE_VERSION_CHECK": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([cli, "train", str(cfg)], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    lf_figures = json.loads((out / "predict_results.json").read_text(encoding="utf-8"))
    predictions = scorer.read_predictions(out / "generated_predictions.jsonl")
    assert len(predictions) == len(rows) and predictions[0].reference.startswith(rows[0]["output"])
    report = scorer.score(predictions, ["lf_bleu4", "lf_rouge1", "lf_rouge2", "lf_rougeL"])
    for key in ("bleu-4", "rouge-1", "rouge-2", "rouge-l"):
        assert report.summary[key] == lf_figures[f"predict_{key}"], key
