"""Data › Instruction data (rules or an LLM endpoint, streamed, stoppable) and Data › Mock preference data."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import gradio as gr

from ...errors import LLMOpsError
from ...i18n import t
from ...services.container import Services
from ...security.credentials import credential_choices
from ...services.datagen import (
    PRESET,
    EmptyGeneration,
    Endpoint,
    GenResult,
    LLMGenOptions,
    generate_llm,
    generate_rules,
    mock_prefs,
    preset_sources,
)
from ..choices import pt_choices, sft_choices
from ..common import cli, guard, require_name, token, validated
from ..components import Picker
from ..i18n import Labels, user_error

MODES = ("rules", "llm")
PREVIEW_COLUMNS = ["instruction", "input", "output", "lang", "kind"]
PREVIEW_ROWS = 20


def preview_rows(pairs: list[dict]) -> dict:
    """The first pairs as a table."""
    return {"headers": PREVIEW_COLUMNS,
            "data": [[str(p.get(c, "")) for c in PREVIEW_COLUMNS] for p in pairs[:PREVIEW_ROWS]]}


def gen_command(corpus: str, mode: str, seed: int, base_url: str, model: str, key_env: str, key_typed: bool,
                options: LLMGenOptions | None, count: int | None = None) -> str:
    """The CLI run of the same generation; a typed key is never shown, only where the CLI reads one from."""
    if mode == "rules":
        extra = ["--count", count] if count else []
        return cli("data", "sft-gen", "--corpus", corpus, "--mode", "rules", "--seed", seed, *extra)
    args = ["data", "sft-gen", "--corpus", corpus, "--mode", "llm", "--base-url", base_url, "--model", model,
            "--pairs-per-chunk", options.pairs_per_chunk, "--concurrency", options.max_workers]
    if options.max_chunks:
        args += ["--max-chunks", options.max_chunks]
    if key_env or key_typed:
        args += ["--api-key-env", key_env or "API_KEY_VAR"]
    return cli(*args)


def summary(result: GenResult, lang: str) -> str:
    """What was written and registered (and whether the run was stopped early)."""
    lines = [t("gen.sft_done", lang, pairs=len(result.pairs), path=result.path, name=result.dataset_name)]
    if result.stats.get("stopped"):
        lines.append(t("gen.llm_stopped", lang, pairs=len(result.pairs)))
    return "\n\n".join(lines)


def _endpoint(base_url: str, model: str, api_key: str, key_env: str, settings) -> Endpoint:
    """A typed key wins over an environment variable name; neither means a keyless local server."""
    if (api_key or "").strip():
        return Endpoint(base_url or "", model or "", api_key.strip())
    return Endpoint.from_env(base_url or "", model or "", (key_env or "").strip() or None, settings)


def _run_llm(services: Services, corpus: str, endpoint: Endpoint, options: LLMGenOptions,
             stop: threading.Event) -> Iterator[tuple]:
    """Generate in a worker thread, yielding its progress counts; returns the GenResult (or raises its error)."""
    updates: queue.Queue = queue.Queue()
    box: dict = {}

    def work() -> None:
        try:
            box["result"] = generate_llm(services.settings, corpus, endpoint, options, stop_event=stop,
                                         progress=lambda *counts: updates.put(counts))
        except Exception as exc:  # noqa: BLE001 - handed back to the handler, which re-raises it
            box["error"] = exc

    worker = threading.Thread(target=work, name="data-gen-llm", daemon=True)
    worker.start()
    while worker.is_alive() or not updates.empty():
        try:
            yield updates.get(timeout=0.3)
        except queue.Empty:
            continue
    if "error" in box:
        raise box["error"]
    return box["result"]


def _corpus_path(services: Services, corpus: str) -> str:
    return str(preset_sources(services.settings)[0]) if corpus == PRESET else corpus


class _GenHandlers:
    """Generate and Stop; a running generation's stop event is kept per browser session, never the key."""

    def __init__(self, services: Services):
        self.services = services
        self.stops: dict[str, threading.Event] = {}

    def generate(self, corpus_value, mode_value, seed_value, url, model_name, key, env, per_chunk, concurrency, limit,
                 count_value, lang_now, request: gr.Request):
        # The API key goes straight from the input to the Endpoint; it is never stored, logged or echoed.
        corpus_value = require_name(corpus_value, lang_now)
        path = _corpus_path(self.services, corpus_value)
        if mode_value != "llm":
            seed_n, count_n = int(seed_value or 0), int(count_value or 0) or None
            command = gen_command(corpus_value, "rules", seed_n, "", "", "", False, None, count_n)
            result = yield from self._rules(path, {"seed": seed_n, "count": count_n}, command, lang_now)
            yield self._done(result, command, lang_now)
            return
        with guard(lang_now):
            endpoint = _endpoint(url, model_name, key, env, self.services.settings)
            options = validated(LLMGenOptions, {"pairs_per_chunk": int(per_chunk or 0),
                                                "max_workers": int(concurrency or 0), "max_chunks": int(limit or 0) or None})
        command = gen_command(corpus_value, "llm", 0, endpoint.base_url, endpoint.model, (env or "").strip(),
                              bool((key or "").strip()), options)
        stop = self.stops[request.session_hash] = threading.Event()
        try:
            result = yield from self._stream(path, endpoint, options, stop, command, lang_now)
        finally:
            stop.set()  # a closed page ends the run too; the pairs made so far are still kept
            if self.stops.get(request.session_hash) is stop:
                del self.stops[request.session_hash]
        yield self._done(result, command, lang_now)

    def _rules(self, path, options, command, lang_now):
        """Rule-based pairs; the counts of an empty run are shown before its error."""
        try:
            return generate_rules(self.services.settings, path, options)
        except EmptyGeneration as exc:
            yield gr.update(), exc.result.stats, gr.update(), command, gr.update()
            raise user_error(exc, lang_now) from exc
        except LLMOpsError as exc:
            raise user_error(exc, lang_now) from exc

    def _stream(self, path, endpoint, options, stop, command, lang_now):
        """Progress lines while the worker runs; the counts of an empty run are shown before its error."""
        runner = _run_llm(self.services, path, endpoint, options, stop)
        while True:
            try:
                done, total, ok, malformed, failed = next(runner)
            except StopIteration as finished:
                return finished.value
            except EmptyGeneration as exc:
                yield gr.update(), exc.result.stats, gr.update(), command, gr.update()
                raise user_error(exc, lang_now) from exc
            except LLMOpsError as exc:
                raise user_error(exc, lang_now) from exc
            text = t("gen.llm_progress", lang_now, done=done, total=total, ok=ok, malformed=malformed, failed=failed)
            yield text, gr.update(), gr.update(), command, gr.update()

    @staticmethod
    def _done(result: GenResult, command: str, lang_now: str) -> tuple:
        return (summary(result, lang_now), result.stats, preview_rows(result.pairs), command,
                token(result.dataset_name))

    def stop(self, lang_now, request: gr.Request):
        event = self.stops.get(request.session_hash)
        if event is None:
            return t("ui.data.gen.not_running", lang_now)
        event.set()
        return t("ui.data.gen.stopping", lang_now)


