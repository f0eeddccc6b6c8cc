"""`kiosk eval`: score the kiosk on questions with known answers, printed as a table (with
``--failures``, every wrong result) or the whole report as JSON.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kiosk.commands.common import data_dir, read_settings


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def main(args: argparse.Namespace) -> int:
    from kiosk.assembly import assemble
    from kiosk.evaluation import load_questions, run_eval, summarize

    settings = read_settings(args)
    kiosk = assemble(settings, data_dir(args), args.content)
    questions = load_questions(args.questions)
    museum = kiosk.content.pack.museum
    report = run_eval(kiosk.answerer, museum.default_language, kiosk.languages, questions,
                      pack_languages=museum.languages)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    table = Table("measure", "right", "wrong", "declined", "clarified",
                  title=f"kiosk eval — {args.questions.name} on {kiosk.content.label}", box=None)

    def row(label: str, part: dict[str, Any]) -> None:
        if part["total"]:
            table.add_row(f"{label} ({part['total']})", _pct(part["accuracy"]),
                          _pct(part["wrong"]), _pct(part["declined"]), _pct(part["clarified"]))

    row("all questions", summarize(report["results"]))
    row("in scope", report["in_scope"])
    row("must decline", report["refusals"])
    row("cross-language", report["cross_language"])
    row("follow-ups", report["follow_ups"])
    for lang, part in report["by_lang"].items():
        row(f"  {lang}", part)
    for tag, part in report["by_tag"].items():
        row(f"  tag {tag}", part)
    console.print(table)
    console.print(f"latency p50 / p95: {report['latency_ms']['p50']} / "
                  f"{report['latency_ms']['p95']} ms", markup=False)
    if args.failures:
        for r in report["results"]:
            if not r["ok"]:
                console.print(f"✗ {r['outcome']} [{r['lang']}] {r['question']!r} "
                              f"expect={r['expect']} got={r['got']} ({r['kind']}, {r['source']}, "
                              f"{r['confidence']}) → {r['answer'][:80]!r}", markup=False)
    return 0
