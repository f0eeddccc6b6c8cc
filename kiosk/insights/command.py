"""The ``kiosk report`` command: the figures (``kiosk.insights.report``), a summary on stdout,
the page (``kiosk.insights.render``) and the CSV."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.insights.cluster import Encode, Group
from kiosk.insights.log import insights_dir
from kiosk.insights.render import render_html
from kiosk.insights.report import (
    Summary,
    read_turns,
    summarise,
    titles,
    unanswered,
    unanswered_groups,
    write_csv,
)
from kiosk.paths import DataDir
from kiosk.settings import Settings


def run_report(settings: Settings, data: DataDir, since: str | None, output: Path | None,
               csv_path: Path | None, encode: Encode | None = None,
               now: datetime | None = None) -> int:
    """The ``kiosk report`` command: a summary on stdout, the HTML page and the CSV if asked."""
    try:
        start = date.fromisoformat(since) if since else None
    except ValueError:
        raise KioskError(f"--since {since!r} is not a date — write it as YYYY-MM-DD, "
                         "e.g. 2025-03-01") from None
    folder = insights_dir(data)
    turns = read_turns(folder, start, warn=lambda line: print(line, file=sys.stderr))
    groups: list[Group] = []
    if any(unanswered(t) for t in turns):
        if encode is None:
            from kiosk.qa.encoder import encoder_ids, load_encoder

            encode = load_encoder(data, encoder_ids(settings.models.encoder)[0]).encode
        groups = unanswered_groups(turns, encode)
    summary = summarise(turns, groups)
    period = f"since {start.isoformat()}" if start else f"in {folder}"
    if not turns:
        print(f"kiosk report: no turns logged {period}"
              + ("" if settings.insights.enabled else " (logging is off: [insights] enabled)"))
    else:
        _print_summary(summary)
    if output is not None:
        page = render_html(summary, titles(data), period=period,
                           generated=now or datetime.now().astimezone(),
                           retention_days=settings.insights.retention_days)
        output.write_text(page, encoding="utf-8")
        print(f"report written to {output}")
    if csv_path is not None:
        write_csv(turns, csv_path)
        print(f"{len(turns)} turn(s) written to {csv_path}")
    return 0


def _print_summary(s: Summary) -> None:
    rate = "—" if s.answer_rate is None else f"{s.answer_rate * 100:.0f} %"
    print(f"{s.first} → {s.last}: {s.questions} question(s), answered {rate}; "
          + ", ".join(f"{k} {n}" for k, n in s.outcomes.items() if k != "answer"))
    print("languages: " + ", ".join(f"{k} {n}" for k, n in s.languages.items()))
    if s.exhibits:
        print("most asked: " + ", ".join(f"{k} {n}" for k, n in s.exhibits[:5]))
    for g in s.groups[:10]:
        print(f"  {g.count:4d} × {g.representative}")
