"""Where answers come from, as typed candidates with the same features for every kind.

Four sources each propose candidates for a read question (``kiosk/qa/analysis.py``):

- ``SourceKind.FACT``: a field of a work the question may be about (artist, date, medium,
  room, size, title), or its description's opening (``about``), said in the kiosk's own sentence;
- ``SourceKind.QA``: a curated question and answer of a work;
- ``SourceKind.FAQ``: a practical entry of the museum;
- ``SourceKind.DESCRIPTION``: one whole sentence of a work's description, quoted.

Each candidate carries one row of features (``FEATURES``); the scorer (``kiosk/qa/scorer.py``)
weighs them. No source decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kiosk.content.model import Exhibit, Pack, pick
from kiosk.events import SourceKind
from kiosk.qa.analysis import Analysis, Space
from kiosk.qa.cues import FACT_ASKS, Cues
from kiosk.qa.index import Unit
from kiosk.qa.intents import FACTS, FIELD_OF, GREETING, OUT_OF_SCOPE, UNSUPPORTED
from kiosk.qa.lexical import Lexicon
from kiosk.qa.text import content_words, sentences, stem

WEIGHT_NAME = {SourceKind.FACT: "fact", SourceKind.QA: "qa", SourceKind.FAQ: "faq",
               SourceKind.DESCRIPTION: "sentence"}
"""Each kind's name in the scorer's weight files (``kiosk/qa/weights/*.json``)."""
PER_ENCODER = ("sim", "sim_masked", "gap", "work_gap", "answer", "title", "title_gap", "oos",
               "unsupported", "greeting")
"""Features computed once per encoder (similarities)."""
COMMON = ("lex", "rest", "lex_gap", "rival_lex", "lex_answer", "cue", "named", "named_other",
          "artist", "context", "room", "novelty", "foreign", "words")
"""Features that need no encoder."""
POOL = 16
"""Curated answers, practical entries and sentences kept per encoder by similarity alone (on
top of everything about the works the question may be about)."""


def feature_names(keys: list[str]) -> list[str]:
    """The feature columns for encoders ``keys`` (``sim.use``, ``sim.e5``, ``lex``...)."""
    return [f"{name}.{key}" for key in keys for name in PER_ENCODER] + list(COMMON)


@dataclass(frozen=True)
class Candidate:
    """One possible reply and its evidence."""

    kind: SourceKind
    """A field, a curated Q&A, a practical entry, or a sentence of a description."""
    ref: str
    """The exhibit or FAQ id."""
    item: int | str
    """The field (facts), the Q&A pair's index, or the sentence's index in ``lang``."""
    lang: str = ""
    """For sentences: the language of the description quoted."""
    features: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False,
                                 repr=False)
    """One row of ``feature_names``."""
    priority: float = field(default=0.0, compare=False)
    """Its work's ``priority`` (0 for practical entries): the curators' say, not learned —
    ``scorer.PRIORITY_LOGIT``."""

    @property
    def group(self) -> str:
        """The scorer's weight group: facts share one, ``about`` and ``title`` their own."""
        if self.kind is SourceKind.FACT and self.item in ("about", "title"):
            return f"fact:{self.item}"
        return WEIGHT_NAME[self.kind]


class Sources:
    """Every source of one content version, ready to propose candidates."""

    def __init__(self, pack: Pack, units: list[Unit], spaces: list[Space]) -> None:
        self.pack = pack
        self.units = units
        self.spaces = spaces
        self.exhibits = {e.id: e for e in pack.exhibits}
        self.default = pack.museum.default_language
        kinds = np.array([u.kind for u in units])
        self.sentence_rows = np.flatnonzero(kinds == "sentence")
        self.sentence_lexicon = Lexicon([[(u.text, u.lang)] for u in units])
        self.group_rows = np.flatnonzero((kinds == "qa") | (kinds == "faq"))
        keys = [(SourceKind(u.kind), u.ref, u.item) for u in (units[r] for r in self.group_rows)]
        # the phrasings of one entry are adjacent: each run of equal keys is one entry
        self.group_starts = np.array(
            [i for i, key in enumerate(keys) if i == 0 or keys[i - 1] != key], dtype=np.int64)
        self.groups: list[tuple[SourceKind, str, int]] = [
            keys[i] for i in self.group_starts.tolist()]
        self.group_lexicon = Lexicon([self._entry_texts(key) for key in self.groups])
        answers: dict[tuple[str, int], list[int]] = {}
        for r in np.flatnonzero(kinds == "answer").tolist():
            answers.setdefault((units[r].ref, units[r].item), []).append(r)
        self.answer_rows = [answers.get((ref, item), []) for _, ref, item in self.groups]
        self.answer_lexicon = Lexicon([[(units[r].text, units[r].lang) for r in rows]
                                       for rows in self.answer_rows])
        self.groups_of: dict[str, list[int]] = {}
        for g, (_, ref, _) in enumerate(self.groups):
            self.groups_of.setdefault(ref, []).append(g)
        self.sentences_of: dict[tuple[str, str], list[int]] = {}
        for row in self.sentence_rows.tolist():
            self.sentences_of.setdefault((units[row].ref, units[row].lang), []).append(row)
        self._shown: dict[str, np.ndarray] = {}
        # the words visitors use to ask for each fact ('painted', 'made', 'room', 'year'...)
        table = spaces[0].intents.table
        self.cues = Cues(table)
        generic = {stem(w) for line in table["generic_words"]["words"] for w in content_words(line)}
        self.asking = {name: generic | {stem(w) for text in table["intent"][name]["examples"]
                                        for w in content_words(text)} for name in FACTS}

    def _entry_texts(self, key: tuple[SourceKind, str, int]) -> list[tuple[str, str]]:
        """The phrasings of a curated Q&A or FAQ entry, with their languages."""
        kind, ref, item = key
        entry = self.exhibits[ref].qa[item] if kind is SourceKind.QA else \
            next(f for f in self.pack.faq if f.id == ref)
        return [(q, lang) for lang, qs in entry.questions.items() for q in qs]

    def shown_language(self, ex: Exhibit, lang: str) -> str:
        """The language a work's description is quoted in for a visitor speaking ``lang``."""
        return pick(ex.description, lang, self.default)[1]

    def _shown_rows(self, lang: str) -> np.ndarray:
        """The sentence rows a visitor speaking ``lang`` would be shown."""
        if lang not in self._shown:
            rows = [r for ex in self.pack.exhibits
                    for r in self.sentences_of.get((ex.id, self.shown_language(ex, lang)), [])]
            self._shown[lang] = np.array(rows, dtype=np.int64)
        return self._shown[lang]

    # -- candidates ------------------------------------------------------------------------

    def candidates(self, q: Analysis, on_view: set[str]) -> list[Candidate]:
        both = [(s.vectors @ qv.T) if len(s.vectors) else np.zeros((0, 2))
                for s, qv in zip(self.spaces, q.query, strict=True)]
        sims = [b.max(axis=1) for b in both]
        asked = self.cues.asked(q.text)
        subjects = set(q.subjects)
        rows: list[_Row] = []
        terms = self.sentence_lexicon.terms(q.text, q.lang, q.mentions.matched)
        for ref in sorted(subjects):
            ex = self.exhibits[ref]
            for name in FACTS:
                value = self._fact_text(ex, name)
                if value:
                    fact_lex, fact_rest = self.sentence_lexicon.explained(
                        terms, {stem(w) for w in content_words(value)} | self.asking[name])
                    rows.append(_Row(SourceKind.FACT, ref, name, "",
                                     [(full.get(name, 0.0), masked.get(name, 0.0))
                                      for full, masked in q.intent_parts], fact_lex,
                                     fact_rest, float(bool(asked) and FACT_ASKS.get(name) == asked),
                                     ex.priority))
        if self.groups:
            per_group = [np.stack([np.maximum.reduceat(b[self.group_rows, k], self.group_starts)
                                   for k in (0, 1)], axis=1) for b in both]
            chosen = {g for ref in subjects for g in self.groups_of.get(ref, [])}
            chosen |= {g for g, (kind, _, _) in enumerate(self.groups) if kind is SourceKind.FAQ}
            for best in per_group:
                chosen |= set(np.argsort(-best.max(axis=1))[:POOL].tolist())
            picked = np.array(sorted(g for g in chosen if self.groups[g][0] is SourceKind.FAQ
                                     or self.groups[g][1] in on_view), dtype=np.int64)
            group_terms = self.group_lexicon.terms(q.text, q.lang, q.mentions.matched)
            lex, rest = self.group_lexicon.overlap(group_terms, picked)
            answer_terms = self.answer_lexicon.terms(q.text, q.lang, q.mentions.matched)
            lex_answer, _ = self.answer_lexicon.overlap(answer_terms, picked)
            for k, g in enumerate(picked.tolist()):
                kind, ref, item = self.groups[g]
                priority = self.exhibits[ref].priority if kind is SourceKind.QA else 0
                answer = self._entry_answer(kind, ref, item, q.lang)
                arows = self.answer_rows[g]
                rows.append(_Row(kind, ref, item, "",
                                 [(float(b[g, 0]), float(b[g, 1])) for b in per_group],
                                 float(lex[k]), float(rest[k]),
                                 float(self.cues.holds(asked, answer)), priority,
                                 [float(s[arows].max()) if arows else 0.0 for s in sims],
                                 float(lex_answer[k])))
        shown = self._shown_rows(q.lang)
        if len(shown):
            wanted = {r for ref in subjects for r in self.sentences_of.get(
                (ref, self.shown_language(self.exhibits[ref], q.lang)), [])}
            for s in sims:
                wanted |= set(shown[np.argsort(-s[shown])[:POOL]].tolist())
            picked = np.array(sorted(r for r in wanted if self.units[r].ref in on_view),
                              dtype=np.int64)
            lex, rest = self.sentence_lexicon.overlap(terms, picked)
            for k, r in enumerate(picked.tolist()):
                unit = self.units[r]
                rows.append(_Row(SourceKind.DESCRIPTION, unit.ref, unit.item, unit.lang,
                                 [(float(b[r, 0]), float(b[r, 1])) for b in both],
                                 float(lex[k]), float(rest[k]),
                                 float(self.cues.holds(asked, unit.text)),
                                 self.exhibits[unit.ref].priority))
        return self._featurize(q, rows)

    def _entry_answer(self, kind: SourceKind, ref: str, item: int, lang: str) -> str:
        entry = self.exhibits[ref].qa[item] if kind is SourceKind.QA else \
            next(f for f in self.pack.faq if f.id == ref)
        return pick(entry.answer, lang, self.default)[0]

    def _fact_text(self, ex: Exhibit, name: str) -> str:
        """Every language of the field a fact is answered from ('' when it has none)."""
        if name == "title":
            return " ".join([*ex.title.values(), *ex.aliases])
        if name == "about":
            return " ".join(" ".join(sentences(d)[:2]) for d in ex.description.values())
        return " ".join(getattr(ex, FIELD_OF.get(name, name)).values())

    def _featurize(self, q: Analysis, rows: list[_Row]) -> list[Candidate]:
        n_enc = len(self.spaces)
        best_kind: dict[tuple[SourceKind, int], float] = {}
        best_work: dict[tuple[SourceKind, str, int], float] = {}
        best_lex: dict[tuple[str, str], float] = {}
        for row in rows:
            family = "fact" if row.kind is SourceKind.FACT else "text"
            best_lex[(row.ref, family)] = max(best_lex.get((row.ref, family), 0.0), row.lex)
            if row.kind is not SourceKind.FACT:
                for e in range(n_enc):
                    top = max(row.sims[e])
                    best_kind[(row.kind, e)] = max(best_kind.get((row.kind, e), -1.0), top)
                    best_work[(row.kind, row.ref, e)] = max(
                        best_work.get((row.kind, row.ref, e), -1.0), top)
        ranked_titles = [sorted(((sub.title[e], ref) for ref, sub in q.subjects.items()),
                                reverse=True)[:2] for e in range(n_enc)]
        ranked_names = sorted(((sub.named, ref) for ref, sub in q.subjects.items()
                               if sub.named > 0), reverse=True)[:2]
        out = []
        for row in rows:
            kind, ref, item, s = row.kind, row.ref, row.item, row.sims
            sub = q.subject(ref if kind is not SourceKind.FAQ else None)
            values: list[float] = []
            for e in range(n_enc):
                intents = q.intents[e]
                top = max(s[e])
                if kind is SourceKind.FACT:
                    others = [intents.get(f, 0.0) for f in (*FACTS, UNSUPPORTED) if f != item]
                    gap = work_gap = top - max(others)
                else:
                    gap = top - best_kind[(kind, e)]
                    work_gap = top - best_work[(kind, ref, e)]
                if kind is SourceKind.FAQ:  # evidence that a work, not the visit, is asked about
                    title, rival = _best_other(ranked_titles[e], None), 0.0
                else:
                    title = sub.title[e] if sub.title else 0.0
                    rival = _best_other(ranked_titles[e], ref)
                values += [s[e][0], s[e][1], gap, work_gap,
                           row.answer_sims[e] if row.answer_sims else 0.0,
                           title, title - rival if kind is not SourceKind.FAQ else 0.0,
                           intents.get(OUT_OF_SCOPE, 0.0), intents.get(UNSUPPORTED, 0.0),
                           intents.get(GREETING, 0.0)]
            other = _best_other(ranked_names, ref if kind is not SourceKind.FAQ else None)
            family = "fact" if kind is SourceKind.FACT else "text"
            opposite = "text" if family == "fact" else "fact"
            values += [row.lex, min(row.rest, 3.0) / 3.0, row.lex - best_lex[(ref, family)],
                       best_lex.get((ref, opposite), 0.0), row.lex_answer, row.cue, sub.named,
                       other, sub.artist, sub.context, sub.room, q.novelty, float(q.foreign),
                       float(np.log1p(q.words)) / 3.0]
            out.append(Candidate(kind, ref, item, row.lang, np.array(values, dtype=np.float32),
                                 row.priority))
        return out


@dataclass(frozen=True)
class _Row:
    """A candidate before its features are put together."""

    kind: SourceKind
    ref: str
    item: int | str
    lang: str
    sims: list[tuple[float, float]]
    """Per encoder: (whole question, question without its names)."""
    lex: float
    rest: float
    cue: float
    priority: float
    answer_sims: list[float] = field(default_factory=list)
    """Curated and practical entries: per encoder, the question's similarity to the answer."""
    lex_answer: float = 0.0
    """Curated and practical entries: shared words with the answer."""


def _best_other(ranked: list[tuple[float, str]], ref: str | None) -> float:
    """The best value among works other than ``ref`` (0 when there is none)."""
    return next((value for value, other in ranked if other != ref), 0.0)
