"""``kiosk eval``: ask a list of questions with known answers and score the kiosk.

Each question ends in one of four outcomes:

- ``right``: answered from the expected work or FAQ entry, with the expected words; or, for a
  question the kiosk must not answer (``expect: none``), not answered;
- ``wrong``: answered, but from another source or without the expected words — or answered
  when it should have declined. Worse for a visitor than an honest "I don't know";
- ``clarified``: "which one do you mean?" (the expected work among the choices or not);
  but when a question expects several works (``expect: a|b``, "tell me about Monet" with two
  Monets), "which one?" offering only those works is ``right``, as is an answer from one of them;
- ``declined``: an honest "I don't know" to a question the content answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from kiosk.errors import ContentError, shown
from kiosk.events import Answer, AnswerKind
from kiosk.ports import Answerer
from kiosk.qa.text import fold
from kiosk.session import Session

NONE = "none"
OUTCOMES = ("right", "wrong", "clarified", "declined")


@dataclass(frozen=True)
class EvalQuestion:
    """One question of an evaluation set."""

    q: str
    """The question as a visitor would type or say it."""
    lang: str
    """Its language."""
    expect: str
    """Exhibit or FAQ id that must answer it, or ``none`` (the kiosk must decline); ids joined
    by ``|`` when any of several works answers (then "which one?" among them is right)."""
    contains: tuple[str, ...] = ()
    """Substrings the answer must hold (case- and accent-insensitive)."""
    about: str | None = None
    """The work the conversation is already about (follow-ups)."""
    tag: str = ""
    """A free label to group results (fact, faq, followup, oos...)."""

    @property
    def expected(self) -> tuple[str, ...]:
        """The ids that may answer (one, or several for ``a|b``)."""
        return tuple(self.expect.split("|"))

    def choices_right(self, works: set[str]) -> bool:
        """Whether "which one?" between ``works`` is the right reply: the question expects
        several works and every work offered is one of them."""
        return len(self.expected) >= 2 and len(works) >= 2 and works <= set(self.expected)


def load_questions(path: Path) -> list[EvalQuestion]:
    try:
        items = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    except (OSError, YAMLError, ValueError, RecursionError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else shown(exc).split("\\n")[0][:120]
        raise ContentError(f"{shown(path)}: cannot read the questions ({why}) — give a YAML "
                           "list of {q, lang, expect} items") from None
    if not isinstance(items, list):
        raise ContentError(f"{path}: expected a list of {{q, lang, expect}} items")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not {"q", "lang", "expect"} <= set(item):
            raise ContentError(f"{path}: item {i + 1} needs q, lang and expect")
        odd = [k for k in ("q", "lang", "expect", "about", "tag")
               if k in item and item[k] is not None and not isinstance(item[k], str)]
        contains = item.get("contains") or []
        if not isinstance(contains, list) or not all(isinstance(c, str) for c in contains):
            odd.append("contains")
        if odd:
            raise ContentError(f"{shown(path)}: item {i + 1}: {odd[0]!r} must be text"
                               + (" (a list of texts)" if odd[0] == "contains" else "")
                               + " — quote it")
        out.append(EvalQuestion(
            q=str(item["q"]), lang=str(item["lang"]), expect=str(item["expect"]),
            contains=tuple(str(c) for c in contains), about=item.get("about"),
            tag=str(item.get("tag", "")),
        ))
    return out


def outcome(item: EvalQuestion, answer: Answer) -> str:
    """``right``, ``wrong``, ``clarified`` or ``declined`` (see the module's docstring)."""
    answered = answer.kind is AnswerKind.ANSWER
    if item.expect == NONE:
        return "wrong" if answered else "right"
    if answer.kind is AnswerKind.CLARIFY:
        offered = {s.exhibit_id for s in answer.suggestions if s.exhibit_id}
        return "right" if item.choices_right(offered) else "clarified"
    if not answered:
        return "declined"
    text = fold(answer.text)
    right = answer.source.ref in item.expected and all(fold(c) in text for c in item.contains)
    return "right" if right else "wrong"


def _share(rows: list[dict[str, Any]], result: str = "right") -> float | None:
    return round(sum(r["outcome"] == result for r in rows) / len(rows), 4) if rows else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and shares of a group of results."""
    return {"total": len(rows), "accuracy": _share(rows), "wrong": _share(rows, "wrong"),
            "declined": _share(rows, "declined"), "clarified": _share(rows, "clarified")}


def _by(results: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for value in sorted({str(r[key]) for r in results if r[key]}):
        out[value] = summarize([r for r in results if r[key] == value])
    return out


def run_eval(answerer: Answerer, default_language: str, languages: list[str],
             questions: list[EvalQuestion],
             pack_languages: list[str] | None = None) -> dict[str, Any]:
    """Ask every question in a fresh conversation; return the report (see README).

    ``languages``: those the visitor may use; ``pack_languages``: those the content is written
    in (questions in any other language are counted as cross-language)."""
    written = set(pack_languages or languages)
    results = []
    if questions:  # one question first, so loading caches do not count as latency
        Session(default_language, languages).ask(answerer, questions[0].q, questions[0].lang)
    for item in questions:
        session = Session(default_language, languages)
        start = time.perf_counter()
        answer = session.ask(answerer, item.q, lang=item.lang, about=item.about)
        latency = (time.perf_counter() - start) * 1000
        result = outcome(item, answer)
        results.append({
            "question": item.q, "lang": item.lang, "expect": item.expect, "tag": item.tag,
            "about": item.about, "got": answer.source.ref if answer.kind is AnswerKind.ANSWER
            else None, "kind": str(answer.kind), "source": answer.source.detail,
            "confidence": answer.confidence, "answer": answer.text, "outcome": result,
            "ok": result == "right", "latency_ms": round(latency, 2),
        })
    in_scope = [r for r in results if r["expect"] != NONE]
    refusals = [r for r in results if r["expect"] == NONE]
    latencies = np.array([r["latency_ms"] for r in results]) if results else np.zeros(1)
    return {
        "total": len(results),
        "accuracy": _share(results),
        "in_scope_accuracy": _share(in_scope),
        "refusal_accuracy": _share(refusals),
        "wrong": _share(results, "wrong"),
        "in_scope": summarize(in_scope),
        "refusals": summarize(refusals),
        "cross_language": summarize([r for r in results if r["lang"] not in written]),
        "follow_ups": summarize([r for r in results if r["about"]]),
        "by_lang": _by(results, "lang"),
        "by_tag": _by(results, "tag"),
        "latency_ms": {"p50": round(float(np.percentile(latencies, 50)), 2),
                       "p95": round(float(np.percentile(latencies, 95)), 2)},
        "results": results,
    }
