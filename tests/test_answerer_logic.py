"""The answerer's logic with the model-free HashingEncoder (no model needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from kiosk.content.loader import read_pack
from kiosk.events import AnswerKind, Question, SourceKind
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.index import build_units, encode_units
from kiosk.session import Session
from kiosk.testing import HashingEncoder
from tests.packs import MILKMAID, make_pack


def answerer_for(root: Path, weights: Any, today: dt.date | None = None) -> KioskAnswerer:
    pack = read_pack(root)
    encoder = HashingEncoder()
    units = build_units(pack)
    return KioskAnswerer(pack, units, encode_units(units, encoder), encoder, today=today,
                         weights=weights)


@pytest.fixture
def answerer(tmp_path: Path, hashing_weights: Any) -> KioskAnswerer:
    return answerer_for(make_pack(tmp_path), hashing_weights)


@pytest.mark.parametrize(("question", "lang", "text"), [
    ("who painted the milkmaid", "en", "The Milkmaid is by Johannes Vermeer."),
    ("qui a peint la laitière", "fr", "La Laitière est une œuvre de Johannes Vermeer."),
    ("quién pintó la lechera", "es", "La lechera es obra de Johannes Vermeer."),
    ("dans quelle salle est la grande vague", "fr", "La Grande Vague de Kanagawa se trouve en "
                                                    "Salle 6."),
])
def test_fact_answers_come_from_fields(answerer: KioskAnswerer, question: str, lang: str,
                                       text: str) -> None:
    answer = answerer.answer(Question(question, lang))
    assert answer.kind is AnswerKind.ANSWER
    assert answer.text == text
    assert answer.source.kind is SourceKind.FACT
    assert answer.lang == lang


def test_misspelled_title_is_still_found(answerer: KioskAnswerer) -> None:
    answer = answerer.answer(Question("who painted the milkmeid", "en"))
    assert answer.exhibit_id == "the-milkmaid"


def test_follow_up_uses_the_conversation(answerer: KioskAnswerer) -> None:
    session = Session("fr", ["fr", "en", "es"])
    first = session.ask(answerer, "who painted the great wave", "en")
    assert first.exhibit_id == "the-great-wave"
    follow = session.ask(answerer, "what year is it from", "en")
    assert follow.exhibit_id == "the-great-wave"
    assert "1831" in follow.text
    session.reset()
    assert session.current_exhibit is None and session.history == []
    assert session.ask(answerer, "what year is it from", "en").kind is not AnswerKind.ANSWER


def test_missing_translation_falls_back_with_notice(tmp_path: Path,
                                                     hashing_weights: Any) -> None:
    root = make_pack(tmp_path)
    answerer = answerer_for(root, hashing_weights)
    # the kiosk's sentence is German; the title is quoted as written (here in French, the
    # pack's default); a room name missing in German is given in French, with a notice
    artist = answerer.answer(Question("wer hat the milkmaid gemalt", "de"))
    assert artist.kind is AnswerKind.ANSWER
    assert (artist.text, artist.lang, artist.notice) == (
        "La Laitière ist von Johannes Vermeer.", "de", "")
    room = answerer.answer(Question("in welchem raum ist the milkmaid", "de"))
    assert (room.text, room.lang) == ("La Laitière ist in Salle 3.", "de")
    assert room.notice == "(Noch nicht übersetzt — hier auf Französisch.)"


def test_curated_answer_in_the_visitors_language(answerer: KioskAnswerer) -> None:
    answer = answerer.answer(Question("¿Qué prepara la criada?", "es"))  # as curated
    assert answer.kind is AnswerKind.ANSWER
    assert answer.source.kind is SourceKind.QA
    assert answer.text == "Probablemente un pudín de pan."


def test_faq(answerer: KioskAnswerer) -> None:
    answer = answerer.answer(Question("où sont les toilettes", "fr"))
    assert answer.source.faq_id == "toilets"
    assert answer.source.ref == "toilets"


def test_ambiguous_artist_asks_which(tmp_path: Path, hashing_weights: Any) -> None:
    second = MILKMAID.replace("La Laitière", "La Dentellière").replace(
        "The Milkmaid", "The Lacemaker").replace("La lechera", "La encajera")
    answerer = answerer_for(make_pack(tmp_path, {"exhibits/the-lacemaker.yaml": second}),
                            hashing_weights)
    answer = answerer.answer(Question("when did vermeer paint it", "en"))
    assert answer.kind is AnswerKind.CLARIFY
    assert {s.exhibit_id for s in answer.suggestions} == {"the-milkmaid", "the-lacemaker"}
    # choosing a work asks the visitor's own question again, about that work
    assert {s.question for s in answer.suggestions} == {"when did vermeer paint it"}


def test_exhibition_dates_hide_works_not_on_view(tmp_path: Path,
                                                  hashing_weights: Any) -> None:
    root = make_pack(tmp_path, {"exhibits/the-milkmaid.yaml": MILKMAID
                                + "on_view: {from: 2030-01-01, until: 2030-03-01}\n"})
    before = answerer_for(root, hashing_weights, today=dt.date(2029, 12, 31))
    during = answerer_for(root, hashing_weights, today=dt.date(2030, 2, 1))
    q = Question("who painted the milkmaid", "en")
    assert before.answer(q).exhibit_id is None
    assert during.answer(q).exhibit_id == "the-milkmaid"


def test_empty_question_is_declined(answerer: KioskAnswerer) -> None:
    answer = answerer.answer(Question("  ?! ", "en"))
    assert answer.kind is AnswerKind.UNKNOWN
    assert answer.text == "I don't know."
    assert len(answer.suggestions) >= 1
