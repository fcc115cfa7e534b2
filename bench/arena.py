"""Arena numbers: pair latency against one answer, and vote latency while 8 other sessions generate.

python bench/arena.py [votes] [generating_sessions] [pair_tokens]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from gradio_client import Client  # noqa: E402

from llmops.backends import LocalBackend, LocalModelCache  # noqa: E402
from llmops.schemas.models import SamplingParams  # noqa: E402
from llmops.services import demo_model  # noqa: E402
from llmops.services.arena import ArenaService  # noqa: E402
from llmops.services.models import ModelRegistry  # noqa: E402
from llmops.services.prefs import PrefsStore  # noqa: E402
from llmops.settings import Settings  # noqa: E402
from tests.apphelpers import AppProcess  # noqa: E402

PROMPT = "What does LoRA train?"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def line(name: str, values: list[float]) -> str:
    return (f"{name:52} n={len(values):3} p50={percentile(values, 0.5):7.1f} ms  p99={percentile(values, 0.99):7.1f} ms"
            f"  mean={statistics.mean(values):7.1f} ms")


def pair_vs_single(settings: Settings, registry: ModelRegistry, tokens: int, repeats: int = 12) -> None:
    """One arena round (both sides) against one answer of the same model and prompt, interleaved in one run."""
    cache = LocalModelCache(1)
    arena = ArenaService(registry, cache, PrefsStore(settings.prefs_path))
    params = SamplingParams(temperature=0, max_new_tokens=tokens)
    single = LocalBackend(cache, registry.get("demo@v1.0").path)
    messages = [{"role": "user", "content": PROMPT}]
    single.generate(messages, params)  # load and warm up
    wall: dict[str, list[float]] = {"one": [], "pair": []}
    cpu: dict[str, list[float]] = {"one": [], "pair": []}

    def timed(name: str, call) -> None:
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall[name].append(1000 * (time.perf_counter() - start))
        cpu[name].append(1000 * (time.process_time() - start_cpu))  # every thread of this process, 2 shared cores

    steps = {"one": lambda: single.generate(messages, params),
             "pair": lambda: arena.run(arena.start_round("bench", PROMPT, "", params, "demo@v1.0", "demo-copy@v1.0"))}
    for i in range(repeats):
        for name in (("one", "pair") if i % 2 else ("pair", "one")):  # alternate, so neither always runs first
            timed(name, steps[name])
    print(line(f"one answer ({tokens} tokens, greedy), wall", wall["one"]))
    print(line(f"A/B pair, both sides ({tokens} tokens each), wall", wall["pair"]))
    print(line("one answer, CPU time", cpu["one"]))
    print(line("A/B pair, CPU time", cpu["pair"]))
    for kind, values in (("wall", wall), ("CPU", cpu)):
        ratio = statistics.median(values["pair"]) / statistics.median(values["one"])
        print(f"pair / one answer ({kind}, medians) = {ratio:.2f}  (target <= 1.2)")


def votes_under_load(home: Path, votes: int, sessions: int) -> None:
    """A voter's vote latency while `sessions` other clients generate without pause."""
    app = AppProcess(home).start()
    stop = threading.Event()

    def generate_forever(k: int) -> None:
        client = Client(app.url, verbose=False)
        while not stop.is_set():
            client.predict(f"busy {k}", "", 0.7, 0.9, 64, "random", "random", api_name="/ab_generate")

    busy = [threading.Thread(target=generate_forever, args=(k,), daemon=True) for k in range(sessions)]
    try:
        for thread in busy:
            thread.start()
        voter = Client(app.url, verbose=False)
        time.sleep(3)  # every busy session is generating
        queued, direct, floor = [], [], []
        with httpx.Client() as http:
            for i in range(votes):
                voter.predict(f"vote {i}", "", 0.0, 0.9, 4, "random", "random", api_name="/ab_generate")
                start = time.perf_counter()
                if i % 2:
                    voter.predict("left", "", api_name="/vote")
                    queued.append(1000 * (time.perf_counter() - start))
                else:
                    # The queue-skipping call a browser makes for a queue=False event, in the voter's own session.
                    response = http.post(f"{app.url}gradio_api/run/vote", timeout=30,
                                         json={"data": ["left", "", None, None], "session_hash": voter.session_hash})
                    direct.append(1000 * (time.perf_counter() - start))
                    assert response.status_code == 200 and "saved" in response.json()["data"][0], response.text
                start = time.perf_counter()
                try:
                    voter.predict(None, api_name="/ab_next_prompt")
                except Exception:  # noqa: BLE001 - no dataset picked: the cheapest refusal there is
                    pass
                floor.append(1000 * (time.perf_counter() - start))
    finally:
        stop.set()
        for thread in busy:
            thread.join(120)
        app.stop()
    print(f"while {sessions} other sessions generate:")
    print(line("vote, queue skipped (as the browser sends it)", direct))
    print(line("vote via gradio_client (queue protocol)", queued))
    print(line("trivial call via gradio_client (its floor)", floor))


def main(votes: int = 40, sessions: int = 8, tokens: int = 64) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings(home=home)
        settings.ensure_dirs()
        model = demo_model.build(home / "models" / "demo", [settings.sample_docs_dir, settings.sample_datasets_dir])
        registry = ModelRegistry(settings)
        registry.add_base("demo", str(model), template="chatml")
        registry.add_base("demo-copy", str(model), template="chatml")
        pair_vs_single(settings, registry, tokens)
        votes_under_load(home, votes, sessions)


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:4]))
