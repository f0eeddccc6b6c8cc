"""The answerer's parts without a model: the decision policy, the sources and their features,
lexical matching and the question-word cues (model-free HashingEncoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.content.loader import read_pack
from kiosk.events import Question, SourceKind
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.cues import Cues
from kiosk.qa.index import build_units, encode_units
from kiosk.qa.intents import load_table
from kiosk.qa.lexical import Lexicon
from kiosk.qa.policy import ANSWER, CLARIFY, DECLINE, Thresholds, decide
from kiosk.qa.sources import Candidate, feature_names
from kiosk.testing import HashingEncoder
from tests.packs import make_pack

T = Thresholds(answer=0.5, clarify=0.3)
FACT, QA, FAQ, DESCRIPTION = SourceKind.FACT, SourceKind.QA, SourceKind.FAQ, SourceKind.DESCRIPTION


def cand(kind: SourceKind, ref: str, item: int | str = 0) -> Candidate:
    return Candidate(kind, ref, item)


def test_a_clear_best_is_answered() -> None:
    cands = [cand(FACT, "a", "artist"), cand(DESCRIPTION, "a", 2), cand(FAQ, "toilets")]
    d = decide(cands, np.array([0.7, 0.1, 0.05]), T)
    assert (d.action, d.best, d.probability) == (ANSWER, 0, 0.7)


def test_two_likely_works_ask_which_one() -> None:
    cands = [cand(FACT, "a", "date"), cand(FACT, "b", "date"), cand(DESCRIPTION, "a", 1)]
    d = decide(cands, np.array([0.35, 0.4, 0.05]), T)
    assert d.action == CLARIFY and d.works == ("b", "a")


def test_practical_entries_are_not_works_to_choose_between() -> None:
    cands = [cand(FAQ, "toilets"), cand(FAQ, "cafe")]
    assert decide(cands, np.array([0.45, 0.4]), T).action == DECLINE


def test_nothing_likely_enough_is_declined() -> None:
    cands = [cand(QA, "a", 0), cand(DESCRIPTION, "b", 3)]
    assert decide(cands, np.array([0.3, 0.2]), T).action == DECLINE
    assert decide([], np.zeros(0), T).action == DECLINE


def test_work_mass_sums_a_works_candidates() -> None:
    """Several candidates about one work are one work, not a reason to ask 'which one?'."""
    cands = [cand(FACT, "a", "artist"), cand(QA, "a", 0), cand(DESCRIPTION, "b", 0)]
    d = decide(cands, np.array([0.55, 0.3, 0.1]), T)
    assert d.action == ANSWER and d.best == 0


@pytest.fixture
def answerer(tmp_path: Path, hashing_weights: Any) -> KioskAnswerer:
    pack = read_pack(make_pack(tmp_path))
    encoder = HashingEncoder()
    units = build_units(pack)
    return KioskAnswerer(pack, units, encode_units(units, encoder), encoder,
                         weights=hashing_weights)


def test_sources_propose_every_kind_with_finite_features(answerer: KioskAnswerer) -> None:
    ev = answerer.explain(Question("who painted the milkmaid", "en"))
    kinds = {(c.kind, c.ref) for c in ev.candidates}
    assert (SourceKind.FACT, "the-milkmaid") in kinds
    assert (SourceKind.DESCRIPTION, "the-milkmaid") in kinds
    assert (SourceKind.FAQ, "toilets") in kinds
    names = feature_names(["hashing"])
    for c in ev.candidates:
        assert c.features.shape == (len(names),) and np.isfinite(c.features).all()
    named = names.index("named")
    facts = [c for c in ev.candidates if c.kind is SourceKind.FACT and c.ref == "the-milkmaid"]
    assert {c.item for c in facts} >= {"artist", "date", "medium", "room", "title"}
    assert all(c.features[named] == 1.0 for c in facts)
    assert abs(float(ev.probabilities.sum()) + ev.none - 1.0) < 1e-9


def test_follow_up_and_room_make_a_work_the_subject(tmp_path: Path,
                                                    hashing_weights: Any) -> None:
    pack = read_pack(make_pack(tmp_path))
    encoder = HashingEncoder()
    units = build_units(pack)
    vectors = encode_units(units, encoder)
    plain = KioskAnswerer(pack, units, vectors, encoder, weights=hashing_weights)
    assert plain.explain(Question("when was it made", "en")).analysis.subjects == {}
    follow = plain.explain(Question("when was it made", "en"), about="the-great-wave")
    assert follow.analysis.subjects["the-great-wave"].context == 1.0
    here = KioskAnswerer(pack, units, vectors, encoder, weights=hashing_weights,
                         room="salle 3")
    subject = here.explain(Question("when was it made", "en")).analysis.subjects
    assert subject["the-milkmaid"].room == 1.0


def test_sentences_are_quoted_whole_with_tell_me_more(answerer: KioskAnswerer) -> None:
    ex = answerer.exhibits["the-milkmaid"]
    answer = answerer.replies.sentence("en", ex, 0, "en", 0.9)
    assert answer.text == "A maid pours milk into a pot."
    assert answer.source.detail == "description[0]"
    assert answer.suggestions[0].label == "Tell me more"


def test_lexicon_forgives_spelling_and_weighs_rare_words() -> None:
    lex = Lexicon([[("Deux figures ailées portent le corps.", "fr")],
                   [("Le corps est en bronze.", "fr")]])
    terms = lex.terms("c'est qui les deux bonshommes avec des ailes", "fr", frozenset())
    share, missing = lex.overlap(terms, np.array([0, 1]))
    assert share[0] > share[1] and missing[0] < missing[1]
    assert any("ailee" in t.stems for t in terms if t.word == "ailes")


@pytest.mark.parametrize(("question", "asked"), [
    ("who found it", "who"), ("quién lo encontró", "who"), ("où est-il", "where"),
    ("il est ou", ""), ("en quelle année a-t-il été fait", "when"),
    ("combien de pièces", "how_many"), ("why is she sad", ""),
])
def test_question_words(question: str, asked: str) -> None:
    assert Cues(load_table()).asked(question) == asked


def test_answer_kinds_held_by_a_text() -> None:
    cues = Cues(load_table())
    assert cues.holds("when", "It was found in 1992 by a farmer.")
    assert cues.holds("when", "Peint au XVIIe siècle.")
    assert not cues.holds("when", "It was found by a farmer.")
    assert cues.holds("who", "It was found by the farmer Eric Lawes.")
    assert cues.holds("how_many", "Il compte deux mille pièces.")


def test_how_visitors_ask_counts_in_any_form(answerer: KioskAnswerer) -> None:
    """'parlez' is asking like 'parle' (the intents' examples): never a title's own word, nor
    a word new to the content."""
    reader = answerer.reader
    assert reader.asking("parle") and reader.asking("parlez") and reader.asking("paintings")
    assert not reader.asking("patatas") and not reader.asking("par")
    assert answerer.explain(Question("parlez-moi de la laitière", "fr")).analysis.novelty == 0


@pytest.mark.parametrize(("question", "first"), [
    ("did vermeer have children", "the-milkmaid"),
    ("did hokusai have children", "the-great-wave"),
])
def test_a_decline_offers_the_works_of_the_artist_named_first(tmp_path: Path,
                                                             hashing_weights: Any,
                                                             question: str, first: str) -> None:
    from kiosk.settings import QaSettings

    pack = read_pack(make_pack(tmp_path))
    encoder = HashingEncoder()
    units = build_units(pack)
    never = QaSettings(answer_probability=0.9999, clarify_probability=0.9999)  # always declines
    answerer = KioskAnswerer(pack, units, encode_units(units, encoder), encoder, never,
                             weights=hashing_weights)
    answer = answerer.answer(Question(question, "en"))
    assert answer.kind.value == "unknown"
    assert answer.suggestions[0].exhibit_id == first, answer.suggestions


def test_weights_trained_for_other_features_are_refused_in_one_line(
        tmp_path: Path, hashing_weights: Any) -> None:
    import dataclasses

    from kiosk.errors import ModelError

    pack = read_pack(make_pack(tmp_path))
    encoder = HashingEncoder()
    units = build_units(pack)
    older = dataclasses.replace(hashing_weights, features=hashing_weights.features[:-1])
    with pytest.raises(ModelError, match="run `make weights`") as info:
        KioskAnswerer(pack, units, encode_units(units, encoder), encoder, weights=older)
    assert "\n" not in str(info.value)
