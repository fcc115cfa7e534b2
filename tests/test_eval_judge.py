"""LLM-as-judge on a run folder, against real judge servers on 127.0.0.1 whose verdicts are known."""

from __future__ import annotations

import dataclasses
import json
import random
import threading

import pytest

from llmops.cli.main import main
from llmops.errors import BackendError, InvalidInputError, PermissionDeniedError
from llmops.schemas.eval_runs import EvalRunConfig, JudgeSpec, PredictionRecord, RunSummary
from llmops.schemas.evaluation import EvalSample
from llmops.schemas.votes import Vote
from llmops.services.evaluation.judge_audit import cohen_kappa, resolve
from llmops.services.evaluation.judge_prompts import Malformed, Prompter, parse_scores, parse_verdict
from llmops.services.evaluation.judging import judge_run, judge_summary
from llmops.services.evaluation.run_folder import RunFolder, new_run_id
from llmops.services.prefs import PrefsStore
from tests.apphelpers import free_port
from tests.judgeserver import DIMENSIONS, JudgeServer, first_wins, longer_wins, rate_limited_once, rubric

MODELS = ["m1@v1", "m2@v1", "m3@v1"]
# (prompt, reference, {model: output; None = that model failed on the sample})
PAIR_ROWS = [
    ("q0", "r0", {"m1@v1": "aa", "m2@v1": "aaaa", "m3@v1": "a"}),
    ("q1", "r1", {"m1@v1": "bbbb", "m2@v1": "bb", "m3@v1": "bbbbbb"}),
    ("q2", None, {"m1@v1": "cc", "m2@v1": "ce", "m3@v1": None}),
    ("q3", "r3", {"m1@v1": None, "m2@v1": "dd", "m3@v1": "ddd"}),
]
# Default pairs (m2, m1) on q0..q2 and (m3, m1) on q0, q1: ten requests, both orders each.
PAIR_REQUESTS = 10


def make_run(settings, models, rows) -> RunFolder:
    """A run folder whose predictions are already written."""
    folder = RunFolder(settings, new_run_id())
    folder.create(EvalRunConfig(run_id=folder.run_id, models=models, set="s"),
                  [EvalSample(prompt=p, reference=r) for p, r, _ in rows])
    for index, (prompt, reference, outputs) in enumerate(rows):
        for model, output in outputs.items():
            folder.append(folder.predictions_path, PredictionRecord(
                sample=index, model=model, prompt=prompt, reference=reference, output=output or "",
                error=None if output else "backend"))
    return folder


def spec(server: JudgeServer, **fields) -> JudgeSpec:
    return JudgeSpec(base_url=server.base_url, model="judge", **{"concurrency": 4, "retries": 1, **fields})


def vote(prompt, a, b, winner, left="a", source="human") -> Vote:
    return Vote(prompt=prompt, model_a=a, model_b=b, response_a="x", response_b="y", winner=winner, left=left,
                source=source)


def write_votes(settings) -> None:
    """Human votes on some judged pairs, in either position, plus votes that must not count."""
    store = PrefsStore(settings.prefs_path)
    for item in (
        vote("q0", "m1@v1", "m2@v1", "b", left="b"),   # m2 over m1            -> (m2, m1) frame: a
        vote("q1", "m2@v1", "m1@v1", "a"),             # m2 over m1            -> a
        vote("q2", "m1@v1", "m2@v1", "both_bad"),      # read as a tie         -> tie
        vote("q0", "m1@v1", "m3@v1", "a", left="b"),   # m1 over m3            -> (m3, m1) frame: b
        vote("q1", "m3@v1", "m1@v1", "a"),             # m3 over m1, twice ...
        vote("q1", "m1@v1", "m3@v1", "b"),
        vote("q1", "m3@v1", "m1@v1", "b"),             # ... and once m1: majority a
        vote("q1", "m2@v1", "m1@v1", "b", source="synthetic"),  # not a person's
        vote("q0", "m2@v1", "m3@v1", "a"),             # a pair nobody judged
        vote("elsewhere", "m2@v1", "m1@v1", "a"),      # a prompt the run does not have
    ):
        store.append(item)


def lines(folder: RunFolder) -> list[dict]:
    return [json.loads(line) for line in folder.judgements_path.read_text(encoding="utf-8").splitlines()]


# --- pairwise ---------------------------------------------------------------------------------------------

