"""``kiosk eval``: ask a list of questions with known answers and score the kiosk."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from kiosk.errors import ContentError
from kiosk.events import AnswerKind
from kiosk.ports import Answerer
from kiosk.qa.text import fold
from kiosk.session import Session

NONE = "none"


@dataclass(frozen=True)
class EvalQuestion:
    """One question of an evaluation set."""

    q: str
    """The question as a visitor would type or say it."""
    lang: str
    """Its language."""
    expect: str
    """Exhibit or FAQ id that must answer it, or ``none`` (the kiosk must decline)."""
    contains: tuple[str, ...] = ()
    """Substrings the answer must hold (case- and accent-insensitive)."""
    about: str | None = None
    """The work the conversation is already about (follow-ups)."""
    tag: str = ""
    """A free label to group results (fact, faq, followup, oos...)."""


def load_questions(path: Path) -> list[EvalQuestion]:
    try:
        items = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ContentError(f"{path}: cannot read the questions ({exc})") from exc
    if not isinstance(items, list):
        raise ContentError(f"{path}: expected a list of {{q, lang, expect}} items")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not {"q", "lang", "expect"} <= set(item):
            raise ContentError(f"{path}: item {i + 1} needs q, lang and expect")
        contains = item.get("contains") or []
        out.append(EvalQuestion(
            q=str(item["q"]), lang=str(item["lang"]), expect=str(item["expect"]),
            contains=tuple(str(c) for c in contains), about=item.get("about"),
            tag=str(item.get("tag", "")),
        ))
    return out


def _share(rows: list[dict[str, Any]]) -> float | None:
    return round(sum(r["ok"] for r in rows) / len(rows), 4) if rows else None


def _by(results: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for value in sorted({str(r[key]) for r in results if r[key]}):
        rows = [r for r in results if r[key] == value]
        out[value] = {"total": len(rows), "accuracy": _share(rows)}
    return out


def run_eval(answerer: Answerer, default_language: str, languages: list[str],
             questions: list[EvalQuestion]) -> dict[str, Any]:
    """Ask every question in a fresh conversation; return the report (see README)."""
    results = []
    if questions:  # one question first, so loading caches do not count as latency
        Session(default_language, languages).ask(answerer, questions[0].q, questions[0].lang)
    for item in questions:
        session = Session(default_language, languages)
        start = time.perf_counter()
        answer = session.ask(answerer, item.q, lang=item.lang, about=item.about)
        latency = (time.perf_counter() - start) * 1000
        got = answer.source.ref if answer.kind is AnswerKind.ANSWER else None
        if item.expect == NONE:
            ok = answer.kind is not AnswerKind.ANSWER
        else:
            text = fold(answer.text)
            ok = got == item.expect and all(fold(c) in text for c in item.contains)
        results.append({
            "question": item.q, "lang": item.lang, "expect": item.expect, "tag": item.tag,
            "about": item.about, "got": got, "kind": str(answer.kind),
            "source": answer.source.detail, "confidence": answer.confidence,
            "answer": answer.text, "ok": ok, "latency_ms": round(latency, 2),
        })
    in_scope = [r for r in results if r["expect"] != NONE]
    refusals = [r for r in results if r["expect"] == NONE]
    latencies = np.array([r["latency_ms"] for r in results]) if results else np.zeros(1)
    return {
        "total": len(results),
        "accuracy": _share(results),
        "in_scope_accuracy": _share(in_scope),
        "refusal_accuracy": _share(refusals),
        "by_lang": _by(results, "lang"),
        "by_tag": _by(results, "tag"),
        "latency_ms": {"p50": round(float(np.percentile(latencies, 50)), 2),
                       "p95": round(float(np.percentile(latencies, 95)), 2)},
        "results": results,
    }
