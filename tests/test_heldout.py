"""The answerer with the real encoders on the held-out sets, and a few behaviours on the demo.

The held-out sets (``tests/data/README.md``) were written before the answerer changed and were
never read while tuning it. Their bars are regression floors: the figures measured when the
weights were last trained (`make eval`, the closing note of issue 12), less a margin of
``MARGIN`` (wrong answers: plus ``MARGIN``). They are not the project's targets (in scope and
refusals ≥ 95 %, wrong ≤ 2 %, cross-language and follow-ups ≥ 90 %), which the answerer does not
reach yet: raise a floor when a change lifts the figure, never lower one to let a change in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.content.loader import read_pack
from kiosk.evaluation import load_questions, run_eval
from kiosk.events import AnswerKind, Question
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from tests.conftest import DATA, DEMO

pytestmark = pytest.mark.models

MARGIN = 0.03
"""Points of slack on each figure, plus one question's worth of its group (small groups)."""
HELD_OUT = {
    # name: (pack, questions)
    "demo": (DEMO, DATA / "dev" / "demo-heldout.yaml"),
    "crosslang": (DATA / "packs" / "fr-en-small", DATA / "dev" / "crosslang-heldout.yaml"),
    "sculpture-es-en": (DATA / "heldout" / "sculpture-es-en" / "pack",
                        DATA / "heldout" / "sculpture-es-en" / "questions.yaml"),
    "local-history-fr": (DATA / "heldout" / "local-history-fr" / "pack",
                         DATA / "heldout" / "local-history-fr" / "questions.yaml"),
}
MEASURED: dict[str, dict[str, float]] = {
    # shares right in scope, right refusals, wrong (of all), right cross-language, right
    # follow-ups — with the default encoder (use-multilingual-v3-int8); `make bench`, section A
    "demo": {"in_scope": 0.930, "refusals": 0.971, "wrong": 0.009, "follow_ups": 1.0},
    "crosslang": {"in_scope": 0.917, "refusals": 1.0, "wrong": 0.0, "cross_language": 0.941},
    "sculpture-es-en": {"in_scope": 0.562, "refusals": 0.907, "wrong": 0.096,
                        "cross_language": 0.744, "follow_ups": 0.579},
    "local-history-fr": {"in_scope": 0.573, "refusals": 0.833, "wrong": 0.138,
                         "cross_language": 0.594, "follow_ups": 0.455},
}


def evaluate(encoder: Any, pack: Path, *questions: Path) -> dict[str, Any]:
    content = open_content(pack, encoder)
    answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder)
    museum = content.pack.museum
    return run_eval(answerer, museum.default_language, museum.languages,
                    [q for path in questions for q in load_questions(path)],
                    pack_languages=read_pack(pack).museum.languages)


def figures(report: dict[str, Any]) -> dict[str, tuple[float | None, int]]:
    """Each figure with the number of questions it is a share of."""
    return {"in_scope": (report["in_scope"]["accuracy"], report["in_scope"]["total"]),
            "refusals": (report["refusals"]["accuracy"], report["refusals"]["total"]),
            "wrong": (report["wrong"], report["total"]),
            "cross_language": (report["cross_language"]["accuracy"],
                               report["cross_language"]["total"]),
            "follow_ups": (report["follow_ups"]["accuracy"], report["follow_ups"]["total"])}


@pytest.mark.parametrize("name", list(HELD_OUT))
def test_held_out_set_holds_its_floor(encoder: Any, name: str) -> None:
    pack, questions = HELD_OUT[name]
    got = figures(evaluate(encoder, pack, questions))
    for key, measured in MEASURED[name].items():
        value, n = got[key]
        assert value is not None and n > 0, (name, key)
        slack = MARGIN + 1 / n
        if key == "wrong":
            assert value <= measured + slack, (name, key, got)
        else:
            assert value >= measured - slack, (name, key, got)


def test_held_out_sets_are_big_and_varied() -> None:
    for name, (_pack, path) in HELD_OUT.items():
        questions = load_questions(path)
        refusals = sum(q.expect == "none" for q in questions) / len(questions)
        assert len(questions) >= (100 if name == "demo" else 15 if name == "crosslang"
                                  else 150), name
        assert refusals >= (0.2 if name != "crosslang" else 0.0), name
    for name in ("sculpture-es-en", "local-history-fr"):
        pack, path = HELD_OUT[name]
        written = set(read_pack(pack).museum.languages)
        questions = load_questions(path)
        assert sum(q.lang not in written for q in questions) / len(questions) >= 0.15, name


def test_a_language_the_pack_lacks_gets_facts_in_its_own_words(encoder: Any) -> None:
    """A fr/en pack asked in Spanish: the fact is said in the kiosk's Spanish sentence (the
    title as the pack writes it); a curated text with no Spanish is given in the pack's
    default language with a notice."""
    content = open_content(DATA / "packs" / "fr-en-small", encoder)
    answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder)
    answer = answerer.answer(Question("¿quién pintó los jugadores de cartas?", "es"))
    assert (answer.kind, answer.exhibit_id, answer.lang) == (
        AnswerKind.ANSWER, "the-card-players", "es")
    assert "Cézanne" in answer.text and answer.notice == ""
    about = answerer.answer(Question("háblame de los jugadores de cartas", "es"))
    assert (about.kind, about.exhibit_id, about.lang) == (
        AnswerKind.ANSWER, "the-card-players", "fr")
    assert about.notice.startswith("(Aún no está traducido")


@pytest.mark.parametrize(("question", "lang", "expected"), [
    ("how big is the night watch", "en", "379.5 × 453.5 cm"),
    ("quelle taille fait la laitière", "fr", "45,5 × 41 cm"),
])
def test_dimensions_are_a_fact(encoder: Any, demo: Any, question: str, lang: str,
                               expected: str) -> None:
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    answer = answerer.answer(Question(question, lang))
    assert answer.source.detail == "size"
    assert expected in answer.text


def test_no_dimensions_no_invented_size(encoder: Any, demo: Any) -> None:
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    answer = answerer.answer(Question("how big is the great wave", "en"))
    assert answer.kind is AnswerKind.UNKNOWN
    assert answer.suggestions and answer.suggestions[0].exhibit_id == \
        "the-great-wave-off-kanagawa"


@pytest.mark.parametrize(("hello", "lang"), [("bonjour", "fr"), ("hello there", "en"),
                                             ("hola, buenos días", "es")])
def test_hello_is_greeted_back_not_declined(encoder: Any, demo: Any, hello: str, lang: str) -> None:
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    answer = answerer.answer(Question(hello, lang))
    assert answer.source.detail == "greeting"
    assert answer.text == demo.pack.museum.replies["greeting"][lang]
    assert len(answer.suggestions) == 3
