"""Exhibition dates and priorities with the real answerer and the real encoder.

A work is offered only between its `on_view` days (both included), by the kiosk's clock; a
question naming a work not on view gets an honest "not on view at the moment", never an answer
about it or about another work. A higher priority wins a near tie and comes first in choices.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kiosk.events import AnswerKind, Question
from kiosk.ports import Encoder
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from tests.packs import MILKMAID, WAVE, make_pack

pytestmark = pytest.mark.models

FROM, UNTIL = dt.date(2030, 1, 15), dt.date(2030, 3, 31)
SHOW = f"on_view: {{from: {FROM.isoformat()}, until: {UNTIL.isoformat()}}}\n"
LACEMAKER = """\
title: {fr: "La Dentellière", en: "The Lacemaker", es: "La encajera"}
artist: Johannes Vermeer
date: {fr: "vers 1670", en: "about 1670", es: "hacia 1670"}
medium: {fr: "huile sur toile", en: "oil on canvas", es: "óleo sobre lienzo"}
room: {fr: "Salle 4", en: "Room 4", es: "Sala 4"}
priority: 0
description:
  fr: "Une jeune femme penchée sur son ouvrage tient des fuseaux. Des fils rouges débordent."
  en: "A young woman bent over her work holds bobbins. Red threads spill from a cushion."
  es: "Una joven inclinada sobre su labor sostiene unos bolillos. Unos hilos rojos asoman."
"""


def answerer(root: Path, encoder: Encoder, today: dt.date | None) -> KioskAnswerer:
    content = open_content(root, encoder)
    return KioskAnswerer(content.pack, content.units, content.vectors, encoder, today=today)


def offered(answer_: object) -> set[str | None]:
    """Every work an answer is about or offers (source, suggestions, choices)."""
    return {answer_.exhibit_id} | {s.exhibit_id for s in answer_.suggestions}  # type: ignore


QUESTIONS = [("who painted the milkmaid", "en"), ("qui a peint la laitière", "fr"),
             ("what is the maid making", "en"), ("¿qué prepara la criada?", "es"),
             ("when did vermeer paint it", "en"), ("the milkmaid", "en"), ("hello", "en"),
             ("tell me about a painting", "en"), ("where is it", "en")]


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pack(tmp_path_factory.mktemp("dated"), {
        "exhibits/the-milkmaid.yaml": MILKMAID + SHOW,
        "exhibits/the-lacemaker.yaml": LACEMAKER,
    })


@pytest.mark.parametrize("today", [FROM - dt.timedelta(days=1), UNTIL + dt.timedelta(days=1)])
def test_a_work_off_view_is_never_answered_suggested_or_offered(
        dated: Path, encoder: Encoder, today: dt.date) -> None:
    kiosk = answerer(dated, encoder, today)
    for text, lang in QUESTIONS:
        answer = kiosk.answer(Question(text, lang))
        assert "the-milkmaid" not in offered(answer), (text, answer)
        assert "bread pudding" not in answer.text.lower()
    # a conversation about it (it went off view meanwhile) does not carry on
    follow = kiosk.answer(Question("when was it made", "en"), about="the-milkmaid")
    assert "the-milkmaid" not in offered(follow) and "1658" not in follow.text


@pytest.mark.parametrize(("text", "lang", "reply"), [
    ("who painted the milkmaid", "en", "“The Milkmaid” is not on view at the moment."),
    ("the milkmaid?", "en", "“The Milkmaid” is not on view at the moment."),
    ("qui a peint la laitière", "fr", "L'œuvre « La Laitière » n'est pas exposée en ce moment."),
    ("¿dónde está la lechera?", "es", "La obra «La lechera» no está expuesta en este momento."),
])
def test_naming_a_work_off_view_gets_an_honest_reply(dated: Path, encoder: Encoder, text: str,
                                                     lang: str, reply: str) -> None:
    answer = answerer(dated, encoder, UNTIL + dt.timedelta(days=1)).answer(Question(text, lang))
    assert answer.kind is AnswerKind.UNKNOWN
    assert (answer.text, answer.source.detail, answer.exhibit_id) == (reply, "not_on_view", None)
    # offers works that are on view instead
    assert {s.exhibit_id for s in answer.suggestions} == {"the-lacemaker", "the-great-wave"}


@pytest.mark.parametrize("today", [FROM, UNTIL, FROM + dt.timedelta(days=30)])
def test_on_view_from_the_first_to_the_last_day_included(dated: Path, encoder: Encoder,
                                                         today: dt.date) -> None:
    kiosk = answerer(dated, encoder, today)
    who = kiosk.answer(Question("who painted the milkmaid", "en"))
    assert (who.kind, who.exhibit_id, who.text) == (
        AnswerKind.ANSWER, "the-milkmaid", "The Milkmaid is by Johannes Vermeer.")
    making = kiosk.answer(Question("what is the maid making", "en"))
    assert making.exhibit_id == "the-milkmaid" and making.text == "Probably a bread pudding."
    bare = kiosk.answer(Question("the milkmaid", "en"))
    assert (bare.kind, bare.exhibit_id) == (AnswerKind.ANSWER, "the-milkmaid")


def test_today_comes_from_the_kiosks_clock(tmp_path: Path, encoder: Encoder) -> None:
    today = dt.date.today()
    day = dt.timedelta(days=1)
    root = make_pack(tmp_path, {
        "exhibits/the-milkmaid.yaml":
            MILKMAID + f"on_view: {{from: {(today + day).isoformat()}}}\n",
        "exhibits/the-great-wave.yaml": WAVE + f"on_view: {{until: {(today - day).isoformat()}}}\n",
        "exhibits/the-lacemaker.yaml": LACEMAKER + f"on_view: {{from: {today.isoformat()}, "
                                                   f"until: {today.isoformat()}}}\n",
    })
    kiosk = answerer(root, encoder, None)  # no date given: the real one
    assert kiosk.answer(Question("who painted the lacemaker", "en")).exhibit_id == "the-lacemaker"
    for text in ("who painted the milkmaid", "who made the great wave"):
        answer = kiosk.answer(Question(text, "en"))
        assert answer.source.detail == "not_on_view", text
    # the answerer works out what is on view again when the day changes (a kiosk left running)
    kiosk.today = today + day
    assert kiosk.answer(Question("who painted the milkmaid", "en")).exhibit_id == "the-milkmaid"
    assert kiosk.answer(Question("who painted the lacemaker", "en")).source.detail == \
        "not_on_view"


TWIN_QA = """\
qa:
  - questions:
      fr: ["Pourquoi y a-t-il un chien dans le tableau ?"]
      en: ["Why is there a dog in the painting?"]
      es: ["¿Por qué hay un perro en el cuadro?"]
    answer:
      fr: "Le chien de {who}."
      en: "It is {who}'s dog."
      es: "Es el perro de {who}."
