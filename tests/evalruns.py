"""Evaluation run folders written the way a run writes them, with hand-picked numbers the tests recompute by hand."""

from __future__ import annotations

from llmops.schemas.eval_runs import (
    EvalRunConfig,
    JudgeSpec,
    ModelSummary,
    PairJudgement,
    PredictionRecord,
    RunSummary,
    SingleJudgement,
)
from llmops.schemas.evaluation import EvalSample
from llmops.services.evaluation.run_folder import RunFolder, new_run_id

A, B, C = "base@v1.0", "sft@v1.1", "dpo@v1.2"
INJECTION = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">W/m²"
SAMPLES = [
    EvalSample(prompt="逆变器报 F012 怎么办？", reference="检查直流侧绝缘电阻，排除接地故障后复位。"),
    EvalSample(prompt="What does MPPT stand for?", reference="Maximum power point tracking."),
    EvalSample(prompt="光伏组件清洗周期是多久？", reference="一般每季度清洗一次，沙尘多的地区每月一次。"),
    EvalSample(prompt="Name the unit of irradiance.", reference="W/m²"),
    EvalSample(prompt="汇流箱的作用是什么？", reference="汇集多路组串电流并提供保护。"),
]
# (model, sample): (output, latency_s, tokens, error, truncated)
PREDICTIONS = {
    (A, 0): ("请联系厂家。", 1.0, 10, None, False),
    (A, 1): ("Maximum power point tracking.", 0.5, 5, None, False),
    (A, 2): ("", 120.0, 0, "timeout", False),
    (A, 3): ("W/m²", 0.2, 2, None, False),
    (A, 4): ("", 0.3, 0, "empty", False),
    (B, 0): ("检查直流侧绝缘电阻，排除接地故障后复位。", 2.0, 20, None, False),
    (B, 1): ("Maximum power point tracking.", 1.0, 5, None, False),
    (B, 2): ("每季度清洗一次。", 1.0, 8, None, False),
    (B, 3): (INJECTION, 0.5, 5, None, False),
    (B, 4): ("汇集组串电流。", 1.5, 15, None, True),
    (C, 0): ("检查绝缘电阻。", 1.0, 10, None, False),
    (C, 1): ("", 0.0, 0, "backend", False),
    (C, 2): ("一般每季度清洗一次，沙尘多的地区每月一次。", 2.0, 20, None, False),
    (C, 3): ("W/m²", 0.5, 5, None, False),
    (C, 4): ("汇集多路组串电流并提供保护。", 1.5, 15, None, False),
}
# (model, sample): (bleu-4, rouge-l, exact_match); None where the sample had no output to score
SCORES = {
    A: [(5.0, 10.0, 0.0), (100.0, 100.0, 100.0), None, (100.0, 100.0, 100.0), (0.0, 0.0, 0.0)],
    B: [(100.0, 100.0, 100.0), (100.0, 100.0, 100.0), (30.0, 40.0, 0.0), (20.0, 50.0, 0.0), (40.0, 60.0, 0.0)],
    C: [(30.0, 50.0, 0.0), None, (100.0, 100.0, 100.0), (100.0, 100.0, 100.0), (100.0, 100.0, 100.0)],
}
KEYS = ("bleu-4", "rouge-l", "exact_match")
# (model, sample): judge scores, or the judge's error
JUDGE = {
    (A, 0): {"accuracy": 2, "fluency": 3}, (A, 1): {"accuracy": 5, "fluency": 5}, (A, 3): {"accuracy": 4, "fluency": 4},
    (A, 4): "parse",
    (B, 0): {"accuracy": 5, "fluency": 5}, (B, 1): {"accuracy": 5, "fluency": 4}, (B, 2): {"accuracy": 3, "fluency": 4},
    (B, 3): {"accuracy": 1, "fluency": 2}, (B, 4): "parse",
    (C, 0): {"accuracy": 3, "fluency": 4}, (C, 2): {"accuracy": 5, "fluency": 5}, (C, 3): {"accuracy": 5, "fluency": 5},
    (C, 4): {"accuracy": 5, "fluency": 4},
}
HUMAN = {A: {"accuracy": 3.0}, B: {"accuracy": 4.0}}