def _llm_fields(labels: Labels, settings) -> list:
    lang = labels.lang
    with labels(gr.Accordion(t("ui.data.gen.llm", lang), open=True), "ui.data.gen.llm"):
        with gr.Row():
            base_url = labels(gr.Textbox(placeholder="http://127.0.0.1:8000/v1", label=t("ui.data.gen.base_url", lang)),
                              "ui.data.gen.base_url")
            model = labels(gr.Textbox(label=t("ui.data.gen.model", lang)), "ui.data.gen.model")
            api_key = labels(gr.Textbox(type="password", label=t("ui.data.gen.api_key", lang)),
                             "ui.data.gen.api_key", "ui.data.gen.api_key.info")
            key_env = labels(gr.Dropdown([("—", ""), *credential_choices(settings)], value="",
                                         label=t("ui.data.gen.key_env", lang)), "ui.data.gen.key_env", "gen.api_key_note")
        with gr.Row():
            pairs = labels(gr.Number(value=3, precision=0, label=t("ui.data.gen.pairs", lang)), "ui.data.gen.pairs")
            workers = labels(gr.Number(value=4, precision=0, label=t("ui.data.gen.concurrency", lang)),
                             "ui.data.gen.concurrency")
            max_chunks = labels(gr.Number(value=0, precision=0, label=t("ui.data.gen.max_chunks", lang)),
                                "ui.data.gen.max_chunks", "ui.data.gen.max_chunks.info")
    return [base_url, model, api_key, key_env, pairs, workers, max_chunks]