"""


def twins(root: Path, wave: int, lacemaker: int) -> Path:
    """Two works by different artists with the same curated question (a near tie)."""
    wave_text = WAVE + f"priority: {wave}\n" + TWIN_QA.format(who="Hokusai")
    lace = LACEMAKER.replace("priority: 0", f"priority: {lacemaker}") + \
        TWIN_QA.format(who="Vermeer")
    return make_pack(root, {"exhibits/the-great-wave.yaml": wave_text,
                            "exhibits/the-lacemaker.yaml": lace})


@pytest.mark.parametrize(("wave", "lacemaker", "winner"), [
    (10, 0, "the-great-wave"), (0, 10, "the-lacemaker")])
def test_higher_priority_wins_a_near_tie(tmp_path: Path, encoder: Encoder, wave: int,
                                         lacemaker: int, winner: str) -> None:
    kiosk = answerer(twins(tmp_path, wave, lacemaker), encoder, None)
    answer = kiosk.answer(Question("why is there a dog in the painting", "en"))
    # the prior weighs in (kiosk/qa/scorer.py, PRIORITY_LOGIT): the higher-priority work is
    # answered, or, when the scorer still finds both likely, offered first
    assert answer.kind in (AnswerKind.ANSWER, AnswerKind.CLARIFY)
    first = answer.exhibit_id if answer.kind is AnswerKind.ANSWER else \
        answer.suggestions[0].exhibit_id
    assert first == winner
    top = kiosk.answer(Question("hello", "en")).suggestions
    assert top[0].exhibit_id == winner


def test_equal_priorities_ask_which_with_the_higher_first(tmp_path: Path,
                                                          encoder: Encoder) -> None:
    for wave, lacemaker, first in ((1, 1, None), (2, 1, "the-great-wave"),
                                   (1, 2, "the-lacemaker")):
        kiosk = answerer(twins(tmp_path / f"{wave}{lacemaker}", wave, lacemaker), encoder, None)
        answer = kiosk.answer(Question("why is there a dog in the painting", "en"))
        assert answer.kind is AnswerKind.CLARIFY
        choices = [s.exhibit_id for s in answer.suggestions]
        assert set(choices) == {"the-great-wave", "the-lacemaker"}
        if first:
            assert choices[0] == first
