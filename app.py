"""Start the LLMOps studio: python app.py [--host H] [--port P] [--home DIR] [--lang zh|en]."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="LLMOps studio: data, training, A/B and the DPO loop.",
                                     epilog="Serving beyond 127.0.0.1 needs a login: python -m llmops users add NAME.")
    parser.add_argument("--host", default=os.environ.get("LLMOPS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LLMOPS_PORT", "7860")))
    parser.add_argument("--home", help="workspace folder (default: this folder; env LLMOPS_HOME)")
    parser.add_argument("--lang", choices=("en", "zh"), help="interface language (env LLMOPS_LANG)")
    parser.add_argument("--demo", action="store_true",
                        help="open a separate demo workspace (env LLMOPS_DEMO_HOME) filled by running the shipped "
                             "demo pipeline on the tiny model")
    return parser.parse_args(argv)


def asgi_app(demo, settings, auth):
    """Gradio mounted on a bare FastAPI app, wrapped by the security guard (outermost, so nothing can bypass it)."""
    import gradio as gr
    from fastapi import FastAPI

    from llmops.security.middleware import Policy, SecurityMiddleware

    cap = int(settings.max_upload_mb * 2**20)
    outer = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    gr.mount_gradio_app(outer, demo, path="/", server_name=settings.host, server_port=settings.port, show_api=True,
                        show_error=True, auth=auth, max_file_size=cap)
    # Gradio checks that files named in an API call were uploaded only once a Blocks "has launched", which
    # mount_gradio_app never records; without this a caller could have any file under /tmp or the working
    # folder copied into the upload cache and handed to a handler.
    demo.has_launched = True
    bound = () if settings.host in ("0.0.0.0", "::", "") else (settings.host.lower(),)
    policy = Policy(allowed_hosts=frozenset((*settings.allowed_hosts, *bound)),
                    allowed_origins=frozenset(settings.allowed_origins), max_upload_bytes=cap,
                    limiter=auth.limiter if auth else None, lang=settings.lang)
    return SecurityMiddleware(outer, policy)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.home:
        os.environ["LLMOPS_HOME"] = str(Path(args.home).expanduser().resolve())
    if args.demo:
        from llmops.settings import demo_workspace

        os.environ["LLMOPS_HOME"] = str(demo_workspace())  # the normal workspace is never touched
    from llmops.errors import LLMOpsError
    from llmops.i18n import t
    from llmops.security.auth import Authenticator, UserStore, is_loopback_host
    from llmops.security.credentials import bindings
    from llmops.settings import Settings

    # Requests come from the network here: paths are held to the allowed roots and keys to their bound hosts,
    # for every Settings built in this process (the backends build their own).
    os.environ["LLMOPS_RESTRICTED"] = "1"
    settings = Settings.from_env(host=args.host, port=args.port, lang=args.lang)
    users = UserStore(settings)
    try:
        bindings(settings)  # a malformed binding stops the start, instead of surfacing in some later request
        known = users.users()
    except LLMOpsError as exc:
        print(exc.message(settings.lang), file=sys.stderr)
        sys.exit(2)
    auth = None
    if not is_loopback_host(settings.host):
        if not known:
            print(t("err.sec_login_required", settings.lang, host=settings.host, path=users.path), file=sys.stderr)
            sys.exit(2)
        auth = Authenticator(users)

    import uvicorn

    from llmops.services.container import build_services
    from llmops.ui.app import build_app

    services = build_services(settings)
    # Finished jobs take effect here, whether or not any page is open.
    services.reconciler.start()
    if args.demo:
        # Every number the demo shows comes from this run; the background pass drives it, once per workspace.
        services.pipelines.ensure_run("demo")
    demo = build_app(services)
    # Events run concurrently; long work happens in runner jobs, never in a request.
    demo.queue(default_concurrency_limit=None)
    uvicorn.run(asgi_app(demo, settings, auth), host=settings.host, port=settings.port, log_level="warning",
                # Open event streams (a browser tab, a scripted client) must not hold a stop for long.
                server_header=False, timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
