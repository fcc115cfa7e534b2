"""The report as one self-contained HTML page: every text escaped, plotly inlined once, scripts pinned by hash.

The Content-Security-Policy lets only this page's own two scripts run (by their SHA-256), so even text that slipped
past escaping could not execute; chart data is JSON with `<`, `>` and `&` written as escapes inside its script.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import lru_cache

from ...i18n import has, t
from .compare import Change
from .report import ReportData

_FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', 'Helvetica Neue', Arial, sans-serif"
_VERDICTS = {True: "evr.better", False: "evr.worse", None: "evr.same"}
_CSS = """
body{font-family:FONT;margin:2em auto;max-width:1100px;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em} th,td{border:1px solid #ccc;padding:.3em .5em;
vertical-align:top;text-align:left} th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{font-weight:bold;background:#e8f5e9} .bad{color:#b71c1c;font-weight:bold} .good{color:#1b5e20}
.lead{font-weight:bold} .muted{color:#666;font-size:.9em}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font-family:inherit}
.sample{border:1px solid #ddd;border-radius:6px;padding:.6em;margin:.8em 0;break-inside:avoid}
.chart{width:100%;height:340px;break-inside:avoid} .flag{background:#ffebee}
@media print{body{margin:0;max-width:none} h2{break-after:avoid} .modebar-container{display:none}}
""".replace("FONT", _FONT)


def render(report: ReportData) -> str:
    """The whole page."""
    lang, charts = report.lang, []
    body = "".join((
        f"<h1>{_e(t('evr.title', lang, name=report.name))}</h1>",
        _p(t("evr.generated", lang, run=report.run_id, when=report.generated, status=report.status, done=report.done,
             total=report.total), "muted"),
        _section("summary", lang, _summary(report)),
        _section("method", lang, _method(report)),
        _section("results", lang, _results(report, charts)),
        _section("distributions", lang, _distributions(report, charts)),
        _section("samples", lang, _samples(report)),
        _section("errors", lang, _errors(report)),
        _section("comparison", lang, _comparison(report)),
    ))
    init = ("var CHARTS=" + _safe_json(dict(charts)) + ";for(var id in CHARTS){Plotly.newPlot(id,CHARTS[id].data,"
            "CHARTS[id].layout,{displaylogo:false,responsive:true});}")
    scripts = (_plotly_js(), init)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    csp = (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; font-src data:")
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (f"<!DOCTYPE html><html lang='{html_lang}'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{csp}\">"
            f"<title>{_e(t('evr.title', lang, name=report.name))}</title><style>{_CSS}</style>"
            f"<script>{scripts[0]}</script></head><body>{body}<script>{scripts[1]}</script></body></html>")


# --- sections --------------------------------------------------------------------------------------------------
def _section(name: str, lang: str, inner: str) -> str:
    return f"<section id='{name}'><h2>{_e(t(f'evr.sec.{name}', lang))}</h2>{inner}</section>"


def _summary(report: ReportData) -> str:
    lang = report.lang
    if report.best:
        parts = [_p(t("evr.best_version", lang, model=report.best, wins=report.best_wins,
                      columns=report.quality_columns), "lead")]
    else:
        parts = [_p(t("evr.no_best", lang))]
    parts.append(_p(t("evr.baseline", lang, model=report.baseline, threshold=_num(report.threshold * 100))))
    if report.regressions:
        parts.append(_p(t("evr.regressions", lang, count=len(report.regressions)), "bad"))
        parts.append(_changes_table(report.regressions, lang))
    else:
        parts.append(_p(t("evr.no_regressions", lang), "good"))
    quality = [c for c in report.changes if not c.column.startswith(("latency", "tokens_per_s"))]
    if quality:
        parts.append(f"<h3>{_e(t('evr.changed', lang))}</h3><ul>")
        for model in dict.fromkeys(c.model for c in quality):
            items = "; ".join(f"{_e(c.label)} {_signed(c.delta)} ({_pct(c.relative)})"
                              for c in quality if c.model == model)
            parts.append(f"<li><b>{_e(model)}</b>: {items}</li>")
        parts.append("</ul>")
    return "".join(parts)


def _method(report: ReportData) -> str:
    lang, m = report.lang, report.method
    gen = m.generation
    metrics = "".join(f"<li><b>{_e(d.get('display', d['key']))}</b> <span class='muted'>({_e(d['key'])}; "
                      f"{_e(t('evr.higher' if d.get('higher_is_better', True) else 'evr.lower', lang))})</span> "
                      f"{_e(d.get('help', ''))}</li>" for d in m.metrics)
    judge = t("evr.m.judge_none", lang)
    if m.judge:
        judge = t("evr.m.judge_value", lang, model=m.judge["model"], url=m.judge["base_url"], mode=m.judge["mode"],
                  dims=", ".join(_label(f"evr.dim.{d}", d, lang) for d in m.judge["dimensions"]))
    rows = [("evr.m.set", m.set), ("evr.m.samples", str(m.samples)), ("evr.m.set_hash", m.set_hash),
            ("evr.m.models", ", ".join(m.models)),
            ("evr.m.generation", t("evr.m.generation_value", lang, temperature=gen["temperature"], top_p=gen["top_p"],
                                   max_new_tokens=gen["max_new_tokens"], seed=gen["seed"], timeout=_num(m.timeout_s),
                                   retries=m.retries)),
            ("evr.m.judge", judge)]
    if m.judge_audit:
        a = m.judge_audit
        rows.append(("evr.m.judge", t("evr.m.judge_audit", lang, judged=a.get("judged", 0),
                                      failures=a.get("failures", 0), bias=_num(a.get("position_bias_rate")),
                                      agreement=_num(a.get("human_agreement")), kappa=_num(a.get("kappa")),
                                      overlap=a.get("overlap", 0))))
    table = "".join(f"<tr><th>{_e(t(k, lang))}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{table}</table><h3>{_e(t('evr.m.metrics', lang))}</h3><ul>{metrics}</ul>"


def _results(report: ReportData, charts: list) -> str:
    lang, table = report.lang, report.comparison
    head = "".join(f"<th>{_e(c.label)}</th>" for c in table.columns)
    rows = []
    for row in table.rows:
        cells = "".join(_cell(row.values.get(c.key), row.model in c.best) for c in table.columns)
        rows.append(f"<tr><th>{_e(row.model)}</th><td class='num'>{row.samples}</td>{cells}</tr>")
    out = [(f"<table><tr><th>{_e(t('evr.h.model', lang))}</th><th>{_e(t('evr.h.samples', lang))}</th>{head}</tr>"
            f"{''.join(rows)}</table>")]
    groups = [("evr.chart.metrics", [c for c in table.columns if c.group == "metric" and c.scale == "0-100"]),
              ("evr.chart.judge", [c for c in table.columns if c.group == "judge"]),
              ("evr.chart.human", [c for c in table.columns if c.group == "human"])]
    groups += [(None, [c]) for c in table.columns if (c.group == "metric" and c.scale != "0-100") or c.group == "speed"]
    for title_key, columns in groups:
        if columns:
            title = t(title_key, lang) if title_key else columns[0].label
            traces = [{"type": "bar", "name": model, "x": [c.label for c in columns],
                       "y": [table.value(model, c.key) for c in columns]} for model in table.models]
            out.append(_chart(charts, traces, title, barmode="group"))
    return "".join(out)


def _distributions(report: ReportData, charts: list) -> str:
    out = []
    for key, per_model in report.distributions.items():
        label = report.comparison.column(key).label
        boxes = [{"type": "box", "name": m, "y": v, "boxpoints": "all", "jitter": 0.3} for m, v in per_model.items()]
        hists = [{"type": "histogram", "name": m, "x": v, "opacity": 0.6} for m, v in per_model.items()]
        out.append(_chart(charts, boxes, t("evr.chart.box", report.lang, metric=label)))
        out.append(_chart(charts, hists, t("evr.chart.hist", report.lang, metric=label), barmode="overlay"))
    return "".join(out)


def _samples(report: ReportData) -> str:
    lang, page = report.lang, report.samples
    metric = page.metric or ""
    rows = page.rows[:report.samples_shown]
    out = [_p(t("evr.samples_shown", lang, shown=len(rows), total=page.total, metric=metric), "muted")]
    for row in rows:
        lines = []
        for o in row.outputs:
            notes = []
            if o.missing:
                notes.append(t("evr.missing", lang))
            if o.error:
                notes.append(t("evr.error_label", lang, kind=t(f"evr.kind.{o.error}", lang)))
            if o.truncated:
                notes.append(t("evr.truncated", lang))
            scores = ", ".join(f"{k} {_num(v)}" for k, v in o.scores.items())
            judged = ", ".join(f"{k} {v}" for k, v in o.judge.items())
            mark = " ★" if o.model in row.best else ""
            lines.append(f"<tr{' class=best' if mark else ''}><th>{_e(o.model + mark)}</th>"
                         f"<td><pre>{_e(o.output)}</pre><div class='bad'>{_e('; '.join(notes))}</div></td>"
                         f"<td>{_e(scores)}<br>{_e(judged)}</td></tr>")
        reference = f"<p><b>{_e(t('evr.h.reference', lang))}:</b></p><pre>{_e(row.reference or '')}</pre>" \
            if row.reference is not None else ""
        out.append(f"<div class='sample'><p><b>#{row.sample} {_e(t('evr.h.prompt', lang))}:</b></p>"
                   f"<pre>{_e(row.prompt)}</pre>{reference}<table><tr><th>{_e(t('evr.h.model', lang))}</th>"
                   f"<th>{_e(t('evr.h.output', lang))}</th><th>{_e(t('evr.h.scores', lang))}</th></tr>"
                   f"{''.join(lines)}</table></div>")
    return "".join(out)


def _errors(report: ReportData) -> str:
    lang, errors = report.lang, report.errors
    if not any(any(m.samples.values()) for m in errors.models):
        return f"<p class='good'>{_e(t('evr.no_errors', lang))}</p>"
    head = "".join(f"<th>{_e(t(f'evr.kind.{k}', lang))}</th>" for k in errors.kinds)
    rows = []
    for m in errors.models:
        cells = "".join(f"<td class='num{' flag' if m.samples[k] else ''}'>{len(m.samples[k])}"
                        f"<div class='muted'>{_e(', '.join(f'#{i}' for i in m.samples[k][:40]))}</div></td>"
                        for k in errors.kinds)
        rows.append(f"<tr><th>{_e(m.model)}</th>{cells}</tr>")
    return f"<table><tr><th>{_e(t('evr.h.model', lang))}</th>{head}</tr>{''.join(rows)}</table>"


def _comparison(report: ReportData) -> str:
    lang = report.lang
    out = [f"<p>{_e(t('evr.baseline', lang, model=report.baseline, threshold=_num(report.threshold * 100)))}</p>",
           _changes_table(report.changes, lang)]
    if report.pair_wins:
        models = report.comparison.models
        head = "".join(f"<th>{_e(m)}</th>" for m in models)
        rows = "".join(f"<tr><th>{_e(a)}</th>" + "".join(
            f"<td class='num'>{report.pair_wins.get(a, {}).get(b, 0) if a != b else '—'}</td>" for b in models)
            + "</tr>" for a in models)
        out.append(f"<h3>{_e(t('evr.wins_matrix', lang))}</h3><table><tr><th></th>{head}</tr>{rows}</table>")
    return "".join(out)


# --- pieces ----------------------------------------------------------------------------------------------------
def _changes_table(found: list[Change], lang: str) -> str:
    head = "".join(f"<th>{_e(t(k, lang))}</th>" for k in ("evr.h.model", "evr.h.column", "evr.h.baseline",
                                                           "evr.h.value", "evr.h.delta", "evr.h.relative",
                                                           "evr.h.verdict"))
    rows = []
    for c in found:
        verdict = "evr.regression" if c.regression else _VERDICTS[c.better]
        css = "bad" if c.regression else "good" if c.better else ""
        rows.append(f"<tr><td>{_e(c.model)}</td><td>{_e(c.label)}</td><td class='num'>{_num(c.baseline_value)}</td>"
                    f"<td class='num'>{_num(c.value)}</td><td class='num'>{_signed(c.delta)}</td>"
                    f"<td class='num'>{_pct(c.relative)}</td><td class='{css}'>{_e(t(verdict, lang))}</td></tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _chart(charts: list, traces: list[dict], title: str, barmode: str | None = None) -> str:
    chart_id = f"chart-{len(charts)}"
    layout = {"title": {"text": title}, "height": 340, "margin": {"l": 50, "r": 20, "t": 50, "b": 60},
              "font": {"family": _FONT}, "template": None, "legend": {"orientation": "h"}}
    if barmode:
        layout["barmode"] = barmode
    charts.append((chart_id, {"data": traces, "layout": layout}))
    return f"<div class='chart' id='{chart_id}'></div>"


def _label(key: str, fallback: str, lang: str) -> str:
    return t(key, lang) if has(key) else fallback


def _p(text: str, css: str = "") -> str:
    return f"<p class='{css}'>{_e(text)}</p>" if css else f"<p>{_e(text)}</p>"


def _cell(value: float | None, best: bool) -> str:
    return f"<td class='num{' best' if best else ''}'>{_num(value)}{' ★' if best else ''}</td>"


def _num(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.2f}" if isinstance(value, (int, float)) else _e(str(value))


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + _num(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _safe_json(obj) -> str:
    """JSON that cannot end its script element or open a comment in it."""
    text = json.dumps(obj, ensure_ascii=False, default=str)  # NaN stays NaN: valid JS
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