def test_a_consistent_judge_gives_known_tallies_no_bias_and_hand_computed_agreement(settings):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    write_votes(settings)
    seen = []
    with JudgeServer(longer_wins) as server:
        outcome = judge_run(settings, folder, spec(server, mode="pairwise"), progress=lambda d, t: seen.append((d, t)))
        assert server.requests == PAIR_REQUESTS
    assert seen[0] == (0, PAIR_REQUESTS) and seen[-1] == (PAIR_REQUESTS, PAIR_REQUESTS)
    assert outcome.pairwise == {"m1@v1": {"win": 2, "loss": 2, "tie": 1}, "m2@v1": {"win": 1, "loss": 1, "tie": 1},
                                "m3@v1": {"win": 1, "loss": 1, "tie": 0}}
    assert outcome.models["m3@v1"] == {"win_rate": 0.5, "failures": 0}
    audit = outcome.summary
    assert (audit.mode, audit.judged, audit.failures, audit.position_bias_rate) == ("pairwise", 10, 0, 0.0)
    # Judge vs humans on five items: (a,a) (b,a) (tie,tie) (b,b) (a,a). po = 4/5; pe = (2*3 + 2*1 + 1*1) / 25.
    assert audit.overlap == 5 and audit.human_agreement == 0.8
    assert audit.kappa == pytest.approx((0.8 - 9 / 25) / (1 - 9 / 25), abs=1e-4)
    written = lines(folder)
    assert len(written) == PAIR_REQUESTS and {line["order"] for line in written} == {"ab", "ba"}
    # Order "ba" shows b's answer first: the server's "A" is translated back to model b.
    q0 = {line["order"]: line["winner"] for line in written if line["sample"] == 0 and line["a"] == "m2@v1"}
    assert q0 == {"ab": "a", "ba": "a"}


def test_a_judge_that_always_picks_the_first_answer_is_all_bias_and_all_ties(settings):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    write_votes(settings)
    with JudgeServer(first_wins) as server:
        outcome = judge_run(settings, folder, spec(server, mode="pairwise"))
    audit = outcome.summary
    assert audit.position_bias_rate == 1.0 and audit.judged == 10
    assert outcome.pairwise == {"m1@v1": {"win": 0, "loss": 0, "tie": 5}, "m2@v1": {"win": 0, "loss": 0, "tie": 3},
                                "m3@v1": {"win": 0, "loss": 0, "tie": 2}}
    # Every verdict a tie against humans' a, a, tie, b, a: po = 1/5 = pe, so kappa is exactly 0.
    assert (audit.overlap, audit.human_agreement, audit.kappa) == (5, 0.2, 0.0)


def test_explicit_pairs_and_no_votes_mean_no_agreement_figures(settings):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    with JudgeServer(longer_wins) as server:
        outcome = judge_run(settings, folder, spec(server, mode="pairwise", lang="zh", pairs=[("m3@v1", "m2@v1")]))
        assert all("[回答 A]" in prompt for prompt in server.seen)
        assert server.requests == 6  # q0, q1, q3 have both answers; q2 lacks m3's
    assert outcome.pairwise == {"m1@v1": {"win": 0, "loss": 0, "tie": 0}, "m2@v1": {"win": 1, "loss": 2, "tie": 0},
                                "m3@v1": {"win": 2, "loss": 1, "tie": 0}}
    assert outcome.models["m1@v1"] == {"win_rate": None, "failures": 0}
    assert (outcome.summary.overlap, outcome.summary.human_agreement, outcome.summary.kappa) == (0, None, None)


def test_a_stopped_run_resumes_without_asking_twice(settings):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    stop = threading.Event()
    with JudgeServer(longer_wins) as server:
        first = judge_run(settings, folder, spec(server, mode="pairwise", concurrency=1), stop=stop,
                          progress=lambda done, total: done >= 3 and stop.set())
        assert 3 <= first.new < PAIR_REQUESTS and server.requests == first.new
        second = judge_run(settings, folder, spec(server, mode="pairwise", concurrency=1))
        assert server.requests == PAIR_REQUESTS and first.new + second.new == PAIR_REQUESTS
        again = judge_run(settings, folder, spec(server, mode="pairwise"))
        assert server.requests == PAIR_REQUESTS and again.new == 0
    assert len(lines(folder)) == PAIR_REQUESTS
    assert again.pairwise == second.pairwise and again.summary == second.summary


