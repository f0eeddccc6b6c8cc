"""Choose an answer, a "which one do you mean?" or an honest "I don't know" — never an invented
one.

The question is read once (``analysis.py``: vectors, names, the conversation's and the room's
works, intents); every source proposes candidates with the same features (``sources.py``); one
learned scorer turns them into probabilities (``scorer.py``); two thresholds decide
(``policy.py``); ``replies.py`` words the result. Besides the scorer's weights and thresholds,
the few constants left are listed in ``docs/ANSWERER.md``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kiosk import limits
from kiosk.content.model import Exhibit, Pack
from kiosk.errors import ModelError
from kiosk.events import Answer, Question, SourceKind
from kiosk.ports import Encoder, Vectors
from kiosk.qa.analysis import Analysis, Reader, Space, known_words
from kiosk.qa.encoder import split
from kiosk.qa.index import Unit
from kiosk.qa.intents import FACTS, GREETING, MORE, OUT_OF_SCOPE, Intents
from kiosk.qa.names import NameIndex, artist_names
from kiosk.qa.policy import ANSWER, CLARIFY, Decision, Thresholds, decide
from kiosk.qa.replies import Replies
from kiosk.qa.scorer import Weights, load_weights
from kiosk.qa.sources import Candidate, Sources, feature_names
from kiosk.qa.text import fold, words
from kiosk.settings import QaSettings

log = logging.getLogger(__name__)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LAST_WORD = re.compile(r"\s+\S*$")

REPLY_MATCH = 0.75
"""Least similarity to a built-in hello (or "tell me more") for the kiosk to take the question
as one: it only changes the wording of a reply, never whether something is answered."""


def encoder_key(model_id: str) -> str:
    """The short name of an encoder in feature names and weight files (``use``, ``e5``)."""
    return model_id.split("-")[0]


def admitted(question: Question) -> Question:
    """The question as the answerer reads it: at most ``[limits] question_chars`` characters
    (more than any visitor says or types; reading costs memory and time with the length), cut
    at a word boundary, and logged), and no lone surrogate (what Python makes of bytes that are
    not UTF-8), which no encoder can take: each becomes U+FFFD."""
    text = _LONE_SURROGATE.sub("\ufffd", question.text)
    most = limits.current().question_chars
    if len(text) > most:
        head = text[:most]
        if not text[most].isspace():  # the cap falls inside a word: drop it
            last = _LAST_WORD.search(head)
            head = head[:last.start()] if last and last.start() > 0 else head
        text = head.rstrip()
        log.warning("a question of %d characters was cut to its first %d (the answerer reads "
                    "at most %d, [limits] question_chars) — ask it in fewer words",
                    len(question.text), len(text), most)
    return question if text == question.text else replace(question, text=text)


@dataclass(frozen=True)
class Evidence:
    """Everything one decision was made from (``kiosk ask --explain``, the benchmarks)."""

    analysis: Analysis
    candidates: list[Candidate]
    probabilities: np.ndarray
    none: float
    decision: Decision


class KioskAnswerer:
    """The answerer over one content version (implements ``ports.Answerer``)."""

    def __init__(self, pack: Pack, units: list[Unit], vectors: Vectors, encoder: Encoder,
                 settings: QaSettings | None = None, intents: Intents | None = None,
                 today: dt.date | None = None, room: str = "",
                 weights: Weights | None = None) -> None:
        """``encoder`` may be fused (``encoder.FusedEncoder``): the scorer weighs each part;
        ``room``: the kiosk's own room as the content writes it ("Salle 2")."""
        self.pack = pack
        self.units = units
        self.settings = settings or QaSettings()
        self.today = today
        self.exhibits = {e.id: e for e in pack.exhibits}
        parts = split(encoder, vectors)
        spaces = [Space(encoder_key(enc.model_id), enc, vec,
                        intents if intents is not None and len(parts) == 1 else
                        Intents.build(enc)) for enc, vec in parts]
        self.spaces = spaces
        self.encoder = encoder
        self.intents = spaces[0].intents
        self.weights = weights or load_weights(tuple(s.key for s in spaces))
        if list(self.weights.features) != feature_names([s.key for s in spaces]):
            raise ModelError("the answer scorer's weights were trained for other features than "
                             "this version computes — run `make weights` (or reinstall the kiosk)")
        s = self.settings
        self.thresholds = Thresholds(
            s.answer_probability or self.weights.thresholds["answer"],
            s.clarify_probability or self.weights.thresholds["clarify"])
        self.names = NameIndex(pack.exhibits, s.fuzzy_ratio, self.intents.generic)
        artists: dict[str, list[str]] = {}
        for ex in pack.exhibits:
            for word in {w for a in ex.artist.values() for w in artist_names(a)}:
                artists.setdefault(word, []).append(ex.id)
        titles = [i for i, u in enumerate(units) if u.kind == "title"]
        texts = [u.text for u in units] + [a for ex in pack.exhibits for a in ex.artist.values()]
        texts += [a for ex in pack.exhibits for p in ex.qa for a in p.answer.values()]
        texts += [a for f in pack.faq for a in f.answer.values()]
        self.reader = Reader(spaces, self.names, np.array(titles, dtype=np.int64),
                             [units[i].ref for i in titles],
                             known_words(list(dict.fromkeys(texts))),  # (answers: units too)
                             pack.museum.languages, artists, s.name_match)
        self.sources = Sources(pack, units, spaces)
        self.room = [e.id for e in pack.exhibits
                     if room and fold(room) in {fold(r) for r in e.room.values()}]
        self._view: tuple[dt.date, set[str]] | None = None
        self.replies = Replies(pack, self.intents, s.suggestions)

    # -- public -----------------------------------------------------------------------------

    def answer(self, question: Question, about: str | None = None) -> Answer:
        question = admitted(question)
        lang = question.lang
        on_view = self._on_view()
        about = about if about in on_view else None
        if not words(question.text):
            return self._unknown(lang, about)
        ev = self.explain(question, about)
        absent = self._named_off_view(ev.analysis, on_view)
        if absent is not None:
            return self.replies.not_on_view(lang, absent, self._top_exhibits(on_view))
        more = self._more(ev.analysis, question)
        if more is not None:
            return more
        d = ev.decision
        if d.action == ANSWER:
            return self._reply(ev.candidates[d.best], lang, d.probability)
        if d.action == CLARIFY:
            return self.replies.clarify(lang, [self.exhibits[w] for w in d.works],
                                        d.probability, question.text)
        intents = ev.analysis.intents[0]
        if intents.get(GREETING, 0.0) >= REPLY_MATCH and self._top_intent(intents) == GREETING:
            return self.replies.greet(lang, self._top_exhibits(on_view), intents[GREETING])
        target = about or next((c.ref for c in ev.candidates if c.kind is not SourceKind.FAQ
                                and ev.analysis.subject(c.ref).named >= self.settings.name_match),
                               None)
        # what the kiosk does know, first: the works the question names by artist or in part
        evidence = {ref: max(sub.named, sub.artist)
                    for ref, sub in ev.analysis.subjects.items() if max(sub.named, sub.artist)}
        named = sorted(evidence, key=lambda ref: (-evidence[ref], -self.exhibits[ref].priority,
                                                  ref))
        return self._unknown(lang, target, d.probability,
                             out_of_scope=self._top_intent(intents) == OUT_OF_SCOPE,
                             first=named)

    def explain(self, question: Question, about: str | None = None) -> Evidence:
        """The evidence behind an answer, and the decision."""
        question = admitted(question)
        on_view = self._on_view()
        about = about if about in on_view else None
        analysis = self.reader.read(question.text.strip(), question.lang, about, self.room,
                                    on_view)
        candidates = self.sources.candidates(analysis, on_view)
        probs, none = self.weights.probabilities(candidates)
        return Evidence(analysis, candidates, probs, none,
                        decide(candidates, probs, self.thresholds))

    def reply_for(self, candidate: Candidate, lang: str) -> Answer:
        """The answer a candidate would give (training labels it by this text)."""
        return self._reply(candidate, lang, 1.0)

    # -- helpers -------------------------------------------------------------------------------

    def _reply(self, c: Candidate, lang: str, probability: float) -> Answer:
        if c.kind is SourceKind.FACT:
            return self.replies.fact(lang, self.exhibits[c.ref], str(c.item), probability)
        if c.kind is SourceKind.QA:
            return self.replies.qa(lang, self.exhibits[c.ref], int(c.item), probability)
        if c.kind is SourceKind.FAQ:
            return self.replies.faq(lang, c.ref, probability)
        return self.replies.sentence(lang, self.exhibits[c.ref], int(c.item), c.lang,
                                     probability)

    def _more(self, analysis: Analysis, question: Question) -> Answer | None:
        """'Tell me more' after a description was quoted: its next sentence."""
        last = question.follows
        intents = analysis.intents[0]
        if last is None or last.exhibit_id not in self.exhibits or \
                intents.get(MORE, 0.0) < REPLY_MATCH or self._top_intent(intents) != MORE:
            return None
        ex = self.exhibits[last.exhibit_id]
        if last.detail == "description":
            following = 2  # the opening ('about') quoted its first two sentences
        elif last.detail.startswith("description["):
            following = int(last.detail[len("description["):-1]) + 1
        else:
            return None
        shown = self.sources.shown_language(ex, question.lang)
        if following < len(self.sources.sentences_of.get((ex.id, shown), [])):
            return self.replies.sentence(question.lang, ex, following, shown, 1.0)
        return self.replies.unknown(question.lang, ex, 1.0, [], said_all=True)

    def _top_intent(self, intents: dict[str, float]) -> str:
        return max(intents, key=lambda k: intents[k]) if intents else ""

    def _on_view(self) -> set[str]:
        """The works offered today (exhibition dates), worked out once a day."""
        today = self.today or dt.date.today()
        if self._view is None or self._view[0] != today:
            self._view = (today, {e.id for e in self.pack.exhibits if e.on_view(today)})
        return self._view[1]

    def _named_off_view(self, analysis: Analysis, on_view: set[str]) -> Exhibit | None:
        """The work the question names by title (or by its artist's only work) when it is not
        on view today and no work on view is named."""
        mentions = analysis.mentions
        titled = mentions.best_title(self.settings.name_match)
        if not titled and mentions.artists:
            titled = mentions.by_artist()
            titled = titled if len(titled) == 1 else []
        if not titled or any(e in on_view for e in titled):
            return None
        return self.exhibits[titled[0]]

    def _unknown(self, lang: str, target: str | None, score: float = 0.0,
                 out_of_scope: bool = False, first: Sequence[str] = ()) -> Answer:
        return self.replies.unknown(lang, self.exhibits.get(target or ""), score,
                                    self._top_exhibits(self._on_view(), first), out_of_scope)

    def _top_exhibits(self, on_view: set[str], first: Sequence[str] = ()) -> list[Exhibit]:
        """The works to offer: ``first`` (e.g. named in the question), the room's, then the
        curators' favourites."""
        lead = [r for r in dict.fromkeys([*first, *self.room]) if r in on_view]
        ranked = [self.exhibits[r] for r in lead] + sorted(
            (e for e in self.pack.exhibits if e.id in on_view and e.id not in lead),
            key=lambda e: (-e.priority, e.id))
        return ranked[: self.settings.suggestions]


__all__ = ["FACTS", "Evidence", "KioskAnswerer", "admitted",
           "encoder_key"]
