"""Pipeline wall times on this machine: a shipped pipeline run end to end in a fresh temporary workspace.

python bench/pipelines.py [demo|rlhf|online_round]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmops.services.container import build_services  # noqa: E402
from llmops.settings import Settings  # noqa: E402


def main(name: str = "demo") -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["LLMOPS_HOME"] = home  # the jobs' workers read their workspace from the environment
        settings = Settings.from_env(lang="en")
        settings.ensure_dirs()
        services = build_services(settings)
        started = time.monotonic()
        state = services.pipelines.start_file(name)
        while state.status == "running":
            time.sleep(0.5)
            services.reconciler.run_once()  # what the app's background pass does every 2 s
            state = services.pipelines.show(state.run_id)
        print(f"{name}: {state.status} in {time.monotonic() - started:.1f} s, {len(services.runner.list())} jobs")
        for stage_id in state.order:
            stage = state.stages[stage_id]
            print(f"  {stage_id:10} {stage.kind:12} {stage.status:9} {stage.duration_s or 0:6.1f} s  "
                  f"{services.pipelines.reason(stage)}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