def test_rate_limits_are_retried_and_failures_are_asked_again_on_resume(settings):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    with JudgeServer(rate_limited_once(longer_wins)) as server:
        failed = judge_run(settings, folder, spec(server, mode="pairwise", retries=0))
        assert server.requests == PAIR_REQUESTS
        assert failed.summary.failures == PAIR_REQUESTS and failed.summary.judged == 0
        assert {line["error"] for line in lines(folder)} == {"http_429"}
        assert failed.models["m1@v1"]["failures"] == 10 and failed.pairwise["m1@v1"]["win"] == 0
        healed = judge_run(settings, folder, spec(server, mode="pairwise", retries=0))
        assert server.requests == 2 * PAIR_REQUESTS
    assert healed.summary.failures == 0 and healed.summary.judged == PAIR_REQUESTS
    assert healed.pairwise["m1@v1"] == {"win": 2, "loss": 2, "tie": 1}
    other = make_run(settings, MODELS, PAIR_ROWS)
    with JudgeServer(rate_limited_once(longer_wins)) as server:
        retried = judge_run(settings, other, spec(server, mode="pairwise", retries=1))
        assert server.requests == 2 * PAIR_REQUESTS
    assert retried.summary.judged == PAIR_REQUESTS and {line["attempts"] for line in lines(other)} == {2}


# --- single -----------------------------------------------------------------------------------------------

SINGLE_ROWS = [
    ("q0", "r0", {"m1@v1": "good 5", "m2@v1": "ok 2"}),
    ("q1", "r1", {"m1@v1": "fence 4", "m2@v1": "html"}),
    ("q2", "r2", {"m1@v1": "prose", "m2@v1": "range 3"}),
    ("q3", None, {"m1@v1": "float 4", "m2@v1": "missing 4"}),
    ("q4", "r4", {"m1@v1": "e500", "m2@v1": None}),
]


def test_rubric_scores_and_every_malformed_or_failed_answer_is_a_named_failure(settings):
    folder = make_run(settings, MODELS[:2], SINGLE_ROWS)
    with JudgeServer(rubric) as server:
        outcome = judge_run(settings, folder, spec(server, retries=1))
        # Three usable answers at once; six failures asked twice each; m2 on q4 has no answer to judge.
        assert server.requests == 3 + 6 * 2
    assert outcome.models["m1@v1"] == {**dict.fromkeys(DIMENSIONS, 4.5), "failures": 3}
    assert outcome.models["m2@v1"] == {**dict.fromkeys(DIMENSIONS, 2.0), "failures": 3}
    assert (outcome.summary.mode, outcome.summary.judged, outcome.summary.failures) == ("single", 3, 6)
    errors = {(line["sample"], line["model"]): (line["error"], line["attempts"], line["scores"]) for line in lines(folder)}
    assert errors[(1, "m2@v1")] == ("bad_response", 2, {})
    assert errors[(4, "m1@v1")] == ("http_500", 2, {})
    for key in [(2, "m1@v1"), (2, "m2@v1"), (3, "m1@v1"), (3, "m2@v1")]:
        assert errors[key] == ("parse", 2, {}), key  # prose, out of range, 4.5, a missing dimension
    assert errors[(1, "m1@v1")] == (None, 1, dict.fromkeys(DIMENSIONS, 4))  # a ```json fence is fine


def test_a_slow_judge_times_out_and_the_run_goes_on(settings):
    folder = make_run(settings, MODELS[:2], [("q0", "r0", {"m1@v1": "slow 5", "m2@v1": "fast 3"})])
    with JudgeServer(rubric) as server:
        outcome = judge_run(settings, folder, spec(server, timeout_s=1.0, retries=1))
        assert server.requests == 3
    by_model = {line["model"]: line for line in lines(folder)}
    assert (by_model["m1@v1"]["error"], by_model["m1@v1"]["attempts"]) == ("timeout", 2)
    assert by_model["m2@v1"]["scores"] == dict.fromkeys(DIMENSIONS, 3)
    assert outcome.models["m1@v1"]["failures"] == 1 and outcome.models["m1@v1"]["accuracy"] is None


