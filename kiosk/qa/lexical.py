"""Shared words between a question and a text: IDF-weighted, crude stems, forgiving spelling.

A question word counts as found in a text when its stem is there, or the stem of a word the
content uses that is spelled almost like it ('ailes' ~ 'ailées', 'scuplture' ~ 'sculpture').
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from kiosk.qa.text import STOPWORDS, STOPWORDS_BY_LANG, content_words, stem, words

NEAR_SPELLING = 80
"""Least similarity (0-100) for a question word of 5+ letters to stand for a content word."""
NEAR_WORDS = 3
"""Content words a question word may stand for at most."""


@dataclass(frozen=True)
class Term:
    """One content word of a question."""

    word: str
    """As written (folded)."""
    stems: frozenset[str]
    """Its stem and the stems of the content's words spelled almost like it."""
    weight: float
    """Its IDF in the content (rare words weigh more)."""


class Lexicon:
    """The words of one content version: their rarity, and their spellings."""

    def __init__(self, documents: list[list[tuple[str, str]]]) -> None:
        """``documents``: per document, its parts as (text, language)."""
        stems: list[frozenset[str]] = []
        long_words: set[str] = set()
        for parts in documents:  # each text's words found once (content_words' two filters)
            mine: set[str] = set()
            for text, lang in parts:
                found = words(text)
                stop = STOPWORDS_BY_LANG.get(lang or "", STOPWORDS)
                mine.update(stem(w) for w in found if w not in stop and len(w) > 1)
                long_words.update(w for w in found if len(w) >= 5 and w not in STOPWORDS)
            stems.append(frozenset(mine))
        self.stems = stems
        df = Counter(s for stems in self.stems for s in stems)
        n = max(len(documents), 1)
        self.idf = {s: math.log(1 + n / c) for s, c in df.items()}
        self.unknown_idf = math.log(1 + n)
        self.words = sorted(long_words)

    def terms(self, question: str, lang: str, ignore: frozenset[str]) -> list[Term]:
        """The question's content words (names in ``ignore`` aside), with their near-spellings."""
        out = []
        for word in dict.fromkeys(content_words(question, lang)):
            if word in ignore:
                continue
            stems = {stem(word)}
            if len(word) >= 5 and stem(word) not in self.idf:
                hits = process.extract(word, self.words, scorer=fuzz.ratio,
                                       score_cutoff=NEAR_SPELLING, limit=NEAR_WORDS)
                stems |= {stem(h[0]) for h in hits}
            out.append(Term(word, frozenset(stems), self.idf.get(stem(word), self.unknown_idf)))
        return out

    def overlap(self, terms: list[Term], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each document row: the (weighted) share of the question's terms it holds, and
        how many of them it lacks."""
        share = np.zeros(len(rows), dtype=np.float32)
        missing = np.full(len(rows), len(terms), dtype=np.float32)
        total = sum(t.weight for t in terms)
        if not terms:
            return share, missing
        for k, row in enumerate(rows.tolist()):
            found = [t for t in terms if t.stems & self.stems[row]]
            share[k] = sum(t.weight for t in found) / total
            missing[k] = len(terms) - len(found)
        return share, missing

    def explained(self, terms: list[Term], words: set[str]) -> tuple[float, float]:
        """(share, count lacking) of the terms a set of stems explains (unweighted)."""
        if not terms:
            return 1.0, 0.0
        found = sum(bool(t.stems & words) for t in terms)
        return found / len(terms), float(len(terms) - found)
