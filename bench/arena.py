"""Vote latency through the API: N gradio_client sessions generate and vote; prints p50/p99 per call type."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradio_client import Client  # noqa: E402

from llmops.services import demo_model  # noqa: E402
from llmops.services.models import ModelRegistry  # noqa: E402
from llmops.settings import Settings  # noqa: E402
from tests.apphelpers import AppProcess  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(sessions: int = 8, votes: int = 25) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = Settings(home=home)
        settings.ensure_dirs()
        model = demo_model.build(home / "models" / "demo", [settings.sample_docs_dir, settings.sample_datasets_dir])
        registry = ModelRegistry(settings)
        registry.add_base("demo", str(model), template="chatml")
        registry.add_base("demo-copy", str(model), template="chatml")
        app = AppProcess(home).start()
        generate_ms, vote_ms = [], []

        def session(k: int) -> None:
            client = Client(app.url, verbose=False)
            for i in range(votes):
                start = time.perf_counter()
                client.predict(f"prompt {k}-{i}", "", 0.0, 0.9, 8, "random", "random", api_name="/ab_generate")
                generate_ms.append(1000 * (time.perf_counter() - start))
                start = time.perf_counter()
                client.predict("left", "", api_name="/vote")
                vote_ms.append(1000 * (time.perf_counter() - start))

        try:
            wall = time.perf_counter()
            with ThreadPoolExecutor(sessions) as pool:
                list(pool.map(session, range(sessions)))
            wall = time.perf_counter() - wall
        finally:
            app.stop()
    for name, values in (("generate (2 local answers, 8 tokens)", generate_ms), ("vote (append+fsync)", vote_ms)):
        print(f"{name:40} n={len(values)} p50={percentile(values, 0.5):7.1f} ms  p99={percentile(values, 0.99):7.1f} ms"
              f"  mean={statistics.mean(values):7.1f} ms")
    print(f"{sessions} sessions x {votes} votes in {wall:.1f}s ({sessions * votes / wall:.1f} votes/s)")


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:3]))
