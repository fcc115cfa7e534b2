"""Data › Instruction data (rules or an LLM endpoint, streamed, stoppable) and Data › Mock preference data."""

from __future__ import annotations

import gradio as gr

from ...errors import InvalidInputError
from ...i18n import t
from ...i18n.options import option_keys
from ...services.container import Services
from ...services.datagen import (
    Endpoint,
    GenResult,
    LLMGenOptions,
)
from ...services.datagen.mockprefs import resolve_sft
from ...services.jobkinds.data import TYPED_KEY_VAR
from ..choices import pt_choices, sft_choices
from ..common import cli, require_name, token, validated
from ..components import Picker
from ..i18n import Labels
from ..widgets.jobs_panel import follow, job_widget, outcome

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


def _endpoint(base_url: str, model: str, api_key: str, key_env: str, settings) -> Endpoint:
    """A typed key wins over an environment variable name; neither means a keyless local server."""
    if (api_key or "").strip():
        return Endpoint(base_url or "", model or "", api_key.strip())
    return Endpoint.from_env(base_url or "", model or "", (key_env or "").strip() or None, settings)


def _progress_text(details, lang: str) -> str:
    """An LLM run's counts, or a rules run's stage, as the worker last wrote them."""
    work = details.work
    if work.stage == "llm":
        counts = work.counts
        return t("gen.llm_progress", lang, done=work.done, total=work.total, ok=counts.get("ok", 0),
                 malformed=counts.get("malformed", 0), failed=counts.get("failed", 0))
    return job_line_text(details, lang)


def job_line_text(details, lang: str) -> str:
    return t("jobs.status_line", lang, job_id=details.job.id, kind=t(f"jobs.kind.{details.job.kind}", lang),
             status=details.job.status.value)


class _GenHandlers:
    """Generate (a datagen job the call follows) and Stop (of the job this browser session started)."""

    def __init__(self, services: Services):
        self.services = services

    def generate(self, corpus_value, mode_value, seed_value, url, model_name, key, env, per_chunk, concurrency, limit,
                 count_value, lang_now):
        corpus_value = require_name(corpus_value, lang_now)
        if mode_value != "llm":
            seed_n, count_n = int(seed_value or 0), int(count_value or 0) or None
            params = {"corpus": corpus_value, "mode": "rules", "rules": {"seed": seed_n, "count": count_n}}
            secrets: dict = {}
            command = gen_command(corpus_value, "rules", seed_n, "", "", "", False, None, count_n)
        else:
            params, secrets, command = self._llm_job(corpus_value, url, model_name, key, env, per_chunk, concurrency,
                                                     limit, lang_now)
        job = self.services.jobs.submit("datagen", params, f"sft-gen {params['mode']} {corpus_value}", **secrets)
        result = yield from self._follow(job.id, command, lang_now)
        yield self._done(result, command, lang_now, job.id)

    def _llm_job(self, corpus_value, url, model_name, key, env, per_chunk, concurrency, limit, lang_now):
        """Parameters, secrets and CLI echo of an LLM job; the endpoint and options are checked before it is queued."""
        endpoint = _endpoint(url, model_name, key, env, self.services.settings)
        options = validated(LLMGenOptions, {"pairs_per_chunk": int(per_chunk or 0),
                                            "max_workers": int(concurrency or 0),
                                            "max_chunks": int(limit or 0) or None})
        typed = bool((key or "").strip())
        command = gen_command(corpus_value, "llm", 0, endpoint.base_url, endpoint.model, (env or "").strip(), typed,
                              options)
        params = {"corpus": corpus_value, "mode": "llm", "base_url": endpoint.base_url, "model": endpoint.model,
                  "llm": options.model_dump(), "key_env": None if typed else endpoint.key_env, "typed_key": typed}
        # A typed key reaches the job only through its process environment; it is never stored, logged or echoed.
        secrets = ({"secret_values": {TYPED_KEY_VAR: key.strip()}} if typed else
                   {"secret_env": (endpoint.key_env,)} if endpoint.key_env else {})
        return params, secrets, command

    def _follow(self, job_id, command, lang_now):
        """Progress lines while the job runs; an empty run's counts are shown before its error."""
        skip = gr.skip()
        job = yield from follow(self.services, job_id, lambda details: (
            _progress_text(details, lang_now), skip, skip, command, skip, job_id))
        recorded = self.services.jobs.recorded_error(job) or {}
        if recorded.get("stats"):
            yield skip, recorded["stats"], skip, command, skip, job_id
        return outcome(self.services, job, lang_now)

    @staticmethod
    def _done(result: dict, command: str, lang_now: str, job_id: str) -> tuple:
        made = GenResult(result["path"], result["dataset_name"], result["preview"], result["stats"])
        lines = [t("gen.sft_done", lang_now, pairs=result["pairs"], path=made.path, name=made.dataset_name)]
        if made.stats.get("stopped"):
            lines.append(t("gen.llm_stopped", lang_now, pairs=result["pairs"]))
        return ("\n\n".join(lines), made.stats, preview_rows(made.pairs), command, token(made.dataset_name),
                job_id)

    def stop(self, lang_now, job_id):
        if not job_id or self.services.jobs.get(job_id).status.finished:
            return t("ui.data.gen.not_running", lang_now)
        self.services.jobs.stop(job_id)
        return t("ui.data.gen.stopping", lang_now)


