"""Choose an answer, a "did you mean…?" or an honest "I don't know" — never an invented one.

Evidence: the encoder's similarity between the question and every unit of the content (curated
questions, FAQ questions, description sentences) and the kiosk's built-in intents (fact
questions, things fields never answer, off-topic talk); names of works and artists found in the
question (forgiving misspellings); shared words with description sentences; and the work the
conversation is about (follow-ups). Thresholds are settings (``[qa]``), calibrated with
``kiosk eval``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from kiosk.content.model import Exhibit, Pack, pick
from kiosk.events import Answer, Question
from kiosk.ports import Encoder, Vectors
from kiosk.qa.evidence import Candidate, Evidence, top_k
from kiosk.qa.index import Lexical, Unit
from kiosk.qa.intents import FACTS, GREETING, OUT_OF_SCOPE, UNSUPPORTED, Intents
from kiosk.qa.names import Mentions, NameIndex
from kiosk.qa.replies import Replies
from kiosk.qa.text import WORD, content_words, fold, root, words
from kiosk.settings import QaSettings

ARTICLES = frozenset("the a an le la les l un une el los las lo unos unas der die das".split())
TARGET_BONUS = 0.05
"""Added to evidence about the work the question names or the conversation is about."""
OTHER_PENALTY = 0.20
"""Taken from evidence about another work when the question names a work."""
CONTEXT_PENALTY = 0.35
"""Taken from evidence about another, unnamed work during a conversation about one work."""
LEXICAL_WEIGHT = 0.35
"""Weight of shared words, next to meaning, when scoring a description sentence."""
GROUP_LEXICAL_WEIGHT = 0.25
"""Weight of shared words with a curated Q&A or FAQ entry (its phrasings and answer)."""
NOVELTY_PENALTY = 0.30
"""Taken, times the share of the question's words the content never uses ('david',
'joconde'), from answers about works the question does not name."""
FOREIGN_LEAD = 0.15
"""Lead over every other candidate that lets a question in a language the pack lacks be
answered from a work it does not name (cross-language similarities run lower)."""
SHARED_WORDS = 0.5
SHARED_WORDS_RELIEF = 0.10
"""A description sentence holding at least SHARED_WORDS of the question's (weighted) words
is quoted at a passage threshold lower by SHARED_WORDS_RELIEF."""
GREETING_MATCH = 0.75
"""Least similarity to a built-in hello for the kiosk to greet back."""
GROUP_POOL = 40
"""Curated Q&A and FAQ entries kept (by meaning) before shared words are counted."""
PRIORITY_STEP = 0.005
"""Score added per priority point (breaks ties between near-equal answers)."""
SENTENCE_POOL = 24
"""Description sentences kept (by meaning) before shared words are counted."""


class KioskAnswerer:
    """The answerer over one content version (implements ``ports.Answerer``)."""

    def __init__(self, pack: Pack, units: list[Unit], vectors: Vectors, encoder: Encoder,
                 settings: QaSettings | None = None, intents: Intents | None = None,
                 today: dt.date | None = None) -> None:
        self.pack = pack
        self.settings = settings or QaSettings()
        self.encoder = encoder
        self.intents = intents or Intents.build(encoder)
        self.today = today
        self.units = units
        self.vectors = vectors
        self.exhibits = {e.id: e for e in pack.exhibits}
        self.kinds = np.array([u.kind for u in units])
        self.sentence_rows = np.flatnonzero(self.kinds == "sentence")
        self.lexical = Lexical([[(u.text, u.lang)] for u in units])
        # curated Q&A and FAQ entries: one group per entry, over all its phrasings
        self.group_rows = np.flatnonzero((self.kinds == "qa") | (self.kinds == "faq"))
        self.title_rows = np.flatnonzero(self.kinds == "title")
        self.title_vectors = vectors[self.title_rows]
        self.sentences_of: dict[tuple[str, str], list[int]] = {}
        for row in self.sentence_rows.tolist():
            self.sentences_of.setdefault((units[row].ref, units[row].lang), []).append(row)
        keys = [(u.kind, u.ref, u.item) for u in (units[r] for r in self.group_rows)]
        # the phrasings of one entry are adjacent: each run of equal keys is one group
        self.group_starts = np.array(
            [i for i, key in enumerate(keys) if i == 0 or keys[i - 1] != key], dtype=np.int64)
        self.groups = [keys[i] for i in self.group_starts.tolist()]
        parts = [self._group_parts(key) for key in self.groups]
        self.group_lexical = Lexical(parts)
        # the words the content uses, per work and overall ("is this about something we hold?")
        self.exhibit_roots: dict[str, set[str]] = {}
        docs = [(u.ref, u.text) for u in units] + [
            (key[1], text) for key, entry in zip(self.groups, parts, strict=True)
            for text, _ in entry]
        for ref, text in docs:
            self.exhibit_roots.setdefault(ref, set()).update(root(w) for w in content_words(text))
        self.known_roots = set().union(*self.exhibit_roots.values(), *(
            {root(w) for w in content_words(a)} for ex in pack.exhibits
            for a in ex.artist.values()))
        self.names = NameIndex(pack.exhibits, self.settings.fuzzy_ratio, self.intents.generic)
        self._view: tuple[dt.date, set[str]] | None = None
        self.default = pack.museum.default_language
        self.replies = Replies(pack, self.intents, self.settings.suggestions)

    # -- public -----------------------------------------------------------------------------

    def answer(self, question: Question, about: str | None = None) -> Answer:
        text = question.text.strip()
        lang = question.lang
        on_view = self._on_view()
        if about not in on_view:
            about = None
        if not words(text):
            return self._unknown(lang, None, 0.0)
        ev = self._evidence(text, lang, about, on_view)
        mentions, target, named, choices, cands, intent = (
            ev.mentions, ev.target, ev.named, ev.choices, ev.candidates, ev.intent)
        sims = ev.sims
        absent = None if named else self._named_off_view(mentions, on_view)
        if absent is not None:
            return self.replies.not_on_view(lang, absent, self._top_exhibits(on_view))
        choices = sorted(choices, key=lambda c: -self.exhibits[c].priority)
        best = cands[0] if cands else Candidate(0.0, "none", None, 0)
        s = self.settings
        if not named and max(intent, key=lambda k: intent[k]) == GREETING \
                and intent[GREETING] >= GREETING_MATCH:
            return self.replies.greet(lang, self._top_exhibits(on_view), intent[GREETING])
        oos = intent.get(OUT_OF_SCOPE, 0.0)
        if not named and oos >= best.score + s.out_of_scope_margin:
            return self._unknown(lang, None, oos, out_of_scope=True)
        if named and target and self._only_names(text, mentions):
            return self.replies.fact(lang, self.exhibits[target], "about", 1.0)
        if best.kind == "unsupported":
            # the fields never answer this; a curated answer or a sentence still may
            best = next((c for c in cands if c.kind not in ("fact", "unsupported")), best)
            if best.kind == "unsupported":
                return self._unknown(lang, target, best.score)
        if best.kind == "fact" and target is None and not choices:
            # a fact needs a work; a curated answer or a passage may still answer it
            # ("who was the museum's first director?")
            alt = next((c for c in cands if c.kind in ("qa", "sentence", "faq")), None)
            if alt is not None and alt.score >= self._floor(alt):
                best = alt
        if best.kind == "fact":
            if best.score < (s.fact_threshold if target else s.answer_threshold):
                return self._unknown(lang, target, best.score)
            if target is None and not choices and self._asked_words(text, lang, mentions):
                return self._unknown(lang, None, best.score)  # names a work we do not hold
            if target is None:
                return self.replies.clarify(lang, [self.exhibits[c] for c in choices] or
                                            self._top_exhibits(on_view), best.score)
            return self.replies.fact(lang, self.exhibits[target], str(best.item), best.score)
        # an answer must also beat, by a margin, the closest off-topic or unanswerable example
        against = max(intent.get(OUT_OF_SCOPE, 0.0), intent.get(UNSUPPORTED, 0.0)) \
            + s.decline_margin
        if best.kind == "faq" and best.score >= max(s.faq_threshold, against):
            return self.replies.faq(lang, str(best.ref), best.score)
        if (best.kind in ("qa", "sentence") and target is None and not choices
                and self._asks_a_fact(intent) and best.ref is not None
                and self._foreign_words(text, lang, mentions, best.ref)):
            # "where is Michelangelo's David?": a fact about a work we do not hold
            return self._unknown(lang, None, best.score)
        if best.kind in ("qa", "sentence") and best.ref is not None:
            threshold = self._floor(best)
            runner_up = next((c.score for c in cands[1:] if c.ref != best.ref), 0.0)
            foreign = lang not in self.pack.museum.languages
            if best.ref != target and target is None and best.kind == "qa" and not (
                    foreign and best.score - runner_up >= FOREIGN_LEAD):
                # a curated answer about a work nobody named needs a very close match — or,
                # asked in a language the pack lacks (lower similarities), a clear lead
                threshold = s.other_exhibit_threshold
            threshold = max(threshold, against)
            if best.score >= threshold:
                rival = next((c for c in cands[1:] if c.kind in ("qa", "sentence")
                              and c.ref not in (None, best.ref)), None)
                if (target is None and rival is not None
                        and best.score - rival.score < s.clarify_margin
                        and rival.score >= threshold):
                    return self.replies.clarify(
                        lang, [self.exhibits[best.ref], self.exhibits[str(rival.ref)]], best.score)
                if best.kind == "qa":
                    ex = self.exhibits[best.ref]
                    return self.replies.qa(lang, ex, int(best.item), best.score)
                return self._sentence(lang, self.exhibits[best.ref], text, sims, best.score)
        if target is None and choices and best.score >= s.answer_threshold:
            return self.replies.clarify(lang, [self.exhibits[c] for c in choices], best.score)
        return self._unknown(lang, target, best.score)

    # -- evidence -----------------------------------------------------------------------------

    def explain(self, question: Question, about: str | None = None) -> Evidence:
        """The evidence behind an answer (``kiosk ask --explain``)."""
        return self._evidence(question.text.strip(), question.lang, about, self._on_view())

    def _evidence(self, text: str, lang: str, about: str | None,
                  on_view: set[str]) -> Evidence:
        mentions = self.names.find(text)
        kept = [w for w in WORD.findall(text) if fold(w) not in mentions.matched]
        masked = " ".join(kept)
        queries = [text] + ([masked] if kept and len(kept) < len(words(text)) else [])
        qv = self.encoder.encode(queries)
        intent = self.intents.scores((self.intents.vectors @ qv.T).max(axis=1))
        if not mentions.best_title(self.settings.name_match):
            mentions = self._title_by_meaning(text, lang, mentions, on_view)
        novelty = self._novelty(text, lang, mentions)
        other_work = self._asks_a_fact(intent) and novelty > 0
        target, named, choices = self._subject(mentions, about, on_view, other_work)
        sims = self.vectors @ qv.T if len(self.vectors) else np.zeros((0, len(queries)))
        # once a work is named, what is asked about it is read without its name
        best_sims = sims[:, -1] if named else sims.max(axis=1)
        cands = self._candidates(text, lang, mentions, target, named, choices, sims, best_sims,
                                 intent, on_view, novelty)
        return Evidence(mentions, target, named, choices, cands, intent, sims)

    def _group_parts(self, key: tuple[str, str, int]) -> list[tuple[str, str]]:
        """The phrasings and answers of a curated Q&A or FAQ entry, with their languages."""
        kind, ref, item = key
        entry = self.exhibits[ref].qa[item] if kind == "qa" else \
            next(f for f in self.pack.faq if f.id == ref)
        return [(q, lang) for lang, qs in entry.questions.items() for q in qs] + \
            [(a, lang) for lang, a in entry.answer.items()]

    def _on_view(self) -> set[str]:
        """The works offered today (exhibition dates), worked out once a day."""
        today = self.today or dt.date.today()
        if self._view is None or self._view[0] != today:
            self._view = (today, {e.id for e in self.pack.exhibits if e.on_view(today)})
        return self._view[1]

    def _subject(self, mentions: Mentions, about: str | None, on_view: set[str],
                 other_work: bool) -> tuple[str | None, bool, list[str]]:
        """(the work the question is about, whether it names it, works to choose between)."""
        titled = [e for e in mentions.best_title(self.settings.name_match) if e in on_view]
        if mentions.artists:
            # a partly matched title by another artist than the one named is doubtful
            by = set(mentions.by_artist())
            titled = [e for e in titled if e in by or mentions.titles[e] >= 1.0]
        if len(titled) == 1:
            return titled[0], True, []
        if len(titled) > 1:
            if about in titled:
                return about, True, []
            return None, True, titled
        by_artist = [e for e in mentions.by_artist() if e in on_view]
        if by_artist and other_work:
            return about, False, []  # another work by this artist ("l'angélus de millet")
        if len(by_artist) == 1:
            return by_artist[0], True, []
        if by_artist:
            if about in by_artist:
                return about, True, []
            return None, True, by_artist
        return about, False, []

    def _named_off_view(self, mentions: Mentions, on_view: set[str]) -> Exhibit | None:
        """The work the question names by title (or by its artist's only work) when it is not
        on view today and no work on view is named."""
        titled = mentions.best_title(self.settings.name_match)
        if mentions.artists:
            by = set(mentions.by_artist())
            titled = [e for e in titled if e in by or mentions.titles[e] >= 1.0]
        if not titled and mentions.artists:
            titled = mentions.by_artist()
            titled = titled if len(titled) == 1 else []
        if not titled or any(e in on_view for e in titled):
            return None
        return self.exhibits[titled[0]]

    def _asked_words(self, text: str, lang: str, mentions: Mentions,
                     min_len: int = 1) -> list[str]:
        """The question's words that are neither a name it matched nor how visitors ask
        ('guernica', 'david'). None in a language the pack lacks: there every word is new."""
        if lang not in self.pack.museum.languages:
            return []
        return [w for w in content_words(text, lang) if len(w) >= min_len
                and w not in mentions.matched and w not in self.intents.vocabulary]

    def _title_by_meaning(self, text: str, lang: str, mentions: Mentions,
                          on_view: set[str]) -> Mentions:
        """A work named in words its titles do not use ('el columpio' for The Swing)."""
        rest = [w for w in WORD.findall(text)
                if fold(w) not in mentions.matched and fold(w) not in self.intents.vocabulary
                and fold(w) in content_words(w, lang) and len(w) > 2]
        if len(rest) < 2 or not len(self.title_rows):
            return mentions  # one word is too little to recognise a title by meaning
        sims = self.title_vectors @ self.encoder.encode([" ".join(rest)])[0]
        best: dict[str, float] = {}
        for row, score in zip(self.title_rows.tolist(), sims.tolist(), strict=True):
            ref = self.units[row].ref
            if ref in on_view and score > best.get(ref, -1.0):
                best[ref] = score
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if not ranked or ranked[0][1] < self.settings.title_by_meaning:
            return mentions
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < self.settings.clarify_margin:
            return mentions
        ref = ranked[0][0]
        if mentions.artists and ref not in mentions.by_artist():
            return mentions  # "le déjeuner des canotiers de renoir" is not Manet's Déjeuner
        return Mentions({**mentions.titles, ref: 1.0}, {**mentions.covered, ref: 1.0},
                        mentions.artists, mentions.matched | {fold(w) for w in rest})

    def _foreign_words(self, text: str, lang: str, mentions: Mentions, ref: str) -> list[str]:
        """Words of the question that the texts of work ``ref`` never use ('david')."""
        own = self.exhibit_roots.get(ref, set())
        return [w for w in self._asked_words(text, lang, mentions, 4) if root(w) not in own]

    def _floor(self, c: Candidate) -> float:
        """The least score a curated answer, FAQ entry or description sentence needs."""
        s = self.settings
        if c.kind == "faq":
            return s.faq_threshold
        if c.kind == "sentence":
            # a sentence sharing most of the question's words needs less of its meaning
            return s.passage_threshold - (SHARED_WORDS_RELIEF if c.overlap >= SHARED_WORDS
                                          else 0.0)
        return s.answer_threshold

    def _asks_a_fact(self, intent: dict[str, float]) -> bool:
        """Whether the question reads like who/when/where/what medium/how big."""
        facts = [intent.get(f, 0.0) for f in FACTS if f not in ("about", "title")]
        return max(facts) >= self.settings.fact_threshold

    def _novelty(self, text: str, lang: str, mentions: Mentions) -> float:
        """Share of the question's longer asked words that no text of the content uses."""
        longer = self._asked_words(text, lang, mentions, 4)
        if not longer:
            return 0.0
        return sum(root(w) not in self.known_roots for w in longer) / len(longer)

    def _only_names(self, text: str, mentions: Mentions) -> bool:
        """True when the question is nothing but a work's name ("the milkmaid?")."""
        rest = [w for w in words(text) if w not in mentions.matched and w not in ARTICLES]
        return not rest and bool(mentions.titles)

    def _candidates(self, text: str, lang: str, mentions: Mentions, target: str | None,
                    named: bool, choices: list[str], sims: np.ndarray, best_sims: np.ndarray,
                    intent: dict[str, float], on_view: set[str],
                    novelty: float) -> list[Candidate]:
        penalty = OTHER_PENALTY if choices or named else CONTEXT_PENALTY if target else 0.0
        if not named:
            penalty += NOVELTY_PENALTY * novelty
        cands: list[Candidate] = []
        if len(self.groups):
            best = np.maximum.reduceat(best_sims[self.group_rows], self.group_starts)
            pool = top_k(best, GROUP_POOL)
            lex = self.group_lexical.overlap(text, lang, pool, frozenset())
            for g, overlap in zip(pool.tolist(), lex.tolist(), strict=True):
                kind, ref, item = self.groups[g]
                if kind == "qa" and ref not in on_view:
                    continue
                score = float(best[g]) + GROUP_LEXICAL_WEIGHT * overlap
                if kind == "qa":
                    score = self._adjust(score, ref, target, penalty)
                elif named:
                    score -= OTHER_PENALTY  # a question naming a work is about that work
                cands.append(Candidate(score, kind, ref, item))
        if len(self.sentence_rows):
            raw = sims[self.sentence_rows, 0]
            pool = self.sentence_rows[top_k(raw, SENTENCE_POOL)]
            lex = self.lexical.overlap(text, lang, pool, mentions.matched)
            for row, overlap in zip(pool.tolist(), lex.tolist(), strict=True):
                unit = self.units[row]
                if unit.ref not in on_view:
                    continue
                column = -1 if named and unit.ref == target else 0
                score = float(sims[row, column]) + LEXICAL_WEIGHT * overlap
                cands.append(Candidate(self._adjust(score, unit.ref, target, penalty),
                                       "sentence", unit.ref, unit.item, overlap))
        bonus = TARGET_BONUS if target else 0.0  # the same credit as the work's curated answers
        for name in FACTS:
            cands.append(Candidate(intent.get(name, 0.0) + bonus, "fact", target, name))
        cands.append(Candidate(intent.get(UNSUPPORTED, 0.0) + bonus, "unsupported", target, 0))
        cands.sort(key=lambda c: -c.score)
        return cands

    def _adjust(self, score: float, ref: str, target: str | None, penalty: float) -> float:
        score += PRIORITY_STEP * self.exhibits[ref].priority
        if ref == target:
            return score + TARGET_BONUS
        return score - penalty

    # -- replies ------------------------------------------------------------------------------

    def _sentence(self, lang: str, ex: Exhibit, question: str, sims: np.ndarray,
                  score: float) -> Answer:
        """Quote the best sentence of the work's description in the visitor's language."""
        _, used = pick(ex.description, lang, self.default)
        rows = self.sentences_of.get((ex.id, used), [])
        lex = self.lexical.overlap(question, lang, np.array(rows), frozenset())
        combined = sims[rows, 0] + LEXICAL_WEIGHT * lex
        item = self.units[rows[int(np.argmax(combined))]].item
        return self.replies.sentence(lang, ex, item, used, score)

    def _unknown(self, lang: str, target: str | None, score: float,
                 out_of_scope: bool = False) -> Answer:
        return self.replies.unknown(lang, self.exhibits.get(target or ""), score,
                                    self._top_exhibits(self._on_view()), out_of_scope)

    def _top_exhibits(self, on_view: set[str]) -> list[Exhibit]:
        ranked = sorted((e for e in self.pack.exhibits if e.id in on_view),
                        key=lambda e: (-e.priority, e.id))
        return ranked[: self.settings.suggestions]
