"""The ``kiosk report`` command: the figures (``kiosk.insights.report``), a summary on stdout,
the page (``kiosk.insights.render``) and the CSV."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from kiosk.errors import KioskError, shown
from kiosk.insights.cluster import Encode, Group
from kiosk.insights.log import insights_dir
from kiosk.insights.render import MAX_ROWS, left_out_line, render_html
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
    _writable(output, "-o", "report.html")
    _writable(csv_path, "--csv", "turns.csv")
    folder = insights_dir(data)
    turns = read_turns(folder, start, warn=lambda line: print(line, file=sys.stderr))
    groups: list[Group] = []
    if any(unanswered(t) for t in turns):
        if encode is None:
            from kiosk.qa.encoder import encoder_ids, load_encoder

            encode = load_encoder(data, encoder_ids(settings.models.encoder)[0]).encode
        groups = unanswered_groups(turns, encode)
    summary = summarise(turns, groups)
    if summary.left_out:
        print(f"insights: {left_out_line(summary)}", file=sys.stderr)
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
        _write(output, "-o", lambda path: path.write_text(page, encoding="utf-8"))
        print(f"report written to {output}")
    if csv_path is not None:
        _write(csv_path, "--csv", lambda path: write_csv(turns, path))
        print(f"{len(turns)} turn(s) written to {csv_path}")
    return 0


def _writable(path: Path | None, option: str, example: str) -> None:
    """Refuse at once, in one line saying what to do, an output path that cannot be written
    (before the encoder loads and the figures are made)."""
    if path is None:
        return
    try:
        if path.is_dir():
            raise KioskError(f"{option} {path} is a folder — give a file name, e.g. "
                             f"{option} {path / example}")
        folder = path.parent
        if not folder.is_dir():
            raise KioskError(f"{option} {path}: there is no folder {folder} — create it or "
                             "give a path in an existing folder")
        if not os.access(path if path.exists() else folder, os.W_OK):
            raise KioskError(f"{option} {path}: not allowed to write there — give a path in a "
                             "folder you can write to")
    except OSError as exc:
        raise KioskError(f"{option} {path}: cannot use it ({exc.strerror or exc}) — give a "
                         "path in a folder you can write to") from exc


def _write(path: Path, option: str, write: Callable[[Path], object]) -> None:
    """Write one output; a failing disk or path is one line saying what to do."""
    try:
        write(path)
    except OSError as exc:
        raise KioskError(f"{option} {path}: cannot write it ({exc.strerror or exc}) — give a "
                         "path in a folder you can write to, on a disk with room") from exc


def _print_summary(s: Summary) -> None:
    rate = "—" if s.answer_rate is None else f"{s.answer_rate * 100:.0f} %"
    print(f"{s.first} → {s.last}: {s.questions} question(s), answered {rate}; "
          + ", ".join(f"{k} {n}" for k, n in s.outcomes.items() if k != "answer"))
    languages = list(s.languages.items())
    more = f", … and {len(languages) - MAX_ROWS} more" if len(languages) > MAX_ROWS else ""
    print("languages: " + ", ".join(f"{shown(k)} {n}" for k, n in languages[:MAX_ROWS]) + more)
    if s.exhibits:
        print("most asked: " + ", ".join(f"{shown(k)} {n}" for k, n in s.exhibits[:5]))
    for g in s.groups[:10]:
        print(f"  {g.count:4d} × {shown(g.representative)}")
