"""`kiosk eval`: score the kiosk on questions with known answers, printed as a table (with
``--failures``, every wrong result) or the whole report as JSON.
"""

from __future__ import annotations

import argparse
import json

from kiosk.cli import _data, _settings


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _eval(args: argparse.Namespace) -> int:
    from kiosk.evaluation import load_questions, run_eval
    from kiosk.runtime import open_answerer

    settings = _settings(args)
    answerer, content = open_answerer(settings, _data(args), args.content)
    questions = load_questions(args.questions)
    museum = content.pack.museum
    report = run_eval(answerer, museum.default_language,
                      sorted({*museum.languages, "fr", "en", "es"}), questions)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    table = Table("measure", "value", title=f"kiosk eval — {args.questions.name} on "
                  f"{content.label}", box=None)
    table.add_row("questions", str(report["total"]))
    table.add_row("accuracy", _pct(report["accuracy"]))
    table.add_row("in-scope accuracy", _pct(report["in_scope_accuracy"]))
    table.add_row("refusal accuracy", _pct(report["refusal_accuracy"]))
    for lang, row in report["by_lang"].items():
        table.add_row(f"  {lang}", f"{_pct(row['accuracy'])} of {row['total']}")
    for tag, row in report["by_tag"].items():
        table.add_row(f"  tag {tag}", f"{_pct(row['accuracy'])} of {row['total']}")
    table.add_row("latency p50 / p95", f"{report['latency_ms']['p50']} / "
                  f"{report['latency_ms']['p95']} ms")
    console.print(table)
    if args.failures:
        for r in report["results"]:
            if not r["ok"]:
                console.print(f"✗ [{r['lang']}] {r['question']!r} expect={r['expect']} "
                              f"got={r['got']} ({r['kind']}, {r['source']}, "
                              f"{r['confidence']}) → {r['answer'][:80]!r}", markup=False)
    return 0