def build_instructions(services: Services, labels: Labels, lang_state: gr.State, changed: gr.Textbox) -> gr.Dropdown:
    """Draw the instruction-data sub-tab; returns the corpus picker (refreshed when datasets change)."""
    lang = labels.lang
    choices = pt_choices(services)
    with gr.Row():
        corpus = labels(Picker(choices, value=choices[-1], scale=3,
                                    label=t("ui.data.gen.corpus", lang)), "ui.data.gen.corpus", "ui.data.gen.corpus.info")
        mode = labels(gr.Radio(list(MODES), value="rules", label=t("ui.data.gen.mode", lang), scale=1),
                      "ui.data.gen.mode", "ui.data.gen.mode.info")
        seed = labels(gr.Number(value=0, precision=0, minimum=0, label=t("ui.data.gen.seed", lang), scale=1),
                      "ui.data.gen.seed")
        count = labels(gr.Number(value=0, precision=0, minimum=0, label=t("ui.data.gen.count", lang), scale=1),
                       "ui.data.gen.count", "ui.data.gen.count.info")
    llm_inputs = _llm_fields(labels, services.settings)
    with gr.Row():
        generate_btn = labels(gr.Button(t("ui.data.gen.generate", lang), variant="primary"), "ui.data.gen.generate",
                              attr="value")
        stop_btn = labels(gr.Button(t("gen.stop", lang), variant="stop"), "gen.stop", attr="value")
    status = gr.Markdown()
    with gr.Row():
        stats = labels(gr.JSON(label=t("ui.data.gen.stats", lang)), "ui.data.gen.stats")
        preview = labels(gr.Dataframe(headers=PREVIEW_COLUMNS, interactive=False, wrap=True, scale=3,
                                      label=t("ui.data.gen.preview", lang)), "ui.data.gen.preview")
    command_box = labels(gr.Textbox(label=t("ui.data.command", lang), interactive=False, show_copy_button=True),
                         "ui.data.command")
    h = _GenHandlers(services)
    generate_btn.click(h.generate, [corpus, mode, seed, *llm_inputs, count, lang_state],
                       [status, stats, preview, command_box, changed], api_name="data_generate")
    stop_btn.click(h.stop, [lang_state], [status], api_name="data_gen_stop", queue=False)
    return corpus


def build_mock(services: Services, labels: Labels, lang_state: gr.State) -> gr.Dropdown:
    """Draw the mock-preference sub-tab; returns the SFT picker (refreshed when datasets change)."""
    lang = labels.lang
    labels(gr.Markdown(t("ui.data.mock.intro", lang)), "ui.data.mock.intro", attr="value")
    choices = sft_choices(services)
    with gr.Row():
        sft = labels(Picker(choices, value=choices[0] if choices else None, scale=3,
                                 label=t("ui.data.mock.sft", lang)), "ui.data.mock.sft")
        limit = labels(gr.Number(value=0, precision=0, minimum=0, label=t("ui.data.mock.limit", lang)),
                       "ui.data.mock.limit", "ui.data.mock.limit.info")
        seed = labels(gr.Number(value=0, precision=0, minimum=0, label=t("ui.data.gen.seed", lang)), "ui.data.gen.seed")
    run = labels(gr.Button(t("ui.data.mock.run", lang), variant="primary"), "ui.data.mock.run", attr="value")
    result = gr.Markdown()
    count = labels(gr.Number(value=None, precision=0, interactive=False, label=t("ui.data.mock.count", lang)), "ui.data.mock.count")
    command_box = labels(gr.Textbox(label=t("ui.data.command", lang), interactive=False, show_copy_button=True),
                         "ui.data.command")

    def create(name, limit_value, seed_value, lang_now):
        name = require_name(name, lang_now)
        limit_n, seed_n = int(limit_value or 0) or None, int(seed_value or 0)
        with guard(lang_now):
            made = mock_prefs(services.settings, name, limit=limit_n, seed=seed_n, store=services.prefs)
        kinds = ", ".join(f"{t(f'gen.degrade.{k}', lang_now)}: {v}" for k, v in sorted(made.by_kind.items()))
        text = t("gen.mock_done", lang_now, count=made.count, path=made.prefs_path, session=made.session)
        args = ["data", "mock-prefs", "--sft", name, "--seed", seed_n] + (["--limit", limit_n] if limit_n else [])
        return f"{text}\n\n{kinds}", made.count, cli(*args)

    run.click(create, [sft, limit, seed, lang_state], [result, count, command_box], api_name="data_mock_prefs")
    return sft
