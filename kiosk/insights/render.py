"""The report as one self-contained HTML page: inline CSS, charts drawn with matplotlib (Agg,
no pyplot) embedded as base64 PNG, every visitor's text escaped. No external resource."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import datetime
from html import escape

from matplotlib.figure import Figure

from kiosk.insights.report import DOUBTFUL_BELOW, STAGE_NAMES, Summary

COLOURS = {"answered": "#2e7d5b", "clarify": "#e0a526", "unknown": "#c0504d",
           "bar": "#3a6ea5", "p95": "#9bb7d4"}
OUTCOME_NAMES = {"answer": "answered", "clarify": "asked to clarify", "unknown": "did not know",
                 "out_of_scope": "off topic", "heard_nothing": "heard nothing"}
MAX_BARS = 400
"""Bars at most in the per-day chart: a bar a day up to 400 days (a year and more; drawn in
about a second), a bar per several days beyond (3,660 days a bar each took 8 s)."""
MAX_ROWS = 12
"""Languages and stages charted and listed at most (the rest are counted in a line)."""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
background:#f6f5f2;color:#222;line-height:1.45}
main{max-width:1080px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:28px;margin:8px 0 4px}h2{font-size:20px;margin:36px 0 8px;
border-bottom:2px solid #ddd;padding-bottom:4px}
.muted{color:#666;font-size:14px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:20px 0}
.card{background:#fff;border-radius:8px;padding:10px 14px;flex:1 1 100px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:26px}.card span{color:#555;font-size:13px}
img{max-width:100%;height:auto;background:#fff;border-radius:8px}img.wide{width:100%}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;
box-shadow:0 1px 2px rgba(0,0,0,.08);margin:8px 0}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eee;vertical-align:top;
font-size:14px}th{background:#efeee9;font-weight:600}td.n{text-align:right;white-space:nowrap}
.ex{color:#444;font-size:13px}.ex li{margin:1px 0}.lang{display:inline-block;font-size:11px;
background:#e4e8ee;border-radius:3px;padding:0 4px;margin-right:4px;color:#333}
.two{display:grid;grid-template-columns:1fr 1fr;gap:20px}
.tag{font-size:12px;color:#555;white-space:nowrap}
.empty{background:#fff;border-radius:8px;padding:24px;font-size:18px}
"""


def _png(fig: Figure, css: str = "") -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    cls = f' class="{css}"' if css else ""
    return f'<img{cls} alt="" src="data:image/png;base64,{data}">'


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.patch.set_facecolor("white")
    return fig


def _style(ax: object) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]