def test_the_key_goes_only_to_its_bound_host_and_never_into_a_file(settings, monkeypatch):
    key = "sk-judge-secret-4242"
    monkeypatch.setenv("JUDGE_KEY", key)
    folder = make_run(settings, MODELS[:2], [("问题", "参考", {"m1@v1": "echo 4", "m2@v1": "e500"})])
    with JudgeServer(rubric) as server:
        bound = dataclasses.replace(settings, restricted=True, key_bindings=f"JUDGE_KEY={server.base_url}")
        outcome = judge_run(bound, folder, spec(server, api_key_env="JUDGE_KEY", lang="zh"))
        assert set(server.auth) == {f"Bearer {key}"} and server.requests == 3
        assert all("[助手的回答]" in prompt and "准确性" in prompt for prompt in server.seen)  # the zh default
        elsewhere = dataclasses.replace(settings, restricted=True, key_bindings="JUDGE_KEY=http://127.0.0.1:9/v1")
        with pytest.raises(PermissionDeniedError) as refused:
            judge_run(elsewhere, folder, spec(server, api_key_env="JUDGE_KEY"))
        assert server.requests == 3 and key not in str(refused.value)
    text = folder.judgements_path.read_text(encoding="utf-8")
    assert key not in text and "you sent Bearer ***" in text and '"http_500"' in text
    assert outcome.models["m1@v1"]["accuracy"] == 4.0
    monkeypatch.delenv("JUDGE_KEY")
    with pytest.raises(InvalidInputError):
        judge_run(settings, folder, JudgeSpec(base_url="http://127.0.0.1:9/v1", model="j", api_key_env="JUDGE_KEY"))


def test_a_bad_template_or_pair_is_refused_before_any_request(settings):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    with JudgeServer(longer_wins) as server:
        for fields in ({"template": "{question} {answr}"}, {"template": "{question} only"},
                       {"template": "{answer!r}"}, {"template": "{answer:>9}"}, {"template": "{} {answer}"},
                       {"template": "unclosed {answer"}, {"dimensions": ["accuracy", "reason"]},
                       {"dimensions": ["a b"]}, {"dimensions": ["x", "x"]},
                       {"mode": "pairwise", "template": "{answer_a} vs {answer}"},
                       {"mode": "pairwise", "template": "{answer_a} only"},
                       {"mode": "pairwise", "pairs": [("m1@v1", "nobody@v1")]},
                       {"mode": "pairwise", "pairs": [("m1@v1", "m1@v1")]}):
            with pytest.raises(InvalidInputError):
                judge_run(settings, folder, spec(server, **fields))
        empty = make_run(settings, ["m1@v1"], [("q", None, {"m1@v1": None})])
        with pytest.raises(InvalidInputError, match="no answers"):
            judge_run(settings, empty, spec(server))
        with pytest.raises(InvalidInputError, match="at least two"):
            judge_run(settings, empty, spec(server, mode="pairwise"))
        assert server.requests == 0


def test_a_custom_template_is_sent_as_written(settings):
    folder = make_run(settings, MODELS[:1], [("q0", None, {"m1@v1": "fine 3"})])
    template = "Q: {question}\nRef: {reference}\n[Assistant's answer]\n{answer}\n\nJSON like {{\"k\": 1}}: {format}"
    with JudgeServer(rubric) as server:
        judge_run(settings, folder, spec(server, template=template, dimensions=["clarity"]))
        (prompt,) = server.seen
    assert prompt == ('Q: q0\nRef: (no reference answer)\n[Assistant\'s answer]\nfine 3\n\nJSON like {"k": 1}: '
                      '{"clarity": <1-5>, "reason": "<one or two sentences on why>"}')


# --- parsing and the audit's arithmetic ---------------------------------------------------------------------

DIMS = ("accuracy", "fluency")


@pytest.mark.parametrize("reply", [
    '{"accuracy": 4, "fluency": 5, "reason": "ok"}',
    '```json\n{"accuracy": 4, "fluency": 5, "reason": "ok"}\n```',
    '  ```\n{"accuracy": 4, "fluency": 5}\n```  ',
])
def test_well_formed_rubric_replies_parse(reply):
    assert parse_scores(reply, DIMS)[0] == {"accuracy": 4, "fluency": 5}


