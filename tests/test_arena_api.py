"""16 concurrent gradio_client sessions vote 50 times each through the real app: 800 lines, none lost or mixed."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client

from llmops.services.models import ModelRegistry

from .apphelpers import AppProcess

SESSIONS, VOTES = 16, 50
CHOICES = ("left", "right", "tie", "both_bad")


def test_concurrent_sessions_keep_their_own_pairs(settings, demo_model_dir, lf_api):
    registry = ModelRegistry(settings)
    registry.add_base("demo", str(demo_model_dir), template="chatml")
    registry.add_endpoint("tiny-api", lf_api.base_url, "tiny")
    app = AppProcess(settings.home).start()
    try:
        def session(k: int) -> list[tuple[str, str, str, str]]:
            client = Client(app.url, verbose=False)
            seen = []
            for i in range(VOTES):
                prompt = f"session {k} prompt {i} 你好"
                client.predict(prompt, "", 0.0, 0.9, 3, "random", "random", api_name="/ab_generate")
                choice = CHOICES[(k + i) % 4]
                _, left_model, right_model = client.predict(choice, "", api_name="/vote")
                seen.append((prompt, choice, left_model, right_model))
            # A vote for a round this session was never shown is refused.
            other = Client(app.url, verbose=False)
            try:
                other.predict("left", "", api_name="/vote")
                raise AssertionError("a vote without a shown pair was accepted")
            except Exception as exc:  # noqa: BLE001 - gradio_client raises AppError
                assert "generate answers before voting" in str(exc)
            return seen

        with ThreadPoolExecutor(SESSIONS) as pool:
            results = list(pool.map(session, range(SESSIONS)))
    finally:
        app.stop()
    lines = settings.prefs_path.read_text(encoding="utf-8").splitlines()
    votes = [json.loads(line) for line in lines]
    assert len(votes) == SESSIONS * VOTES
    assert len({v["vote_id"] for v in votes}) == len(votes)
    by_prompt = {v["prompt"]: v for v in votes}
    for seen in results:
        sessions = set()
        for prompt, choice, left_model, right_model in seen:
            vote = by_prompt[prompt]
            shown_left = vote["model_a"] if vote["left"] == "a" else vote["model_b"]
            shown_right = vote["model_b"] if vote["left"] == "a" else vote["model_a"]
            assert (shown_left, shown_right) == (left_model, right_model)
            expected = {"left": vote["left"], "right": "b" if vote["left"] == "a" else "a"}.get(choice, choice)
            assert vote["winner"] == expected and vote["source"] == "human"
            sessions.add(vote["session"])
        assert len(sessions) == 1, "one client's votes carry one session"
    assert "你好" in lines[0], "Chinese is stored as text"