def _llm_fields(labels: Labels, key_choices: list[tuple[str, str]]) -> list:
    with labels.make(gr.Accordion, "ui.data.gen.llm", open=True):
        with gr.Row():
            base_url = labels.make(gr.Textbox, "ui.data.gen.base_url", placeholder="http://127.0.0.1:8000/v1")
            model = labels.make(gr.Textbox, "ui.data.gen.model")
            api_key = labels.make(gr.Textbox, "ui.data.gen.api_key", info="ui.data.gen.api_key.info", type="password")
            key_env = labels.make(gr.Dropdown, "ui.data.gen.key_env", [("—", ""), *key_choices],
                                  info="gen.api_key_note", value="")
        with gr.Row():
            pairs = labels.make(gr.Number, "ui.data.gen.pairs", value=3, precision=0)
            workers = labels.make(gr.Number, "ui.data.gen.concurrency", value=4, precision=0)
            max_chunks = labels.make(gr.Number, "ui.data.gen.max_chunks", info="ui.data.gen.max_chunks.info", value=0,
                                     precision=0)
    return [base_url, model, api_key, key_env, pairs, workers, max_chunks]


def build_instructions(services: Services, labels: Labels, lang_state: gr.State, changed: gr.Textbox) -> gr.Dropdown:
    """Draw the instruction-data sub-tab; returns the corpus picker (refreshed when datasets change)."""
    choices = pt_choices(services)
    with gr.Row():
        corpus = labels.make(Picker, "ui.data.gen.corpus", choices, info="ui.data.gen.corpus.info", value=choices[-1],
                             scale=3)
        mode = labels.make(gr.Radio, "ui.data.gen.mode", choices=option_keys("gen_mode", MODES), value="rules",
                           scale=1, info="ui.data.gen.mode.info")
        seed = labels.make(gr.Number, "ui.data.gen.seed", value=0, precision=0, minimum=0, scale=1)
        count = labels.make(gr.Number, "ui.data.gen.count", info="ui.data.gen.count.info", value=0, precision=0,
                            minimum=0, scale=1)
    llm_inputs = _llm_fields(labels, services.credential_choices())
    with gr.Row():
        generate_btn = labels.make(gr.Button, "ui.data.gen.generate", variant="primary", attr="value")
        stop_btn = labels.make(gr.Button, "gen.stop", variant="stop", attr="value")
    status = gr.Markdown()
    with gr.Row():
        stats = labels.make(gr.JSON, "ui.data.gen.stats")
        # The columns are the dataset's own fields (alpaca): data, shown as they are.
        preview = labels.make(gr.Dataframe, "ui.data.gen.preview", value=preview_rows([]), interactive=False,
                              wrap=True, scale=3, elem_classes=["data-grid"])
    command_box = labels.make(gr.Textbox, "ui.data.command", interactive=False, show_copy_button=True)
    job_box = job_widget(services, labels, lang_state, "data_gen")
    h = _GenHandlers(services)
    generate_btn.click(h.generate, [corpus, mode, seed, *llm_inputs, count, lang_state],
                       [status, stats, preview, command_box, changed, job_box.job], api_name="data_generate")
    stop_btn.click(h.stop, [lang_state, job_box.job], [status], api_name="data_gen_stop", queue=False)
    return corpus


def build_mock(services: Services, labels: Labels, lang_state: gr.State) -> gr.Dropdown:
    """Draw the mock-preference sub-tab; returns the SFT picker (refreshed when datasets change)."""
    labels.make(gr.Markdown, "ui.data.mock.intro", attr="value")
    choices = sft_choices(services)
    with gr.Row():
        sft = labels.make(Picker, "ui.data.mock.sft", choices, value=choices[0] if choices else None, scale=3)
        limit = labels.make(gr.Number, "ui.data.mock.limit", info="ui.data.mock.limit.info", value=0, precision=0,
                            minimum=0)
        seed = labels.make(gr.Number, "ui.data.gen.seed", value=0, precision=0, minimum=0)
    run = labels.make(gr.Button, "ui.data.mock.run", variant="primary", attr="value")
    result = gr.Markdown()
    count = labels.make(gr.Number, "ui.data.mock.count", value=None, precision=0, interactive=False)
    command_box = labels.make(gr.Textbox, "ui.data.command", interactive=False, show_copy_button=True)

    job_box = job_widget(services, labels, lang_state, "data_mock")

    def create(name, limit_value, seed_value, lang_now):
        """Append the votes in a job; the call follows it and returns what was added."""
        name = require_name(name, lang_now)
        limit_n, seed_n = int(limit_value or 0) or None, int(seed_value or 0)
        args = ["data", "mock-prefs", "--sft", name, "--seed", seed_n] + (["--limit", limit_n] if limit_n else [])
        if limit_n is not None and limit_n < 1:
            raise InvalidInputError("err.gen_limit_invalid", limit=limit_n)
        resolve_sft(services.settings, name)
        job = services.jobs.submit("mockprefs", {"sft": name, "limit": limit_n, "seed": seed_n},
                                   f"mock-prefs {name}")
        job_id = job.id
        job = yield from follow(services, job_id, lambda details: (
            job_line_text(details, lang_now), gr.skip(), cli(*args), job_id))
        made = outcome(services, job, lang_now)
        kinds = ", ".join(f"{t(f'gen.degrade.{k}', lang_now)}: {v}" for k, v in sorted(made["by_kind"].items()))
        text = t("gen.mock_done", lang_now, count=made["count"], path=made["prefs_path"], session=made["session"])
        yield f"{text}\n\n{kinds}", made["count"], cli(*args), job.id

    run.click(create, [sft, limit, seed, lang_state], [result, count, command_box, job_box.job],
              api_name="data_mock_prefs")
    return sft