@pytest.mark.parametrize("reply", [
    "", "Great answer: 5/5.", '{"accuracy": 4}', '{"accuracy": 4, "fluency": 6}', '{"accuracy": 0, "fluency": 3}',
    '{"accuracy": 4.0, "fluency": 3}', '{"accuracy": "4", "fluency": 3}', '{"accuracy": true, "fluency": 3}',
    '[{"accuracy": 4, "fluency": 3}]', 'Here you go: {"accuracy": 4, "fluency": 3}',
    'Sure!\n```json\n{"accuracy": 4, "fluency": 3}\n```', '{"accuracy": 4, "fluency": 3, "reason": 7}',
    '{"accuracy": 4, "fluency": 3', '{"accuracy": null, "fluency": 3}',
])
def test_malformed_rubric_replies_are_refused(reply):
    with pytest.raises(Malformed):
        parse_scores(reply, DIMS)


def test_verdicts_parse_strictly():
    assert parse_verdict('{"winner": "A", "reason": "r"}') == ("A", "r")
    assert parse_verdict('```json\n{"winner": "tie"}\n```') == ("tie", "")
    assert parse_verdict('{"winner": "b"}')[0] == "B"
    for reply in ('{"winner": "C"}', '{"winner": 1}', "A is better", '{"reason": "no winner"}'):
        with pytest.raises(Malformed):
            parse_verdict(reply)


def test_the_pair_prompt_puts_the_first_answer_in_slot_a():
    prompter = Prompter.of(JudgeSpec(mode="pairwise", base_url="http://127.0.0.1:9/v1", model="j"))
    prompt = prompter.pair("Q", "R", "first one", "second one")
    assert prompt.index("first one") < prompt.index("second one") and "[Answer A]\nfirst one" in prompt


def test_order_resolution():
    assert [resolve("a", "a"), resolve("b", "b"), resolve("tie", "tie")] == ["a", "b", "tie"]
    assert [resolve("a", "b"), resolve("a", "tie"), resolve(None, "a"), resolve("a", None)] == ["tie", "tie",
                                                                                              None, None]


def test_cohen_kappa_matches_the_textbook_and_sklearn():
    # 50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po = 0.7, pe = 0.5, kappa = 0.4.
    first = ["y"] * 25 + ["n"] * 25
    second = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)
    assert cohen_kappa(["a", "b", "tie"], ["a", "b", "tie"]) == 1.0
    assert cohen_kappa([], []) is None and cohen_kappa(["tie"] * 3, ["tie"] * 3) is None
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(7)
    for _ in range(20):
        x = [rng.choice(("a", "b", "tie")) for _ in range(30)]
        y = [v if rng.random() < 0.6 else rng.choice(("a", "b", "tie")) for v in x]
        assert cohen_kappa(x, y) == pytest.approx(metrics.cohen_kappa_score(x, y))


# --- the CLI ------------------------------------------------------------------------------------------------

def test_cli_judges_a_run_and_merges_into_its_summary(settings, capsys, tmp_path):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    folder.write_summary(RunSummary(run_id=folder.run_id, set="s", samples=4, done=11, total=12, status="partial"))
    with JudgeServer(longer_wins) as server:
        code = main(["eval", "judge", folder.run_id, "--mode", "pairwise", "--judge-url", server.base_url,
                     "--judge-model", "judge", "--json"])
        assert code == 0 and server.requests == PAIR_REQUESTS
    out = json.loads(capsys.readouterr().out)
    assert out["judge"]["position_bias_rate"] == 0.0 and out["new"] == PAIR_REQUESTS
    summary = folder.summary()
    assert summary.judge.judged == PAIR_REQUESTS and summary.models["m1@v1"].win == 2
    assert summary.models["m2@v1"].judge == {"win_rate": 0.5, "failures": 0}
    assert judge_summary(settings, folder, JudgeSpec(mode="pairwise", base_url=server.base_url,
                                                      model="judge")).summary == summary.judge
    template = tmp_path / "judge.txt"
    template.write_text("{question} but no answer", encoding="utf-8")
    code = main(["eval", "judge", folder.run_id, "--judge-url", server.base_url, "--judge-model", "j",
                 "--template", str(template)])
    assert code == 2 and "{answer}" in capsys.readouterr().err


def test_a_judge_nobody_serves_stops_the_run_after_three_lost_items(settings):
    folder = make_run(settings, MODELS, PAIR_ROWS)
    with pytest.raises(BackendError, match="Cannot reach"):
        judge_run(settings, folder, JudgeSpec(base_url=f"http://127.0.0.1:{free_port()}/v1", model="j", retries=0,
                                              concurrency=1))
    assert len(lines(folder)) == 2  # the first two lost items; the third stops the run, the rest are never sent