def _mean(values):
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else None


def make_run(settings, *, samples=SAMPLES, summary: bool = True, judge: str | None = "single",
             models=(A, B, C), name: str = "光伏问答 v1") -> RunFolder:
    """A finished three-model run over the five samples above."""
    spec = None
    if judge:
        spec = JudgeSpec(mode=judge, base_url="http://127.0.0.1:9/v1", model="judge-7b", api_key_env="JUDGE_KEY",
                         dimensions=["accuracy", "fluency"], lang="zh")
    config = EvalRunConfig(run_id=new_run_id(), models=list(models), set="pv_qa", name=name,
                           metrics=["lf_bleu4", "lf_rougeL", "exact_match"], judge=spec, created="2026-01-01T00:00:00")
    folder = RunFolder(settings, config.run_id)
    folder.create(config, list(samples))
    for (model, index), (output, latency, tokens, error, truncated) in PREDICTIONS.items():
        if model not in models or index >= len(samples):
            continue
        sample = samples[index]
        folder.append(folder.predictions_path, PredictionRecord(
            sample=index, model=model, prompt=sample.prompt, reference=sample.reference, output=output,
            latency_s=latency, tokens=tokens, error=error, truncated=truncated,
            error_detail="HTTP 500 from the endpoint" if error == "backend" else ""))
    for model in models:
        for index, values in enumerate(SCORES[model][:len(samples)]):
            row = {"sample": index, "model": model, **dict(zip(KEYS, values or (None, None, None)))}
            folder.append(folder.scores_path, row)
    if judge == "single":
        for (model, index), verdict in JUDGE.items():
            if model in models and index < len(samples):
                failed = isinstance(verdict, str)
                folder.append(folder.judgements_path, SingleJudgement(
                    sample=index, model=model, scores={} if failed else verdict, error=verdict if failed else None,
                    reason="" if failed else "答案与参考基本一致。"))
    if summary:
        folder.write_summary(_summary(config, models))
    return folder


def _summary(config: EvalRunConfig, models) -> RunSummary:
    figures = {}
    for model in models:
        answered = [p for (m, _), p in PREDICTIONS.items() if m == model and p[3] is None]
        seconds = sum(p[1] for p in answered)
        judged = [v for (m, _), v in JUDGE.items() if m == model and isinstance(v, dict)]
        figures[model] = ModelSummary(
            samples=len(answered),
            metrics={key: _mean([row[i] if row else None for row in SCORES[model]]) for i, key in enumerate(KEYS)},
            latency_mean_s=seconds / len(answered), tokens_per_s=sum(p[2] for p in answered) / seconds,
            judge={"accuracy": _mean([v["accuracy"] for v in judged]), "fluency": _mean([v["fluency"] for v in judged]),
                   "failures": sum(1 for (m, _), v in JUDGE.items() if m == model and isinstance(v, str))},
            human=HUMAN.get(model, {}))
    return RunSummary(run_id=config.run_id, set=config.set, samples=len(SAMPLES), done=len(PREDICTIONS),
                      total=len(PREDICTIONS), status="complete", metrics=list(KEYS), models=figures)


def make_pairwise_run(settings) -> RunFolder:
    """Two models judged pairwise in both orders (no summary: the counts come from the judgements)."""
    folder = make_run(settings, judge="pairwise", models=(A, B), summary=False)
    verdicts = [(0, "ab", "a"), (0, "ba", "a"), (1, "ab", "a"), (1, "ba", "b"), (2, "ab", "b"), (2, "ba", "b"),
                (3, "ab", None), (3, "ba", "a")]
    for sample, order, winner in verdicts:
        folder.append(folder.judgements_path, PairJudgement(sample=sample, a=B, b=A, order=order, winner=winner,
                                                            error="parse" if winner is None else None))
    return folder
