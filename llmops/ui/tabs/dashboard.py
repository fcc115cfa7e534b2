"""Dashboard tab (the first one): stat cards, running jobs with progress bars, recent work, the machine."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from ...i18n import LANGS, t
from ...services.container import Services
from ...services.dashboard import WEEK_DAYS, Snapshot
from ...services.jobs import clock
from ...services.sysinfo import SystemInfo
from ..i18n import Labels
from ..live import Live

TICK_S = 3.0  # progress bars and machine figures; counts follow the stores through the live refresh
TOPICS = ("datasets", "models", "jobs", "prefs", "evals")
STEADY = ["llmops-steady"]  # not dimmed while a background refresh is in flight (the app's CSS)
_CARD = ("display:inline-block;min-width:170px;margin:0 12px 12px 0;padding:10px 14px;border-radius:8px;"
         "border:1px solid var(--border-color-primary);vertical-align:top")
_BAR = "width:140px;height:10px;border-radius:5px;background:var(--neutral-200);overflow:hidden;display:inline-block"
_FILL = "height:100%;background:var(--color-accent);"


def _e(value) -> str:
    return html.escape(str(value if value is not None else ""))


def size(n: int) -> str:
    """Bytes in the largest unit that keeps a figure above 1."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} TiB"


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else clock(seconds)


