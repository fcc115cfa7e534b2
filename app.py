"""Start the LLMOps studio: python app.py [--host H] [--port P] [--home DIR] [--lang zh|en]."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="LLMOps studio: data, training, A/B and the DPO loop.")
    parser.add_argument("--host", default=os.environ.get("LLMOPS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LLMOPS_PORT", "7860")))
    parser.add_argument("--home", help="workspace folder (default: this folder; env LLMOPS_HOME)")
    parser.add_argument("--lang", choices=("en", "zh"), help="interface language (env LLMOPS_LANG)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.home:
        os.environ["LLMOPS_HOME"] = str(Path(args.home).expanduser().resolve())
    from llmops.services.container import build_services
    from llmops.settings import Settings
    from llmops.ui.app import build_app

    settings = Settings.from_env(host=args.host, port=args.port, lang=args.lang)
    services = build_services(settings)
    # Finished jobs take effect here, whether or not any page is open.
    services.reconciler.start()
    demo = build_app(services)
    # Events run concurrently; long work happens in runner jobs, never in a request.
    demo.queue(default_concurrency_limit=None).launch(server_name=settings.host, server_port=settings.port,
                                                      show_api=True, show_error=True,
                                                      inbrowser=False)


if __name__ == "__main__":
    main()
