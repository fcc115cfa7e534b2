"""Data › Domain corpus: shipped or uploaded documents -> a cleaned, chunked, deduplicated pre-training corpus."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import plotly.graph_objects as go

from ...i18n import t
from ...i18n.options import option_keys
from ...services.container import Services
from ...services.corpus import REASONS, CorpusOptions, CorpusStats
from ...services.datagen import PRESET, CorpusBuild, resolve_sources
from ..charts import histogram_figure
from ..common import cli, token, validated
from ..i18n import Labels
from ..widgets.jobs_panel import follow, job_widget, outcome

FILE_TYPES = [".md", ".markdown", ".txt", ".html", ".htm", ".json", ".jsonl", ".csv", ".tsv"]
LANGUAGES = ["zh", "en", "other"]
COUNT_HEADERS = ["ui.col.step", "ui.col.count", "ui.col.seconds"]
_DEFAULTS = CorpusOptions()


def progress_line(work, lang: str) -> str:
    """The pipeline's current step and count, as the job's worker last wrote them."""
    if not work.total:
        return t("jobs.apply_pending", lang) if work.stage == "done" else "…"
    return t("jobs.progress", lang, stage=t(f"corpus.step.{work.stage}", lang), done=work.done, total=work.total,
             pct=work.percentage)


def count_rows(stats: CorpusStats, lang: str) -> list[list]:
    """One row per pipeline step: what came in, what each filter removed, what was kept."""
    secs = stats.elapsed_s
    quality = sum(stats.removed.get(reason, 0) for reason in REASONS)
    rows = [[t("corpus.stats.documents", lang), stats.documents, secs.get("read", 0.0)],
            [t("corpus.stats.chunks", lang), stats.chunks,
             round(secs.get("normalize", 0.0) + secs.get("chunk", 0.0), 4)],
            [t("corpus.step.exact_dedup", lang), -stats.removed.get("exact_dup", 0), secs.get("exact_dedup", 0.0)],
            [t("corpus.step.filter", lang), -quality, secs.get("filter", 0.0)]]
    rows += [[f"  · {t(f'corpus.reason.{reason}', lang)}", -stats.removed.get(reason, 0), ""] for reason in REASONS]
    rows += [[t("corpus.step.near_dedup", lang), -stats.removed.get("near_dup", 0), secs.get("near_dedup", 0.0)],
             [t("corpus.stats.records", lang), stats.records, secs.get("total", 0.0)],
             [t("corpus.stats.tokens", lang), stats.tokens, ""]]
    return rows


def removals_figure(removed: dict[str, int], lang: str) -> go.Figure:
    """How many chunks each dedup step and quality filter removed."""
    reasons = ["exact_dup", *REASONS, "near_dup"]
    fig = go.Figure(go.Bar(x=[t(f"corpus.reason.{r}", lang) for r in reasons], y=[removed.get(r, 0) for r in reasons],
                           marker_color="#d9534f"))
    fig.update_yaxes(rangemode="tozero", range=None if any(removed.values()) else [0, 1])
    fig.update_layout(title=t("ui.data.corpus.removed_chart", lang), yaxis_title=t("ui.chart.chunks", lang), height=300,
                      margin={"l": 40, "r": 20, "t": 40, "b": 80})
    return fig


def command(sources: list[str], options: CorpusOptions) -> str:
    """The CLI run of the same build; options left at their defaults are not repeated."""
    args = ["data", "corpus", "--source", *sources, "--max-tokens", options.max_tokens,
            "--near-threshold", options.near_threshold]
    if options.min_chars != _DEFAULTS.min_chars:
        args += ["--min-chars", options.min_chars]
    if list(options.languages) != list(_DEFAULTS.languages):
        args += ["--languages", *options.languages]
    if options.tokenizer:
        args += ["--tokenizer", options.tokenizer]
    for key in ("text_field", "csv_column"):
        if getattr(options, key) != getattr(_DEFAULTS, key):
            args += [f"--{key.replace('_', '-')}", getattr(options, key)]
    return cli(*args)


def summary(built, lang: str) -> str:
    """What was written and registered, with languages and skipped files."""
    stats = built.stats
    lines = [t("gen.corpus_done", lang, name=built.dataset_name, records=stats.records, tokens=stats.tokens,
               path=built.path),
             t("ui.data.corpus.languages", lang, languages=", ".join(f"{k}: {v}" for k, v in stats.languages.items())
               or "-")]
    lines += [t("ui.data.corpus.skipped", lang, path=s["path"], reason=t(s["reason"], lang)) for s in stats.skipped]
    return "\n\n".join(lines)


def _options_column(labels: Labels) -> list:
    labels.make(gr.Markdown, "ui.data.corpus.options_md", attr="value")
    max_tokens = labels.make(gr.Number, "ui.data.corpus.max_tokens", info="ui.data.corpus.max_tokens.info",
                             value=_DEFAULTS.max_tokens, precision=0)
    near = labels.make(gr.Slider, "ui.data.corpus.near", 0.3, 0.99, info="ui.data.corpus.near.info",
                       value=_DEFAULTS.near_threshold, step=0.01)
    min_chars = labels.make(gr.Number, "ui.data.corpus.min_chars", value=_DEFAULTS.min_chars, precision=0)
    languages = labels.make(gr.CheckboxGroup, "ui.data.corpus.languages_field", choices=option_keys("lang", LANGUAGES),
                            value=list(_DEFAULTS.languages))
    tokenizer = labels.make(gr.Textbox, "ui.data.corpus.tokenizer", info="ui.data.corpus.tokenizer.info", value="")
    return [max_tokens, near, min_chars, languages, tokenizer]


def build(services: Services, labels: Labels, lang_state: gr.State, changed: gr.Textbox) -> None:
    """Draw the sub-tab and wire the build."""
    with gr.Row():
        with gr.Column():
            labels.make(gr.Markdown, "ui.data.corpus.sources_md", attr="value")
            preset = labels.make(gr.Checkbox, "gen.preset_sources", value=True)
            files = labels.make(gr.File, "ui.data.corpus.files", file_count="multiple", file_types=FILE_TYPES)
            with gr.Row():
                text_field = labels.make(gr.Textbox, "ui.data.corpus.text_field", value=_DEFAULTS.text_field)
                csv_column = labels.make(gr.Textbox, "ui.data.corpus.csv_column", value=_DEFAULTS.csv_column)
        with gr.Column():
            option_inputs = _options_column(labels)
    run = labels.make(gr.Button, "ui.data.corpus.build", variant="primary", attr="value")
    result = gr.Markdown()
    with gr.Row():
        name_box = labels.make(gr.Textbox, "ui.data.corpus.name", interactive=False)
        path_box = labels.make(gr.Textbox, "ui.data.corpus.path", interactive=False, scale=2)
    with gr.Row():
        counts = labels.make(gr.Dataframe, "ui.data.corpus.counts", headers=COUNT_HEADERS, interactive=False,
                             max_height=640)
        with gr.Column():
            hist = labels.make(gr.Plot, "ui.data.corpus.hist_chart")
            removals = labels.make(gr.Plot, "ui.data.corpus.removed_chart")
    command_box = labels.make(gr.Textbox, "ui.data.command", interactive=False, show_copy_button=True)

    job_box = job_widget(services, labels, lang_state, "data_corpus")

    def on_build(use_preset, uploads, field, column, max_tokens, near, min_chars, langs, tokenizer, lang_now):
        """Queue the build as a job, stream its progress, and return its result once it is registered."""
        sources = ([PRESET] if use_preset else []) + [str(path) for path in uploads or []]
        options = validated(CorpusOptions, {"text_field": field or "text", "csv_column": column or "text",
                                            "max_tokens": int(max_tokens or 0), "near_threshold": float(near),
                                            "min_chars": int(min_chars or 0), "languages": list(langs or []),
                                            "tokenizer": (tokenizer or "").strip() or None})
        resolve_sources(services.settings, sources)
        job = services.jobs.submit("corpus", {"sources": sources, "options": options.model_dump()},
                                   "corpus " + " ".join(sources))
        cmd, skip = command(sources, options), gr.skip()
        job_id = job.id
        job = yield from follow(services, job_id, lambda details: (
            progress_line(details.work, lang_now), skip, skip, skip, skip, skip, cmd, skip, job_id))
        done = outcome(services, job, lang_now)
        built = CorpusBuild(Path(done["path"]), done["dataset_name"], CorpusStats.model_validate(done["stats"]))
        stats = built.stats
        figure = histogram_figure(stats.histogram, t("corpus.stats.histogram", lang_now), lang_now)
        yield (summary(built, lang_now), built.dataset_name, str(built.path), count_rows(stats, lang_now), figure,
               removals_figure(stats.removed, lang_now), cmd, token(built.dataset_name), job.id)

    run.click(on_build, [preset, files, text_field, csv_column, *option_inputs, lang_state],
              [result, name_box, path_box, counts, hist, removals, command_box, changed, job_box.job],
              api_name="data_corpus_build")