def _table(headers: list[str], rows: list[list[str]], lang: str, empty_key: str = "ui.dash.none") -> str:
    """An HTML table of already-escaped cells (a Dataframe with no rows can hang the page)."""
    if not rows:
        return f"<p><em>{_e(t(empty_key, lang))}</em></p>"
    head = "".join(f"<th style='text-align:left;padding:2px 10px'>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td style='padding:2px 10px'>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table style='border-collapse:collapse;width:100%'><tr>{head}</tr>{body}</table>"


def _card(title: str, value, detail: str, card_id: str) -> str:
    return (f"<div id='dash-{card_id}' style='{_CARD}'><div>{_e(title)}</div>"
            f"<div class='dash-value' style='font-size:1.8em;font-weight:600'>{_e(value)}</div>"
            f"<div style='opacity:.75;font-size:.85em'>{_e(detail)}</div></div>")


def cards_html(snap: Snapshot, lang: str) -> str:
    counts = snap.counts
    jobs = counts.jobs
    detail = t("ui.dash.jobs_detail", lang, running=jobs.get("RUNNING", 0), pending=jobs.get("PENDING", 0),
               completed=jobs.get("COMPLETED", 0), failed=jobs.get("FAILED", 0) + jobs.get("LOST", 0))
    votes = t("ui.dash.votes_detail", lang, total=counts.votes_total, days=WEEK_DAYS)
    return "".join([_card(t("ui.dash.card.datasets", lang), counts.datasets, "", "datasets"),
                    _card(t("ui.dash.card.versions", lang), counts.versions, "", "versions"),
                    _card(t("ui.dash.card.jobs", lang), counts.jobs_total, detail, "jobs"),
                    _card(t("ui.dash.card.votes", lang), counts.votes_week, votes, "votes")])


def _bar(percent: float | None) -> str:
    if percent is None:
        return "-"
    width = max(0.0, min(100.0, percent))
    return (f"<span style='{_BAR}'><span style='{_FILL}width:{width:.1f}%;display:block'></span></span>"
            f" {percent:.0f}%")


def running_html(running: list, lang: str) -> str:
    headers = [t(k, lang) for k in ("ui.col.id", "ui.col.name", "ui.col.kind", "ui.col.status", "ui.col.progress",
                                    "ui.col.step", "ui.dash.col.elapsed", "ui.dash.col.eta")]
    rows = [[f"<code>{_e(j.id)}</code>", _e(j.name), _e(j.kind), _e(j.status), _bar(j.percent), _e(j.progress),
             _e(_duration(j.elapsed_s)), _e(j.eta or "-")] for j in running]
    return _table(headers, rows, lang, "ui.dash.no_running")


def recent_html(snap: Snapshot, lang: str) -> tuple[str, str, str]:
    """Recent jobs, evaluations and merges."""
    jobs = _table([t(k, lang) for k in ("ui.col.id", "ui.col.name", "ui.col.kind", "ui.col.status", "ui.col.created",
                                        "ui.dash.col.duration")],
                  [[f"<code>{_e(j.id)}</code>", _e(j.name), _e(j.kind), _e(j.status), _e(j.created),
                    _e(_duration(j.duration_s))] for j in snap.recent_jobs], lang)
    evals = _table([t(k, lang) for k in ("ui.col.id", "ui.col.name", "ui.dash.col.models", "ui.dash.col.set",
                                         "ui.col.status", "ui.col.created")],
                   [[f"<code>{_e(r.run_id)}</code>", _e(r.name), _e(", ".join(r.models)), _e(r.set), _e(r.status),
                     _e(r.created)] for r in snap.recent_evals], lang)
    merges = _table([t(k, lang) for k in ("ui.col.id", "ui.dash.col.operation", "ui.dash.col.inputs",
                                          "ui.col.status", "ui.col.created")],
                    [[f"<code>{_e(m.id)}</code>", _e(m.operation), _e(", ".join(m.inputs)), _e(m.status),
                      _e(m.created)] for m in snap.recent_merges], lang)
    return jobs, evals, merges


def current_md(snap: Snapshot, lang: str) -> str:
    current = snap.current
    if current is None:
        return t("ui.dash.no_current", lang)
    lines = [t("ui.dash.current_line", lang, id=current.id, kind=current.kind, parent=current.parent or "-",
               created=current.created or "-")]
    last = current.last_eval
    if last is None:
        lines.append(t("ui.dash.no_eval", lang))
        return "\n\n".join(lines)
    lines.append(t("ui.dash.last_eval", lang, run=last.run_id, set=last.set, status=last.status))
    figures = last.metrics.get(current.id) or {}
    if figures:
        lines.append(" · ".join(f"{name} {value:.4g}" if value is not None else f"{name} -"
                                for name, value in figures.items()))
    return "\n\n".join(lines)


def system_html(system: SystemInfo, lang: str) -> str:
    parts = [_card(t("ui.dash.cpu", lang), f"{system.cpu_percent:.0f}%",
                   t("ui.dash.cpu_detail", lang, percent=f"{system.cpu_percent:.0f}", cores=system.cpu_count), "cpu"),
             _card(t("ui.dash.memory", lang), f"{system.memory_percent:.0f}%",
                   t("ui.dash.used_of", lang, used=size(system.memory_used), total=size(system.memory_total),
                     percent=f"{system.memory_percent:.0f}"), "memory"),
             _card(t("ui.dash.disk", lang), size(system.disk_free),
                   t("ui.dash.disk_detail", lang, free=size(system.disk_free), total=size(system.disk_total),
                     path=system.disk_path), "disk")]
    if not system.gpu.present:
        parts.append(f"<p id='dash-gpu'>{_e(t('ui.dash.no_gpu', lang, reason=system.gpu.reason))}</p>")
    unknown = t("ui.dash.not_reported", lang)
    for gpu in system.gpu.gpus:
        util = f"{gpu.utilisation}%" if gpu.utilisation is not None else unknown
        temp = f"{gpu.temperature_c} °C" if gpu.temperature_c is not None else unknown
        parts.append(_card(t("ui.dash.gpu", lang, index=gpu.index),
                           f"{100 * gpu.memory_used / max(gpu.memory_total, 1):.0f}%",
                           t("ui.dash.gpu_detail", lang, name=gpu.name, used=size(gpu.memory_used),
                             total=size(gpu.memory_total), util=util, temp=temp), f"gpu{gpu.index}"))
    return "".join(parts)


@dataclass
class DashboardTab:
    cards: gr.HTML
    running: gr.HTML
    jobs: gr.HTML
    evals: gr.HTML
    merges: gr.HTML
    current: gr.Markdown
    system: gr.HTML
    took: gr.Markdown
    raw: gr.JSON
    timer: gr.Timer

    @property
    def stores(self) -> list:
        """What follows the workspace's stores."""
        return [self.cards, self.jobs, self.evals, self.merges, self.current, self.took, self.raw]

    @property
    def live_parts(self) -> list:
        """What changes without any store changing: progress in run folders, the machine."""
        return [self.running, self.system]

    @property
    def everything(self) -> list:
        return [*self.stores, *self.live_parts]


def store_views(snap: Snapshot, lang: str) -> list:
    """The parts that follow the stores, in DashboardTab.stores order."""
    return [cards_html(snap, lang), *recent_html(snap, lang), current_md(snap, lang),
            t("ui.dash.took", lang, at=snap.taken_at, ms=snap.took_ms), snap.to_dict()]


def all_views(snap: Snapshot, lang: str) -> list:
    """Every part, in DashboardTab.everything order."""
    return [*store_views(snap, lang), running_html(snap.running, lang), system_html(snap.system, lang)]


def build(services: Services, labels: Labels, lang_state: gr.State, live: Live, demo: gr.Blocks,
          tabs: gr.Tabs) -> DashboardTab:
    """Draw the dashboard; nothing is computed at page build: the page load and the live refresh fill it."""
    with gr.Row():
        labels.make(gr.Markdown, "ui.dash.title", attr="value")
        refresh = labels.make(gr.Button, "ui.dash.refresh", scale=0, attr="value")
    cards = gr.HTML(elem_classes=STEADY)
    labels.make(gr.Markdown, "ui.dash.running", attr="value")
    running = gr.HTML(elem_classes=STEADY)
    with gr.Row():
        with gr.Column():
            labels.make(gr.Markdown, "ui.dash.current", attr="value")
            current = gr.Markdown(elem_classes=STEADY)
        with gr.Column():
            labels.make(gr.Markdown, "ui.dash.system", attr="value")
            system = gr.HTML(elem_classes=STEADY)
    labels.make(gr.Markdown, "ui.dash.recent_jobs", attr="value")
    jobs = gr.HTML(elem_classes=STEADY)
    labels.make(gr.Markdown, "ui.dash.recent_evals", attr="value")
    evals = gr.HTML(elem_classes=STEADY)
    labels.make(gr.Markdown, "ui.dash.recent_merges", attr="value")
    merges = gr.HTML(elem_classes=STEADY)
    took = gr.Markdown(elem_classes=STEADY)
    with labels.make(gr.Accordion, "ui.dash.raw", open=False):
        labels.make(gr.Markdown, "ui.dash.cli", attr="value")
        raw = gr.JSON()
    tab = DashboardTab(cards, running, jobs, evals, merges, current, system, took, raw, gr.Timer(TICK_S))
    _wire(services, lang_state, live, demo, tabs, tab, refresh)
    return tab


def _wire(services: Services, lang_state: gr.State, live: Live, demo: gr.Blocks, tabs: gr.Tabs, tab: DashboardTab,
          refresh: gr.Button) -> None:
    dashboard = services.dashboard
    live.add(tab.stores, lambda lang: store_views(dashboard.snapshot(), lang), topics=TOPICS)

    def tick(lang):
        return [running_html(dashboard.running(), lang), system_html(dashboard.system(), lang)]

    # Filled with the page and on every job change; the timer below adds progress between changes.
    live.add(tab.live_parts, tick, topics=("jobs",))
    def everything(lang):
        return all_views(dashboard.snapshot(), lang)

    # Cheap reads that never wait behind a generation or a training launch in the queue.
    tab.timer.tick(tick, [lang_state], tab.live_parts, api_name="dashboard_tick", queue=False,
                   show_progress="hidden")
    refresh.click(everything, [lang_state], tab.everything, api_name="dashboard_refresh", queue=False)
    # The first page a user sees fills on its own, not after the page-wide live load (which imports engines).
    demo.load(everything, [lang_state], tab.everything, api_name="dashboard_load", queue=False,
              show_progress="hidden")
    lang_state.change(everything, [lang_state], tab.everything, api_name="dashboard_language", queue=False,
                      show_progress="hidden")
    names = {t("ui.tab.dashboard", lang) for lang in LANGS}

    def follow_tab(evt: gr.SelectData):
        # The machine figures tick only while the dashboard is the tab in view.
        return gr.Timer(active=evt.value in names)

    tabs.select(follow_tab, None, tab.timer, api_name="dashboard_visible", queue=False, show_progress="hidden")