def days_per_bar(days: int) -> int:
    """How many days one bar of the per-day chart adds up (``MAX_BARS``)."""
    return max(1, -(-days // MAX_BARS))


def chart_per_day(per_day: dict[str, dict[str, int]]) -> str:
    size = days_per_bar(len(per_day))
    if size > 1:
        keys = list(per_day)
        per_day = {keys[i]: {k: sum(per_day[d][k] for d in keys[i:i + size])
                             for k in ("answered", "clarify", "unknown")}
                   for i in range(0, len(keys), size)}
    days = list(per_day)
    fig = _figure(10, 3.2)
    ax = fig.add_subplot()
    bottom = [0] * len(days)
    for key, label in (("answered", "answered"), ("clarify", "asked to clarify"),
                       ("unknown", "not answered")):
        values = [per_day[d][key] for d in days]
        ax.bar(range(len(days)), values, bottom=bottom, color=COLOURS[key], label=label,
               width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(days) // 12)
    ax.set_xticks(range(0, len(days), step), [d[5:] for d in days[::step]])
    ax.set_ylabel("questions")
    ax.legend(frameon=False, ncols=3, loc="upper left", bbox_to_anchor=(0, 1.15))
    _style(ax)
    return _png(fig, "wide")


def chart_bars(items: Sequence[tuple[str, float]], xlabel: str, colour: str = COLOURS["bar"],
               ) -> str:
    labels = [_short(label) for label, _ in items][::-1]
    values = [value for _, value in items][::-1]
    fig = _figure(6, 0.42 * len(items) + 0.8)
    ax = fig.add_subplot()
    ax.barh(range(len(items)), values, color=colour)
    ax.set_yticks(range(len(items)), labels)
    ax.set_xlabel(xlabel)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:g}", va="center", fontsize=9)
    _style(ax)
    return _png(fig)


def chart_stages(stages: Sequence[tuple[str, int, float, float, float]]) -> str:
    names = [_short(STAGE_NAMES.get(s[0], s[0]), 40) for s in stages][::-1]
    fig = _figure(6, 0.55 * len(stages) + 1.0)
    ax = fig.add_subplot()
    ys = range(len(stages))
    ax.barh(ys, [s[3] for s in stages][::-1], color=COLOURS["p95"], label="95th percentile")
    ax.barh(ys, [s[2] for s in stages][::-1], color=COLOURS["bar"], label="median",
            height=0.5)
    ax.set_yticks(ys, names)
    ax.set_xlabel("milliseconds")
    ax.legend(frameon=False, loc="lower right")
    _style(ax)
    return _png(fig)


def _short(text: str, width: int = 32) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _pct(part: int | float, whole: int | float) -> str:
    return "—" if not whole else f"{100 * part / whole:.0f} %"


def render_html(s: Summary, names: dict[str, str], period: str, generated: datetime,
                retention_days: int) -> str:
    """The whole page. ``names``: exhibit/FAQ id → title, when the content is at hand."""
    e = escape
    head = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Visitor insights</title><style>{CSS}</style></head><body><main>"
            f"<h1>What visitors asked</h1>")
    when = f"{s.first} → {s.last}" if s.first else e(period)
    head += (f'<p class="muted">{e(when)} · generated {generated:%Y-%m-%d %H:%M} · '
             f"turns are kept {retention_days} days</p>")
    if s.left_out:
        head += f'<p class="muted">{e(left_out_line(s))}</p>'
    if not s.questions and not s.outcomes.get("heard_nothing"):
        return head + (f'<p class="empty">No turns logged {e(period)}.</p>'
                       + _footer() + "</main></body></html>")
    parts = [head, _cards(s)]
    if s.per_day:
        size = days_per_bar(len(s.per_day))
        per = "day" if size == 1 else f"{size} days"
        parts.append(f"<h2>Questions per {per}</h2>" + chart_per_day(s.per_day))
    parts.append('<div class="two"><section><h2>Most asked works</h2>')
    parts.append(_ranked(s.exhibits[:12], names, "answers about it", "No work was asked about."))
    parts.append("</section><section><h2>Practical questions</h2>")
    parts.append(_ranked(s.faq[:12], names, "answers", "No practical question was answered."))
    parts.append("</section></div>")
    parts.append(_todo(s))
    parts.append(_doubtful(s, names))
    parts.append('<div class="two"><section><h2>Languages</h2>')
    languages = list(s.languages.items())[:MAX_ROWS]
    parts.append(chart_bars(languages, "questions") if languages else "")
    parts.append(_table(["language", "questions", "share"],
                        [[e(k), str(n), _pct(n, s.questions)] for k, n in languages]))
    parts.append(_more(len(s.languages), "language"))
    parts.append("</section><section><h2>Slowest stages</h2>")
    if s.stages:
        stages = s.stages[:MAX_ROWS]
        parts.append(chart_stages(stages))
        parts.append(_table(["stage", "turns", "median", "95 %", "slowest"],
                            [[e(STAGE_NAMES.get(n, n)), str(c), f"{p50:.0f} ms",
                              f"{p95:.0f} ms", f"{mx:.0f} ms"]
                             for n, c, p50, p95, mx in stages]))
        parts.append(_more(len(s.stages), "stage"))
    parts.append("</section></div>")
    parts.append(_footer())
    parts.append("</main></body></html>")
    return "".join(parts)


def left_out_line(s: Summary) -> str:
    """The line saying how many turns were dated outside the report's span."""
    return (f"{s.left_out} turn(s) dated outside {s.first} → {s.last} left out of the figures "
            "(--csv lists them) — was the kiosk's clock wrong? `kiosk doctor` checks it")


def _more(count: int, what: str) -> str:
    more = count - MAX_ROWS
    return f'<p class="muted">… and {more} more {what}(s).</p>' if more > 0 else ""


def _cards(s: Summary) -> str:
    o = s.outcomes
    rate = "—" if s.answer_rate is None else f"{s.answer_rate * 100:.0f} %"
    cards = [(str(s.questions), "questions"), (rate, "answered"),
             (str(o["clarify"]), "asked to clarify"), (str(o["unknown"]), "did not know"),
             (str(o["out_of_scope"]), "off topic"), (str(o["heard_nothing"]), "heard nothing"),
             (str(len(s.languages)), "languages")]
    return '<div class="cards">' + "".join(
        f'<div class="card"><b>{escape(v)}</b><span>{escape(k)}</span></div>'
        for v, k in cards) + "</div>"


def _ranked(items: Sequence[tuple[str, int]], names: dict[str, str], what: str,
            empty: str) -> str:
    if not items:
        return f'<p class="muted">{escape(empty)}</p>'
    labelled = [(names.get(key, key), n) for key, n in items]
    return chart_bars(labelled, what)


def _todo(s: Summary) -> str:
    head = ("<h2>Not answered — a to-do list for curators</h2>"
            '<p class="muted">Questions the kiosk could not answer (did not know, asked to '
            "clarify, or judged off topic), grouped by meaning across languages. Most asked "
            "first: consider adding an answer, an alias or an FAQ entry.</p>")
    if not s.groups:
        return head + '<p class="muted">Every question was answered.</p>'
    rows = []
    for g in s.groups[:60]:
        examples = "".join(
            f'<li><span class="lang">{escape(lang or "?")}</span>{escape(text)}'
            + (f" <span class=tag>× {n}</span>" if n > 1 else "") + "</li>"
            for text, lang, n in g.examples[:6])
        more = len(g.examples) - 6
        if more > 0:
            examples += f"<li>… and {more} more phrasing(s)</li>"
        how = ", ".join(f"{OUTCOME_NAMES.get(k, k)} {n}" for k, n in g.outcomes.items())
        rows.append([str(g.count), f"<b>{escape(g.representative)}</b>"
                     f'<ul class="ex">{examples}</ul>', f'<span class="tag">{escape(how)}</span>'])
    note = ""
    if len(s.groups) > 60:
        note = f'<p class="muted">{len(s.groups) - 60} smaller group(s) not shown; see the CSV.</p>'
    return head + _table(["asked", "question (and how visitors put it)", "kiosk replied"],
                         rows, numeric=(0,)) + note


def _doubtful(s: Summary, names: dict[str, str]) -> str:
    if not s.doubtful:
        return ""
    head = (f"<h2>Answered, but not sure — worth checking</h2><p class=\"muted\">Answers given "
            f"with a confidence below {DOUBTFUL_BELOW:.2f}: often a question the content does "
            "not cover, answered from the nearest entry. Check the answer fits; if not, add "
            "the right one.</p>")
    rows = [[str(n), f'<span class="lang">{escape(lang or "?")}</span>{escape(text)}',
             escape(names.get(src, src)), f"{conf:.2f}"]
            for text, lang, src, n, conf in s.doubtful[:30]]
    return head + _table(["asked", "question", "answered from", "confidence"], rows,
                         numeric=(0, 3))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           numeric: Sequence[int] = (1,)) -> str:
    """Cells are HTML already escaped by the caller."""
    th = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _footer() -> str:
    return ('<p class="muted" style="margin-top:32px">Logged per turn: time, language, the '
            "question's text, how the kiosk replied, which work or FAQ entry, its confidence "
            "and how long each stage took. Never audio, never anything that identifies a "
            "visitor or links one question to the next.</p>")
