"""What a question says before any answer is weighed: its vectors, the works it names (by
title, alias, artist or meaning), the conversation's and the room's works, the built-in intents
it resembles, and how many of its words the content never uses.

Every figure here is evidence for the scorer (``kiosk/qa/features.py``); nothing is decided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kiosk.ports import Encoder, Vectors
from kiosk.qa.intents import Intents
from kiosk.qa.names import Mentions, NameIndex
from kiosk.qa.text import WORD, content_words, fold, root, stem

LONG_WORD = 4
"""Letters a word needs to count as new to the content ('david', 'guernica')."""


@dataclass(frozen=True)
class Space:
    """One encoder and the vectors of every content unit it made."""

    key: str
    """A short name for feature names (``use``, ``e5``)."""
    encoder: Encoder
    """The encoder."""
    vectors: Vectors
    """One row per unit (``kiosk.qa.index.Unit``), unit length."""
    intents: Intents
    """The built-in intents, encoded by this encoder."""


@dataclass(frozen=True)
class Subject:
    """Evidence that one work is what the question is about."""

    named: float = 0.0
    """Share (0-1) of one of its names found in the question's words."""
    artist: float = 0.0
    """1 / works by its artist, when the question names that artist."""
    context: float = 0.0
    """1 when the conversation is about it."""
    room: float = 0.0
    """1 when it hangs in the kiosk's room and the conversation is about nothing yet."""
    title: tuple[float, ...] = ()
    """Per encoder: similarity of the question's own words to its titles (any language)."""


@dataclass(frozen=True)
class Analysis:
    """A question, read."""

    text: str
    """The question as asked."""
    lang: str
    """Its language."""
    foreign: bool
    """True when the pack is not written in that language."""
    mentions: Mentions
    """Works and artists named in its words."""
    query: tuple[np.ndarray, ...]
    """Per encoder: the question's vectors — whole, and without the names it matched."""
    intents: tuple[dict[str, float], ...]
    """Per encoder: best similarity to each built-in intent's examples."""
    intent_parts: tuple[tuple[dict[str, float], dict[str, float]], ...]
    """Per encoder: the same, for the whole question and for it without its names."""
    subjects: dict[str, Subject]
    """The works with any evidence of being the subject."""
    novelty: float
    """Share of the question's longer words that no text of the content uses."""
    words: int
    """How many content words the question has."""

    def subject(self, ref: str | None) -> Subject:
        return self.subjects.get(ref or "", Subject(title=(0.0,) * len(self.query)))


class Reader:
    """Reads questions against one content version."""

    def __init__(self, spaces: list[Space], names: NameIndex, title_rows: np.ndarray,
                 title_refs: list[str], known_roots: set[str], languages: list[str],
                 artists: dict[str, list[str]], name_match: float = 0.6) -> None:
        self.spaces = spaces
        self.name_match = name_match
        self.names = names
        self.title_rows = title_rows
        self.title_refs = np.array(title_refs, dtype=object)
        self.known_roots = known_roots
        self.languages = languages
        self.artists = artists
        self.vocabulary = frozenset().union(*(s.intents.vocabulary for s in spaces))
        self.vocabulary_stems = frozenset(stem(w) for w in self.vocabulary if len(w) >= 5)

    def asking(self, word: str) -> bool:
        """Whether a (folded) word is one of how visitors ask, in another form too ('parlez'
        for 'parle', 'painting' for 'painted': the same first five letters)."""
        return word in self.vocabulary or (len(word) >= 5 and stem(word) in self.vocabulary_stems)

    def read(self, text: str, lang: str, about: str | None, room: list[str],
             on_view: set[str]) -> Analysis:
        mentions = self.names.find(text)
        kept = [w for w in WORD.findall(text) if fold(w) not in mentions.matched]
        masked = " ".join(kept) if kept else text
        # the words that are neither how visitors ask nor a name already matched: a title in
        # another language ('los comedores de patatas'), a work we do not hold ('guernica')
        own = [w for w in kept if not self.asking(fold(w))
               and fold(w) in content_words(w, lang) and len(w) > 2]
        texts = [text, masked, " ".join(own) if own else masked]
        queries, intents, parts, titles = [], [], [], []
        for space in self.spaces:
            qv = space.encoder.encode(texts)
            queries.append(qv[:2])
            sims = space.intents.vectors @ qv[:2].T
            intents.append(space.intents.scores(sims.max(axis=1)))
            parts.append((space.intents.scores(sims[:, 0]), space.intents.scores(sims[:, 1])))
            titles.append(self._titles(space, qv[2], on_view) if own else {})
        subjects = self._subjects(mentions, about, room, on_view, titles)
        longer = [w for w in content_words(text, lang) if len(w) >= LONG_WORD
                  and w not in mentions.matched and not self.asking(w)]
        novelty = (sum(root(w) not in self.known_roots for w in longer) / len(longer)
                   if longer and lang in self.languages else 0.0)
        return Analysis(text, lang, lang not in self.languages, mentions, tuple(queries),
                        tuple(intents), tuple(parts), subjects, novelty,
                        len(content_words(text, lang)))

    def _titles(self, space: Space, vector: np.ndarray, on_view: set[str]) -> dict[str, float]:
        """Best similarity of the question's own words to each work's titles."""
        if not len(self.title_rows):
            return {}
        sims = space.vectors[self.title_rows] @ vector
        best: dict[str, float] = {}
        for ref, score in zip(self.title_refs.tolist(), sims.tolist(), strict=True):
            if ref in on_view and score > best.get(ref, -1.0):
                best[ref] = score
        return best

    def _subjects(self, mentions: Mentions, about: str | None, room: list[str],
                  on_view: set[str], titles: list[dict[str, float]]) -> dict[str, Subject]:
        # works named by title: those named well enough (name_match), or else the best-named
        # ones — "the night watch" half-heard in "the starry night" is no rival to it
        named = {r: share for r, share in mentions.titles.items() if share > 0}
        least = min(max(named.values(), default=0.0), self.name_match)
        refs: set[str] = {r for r, share in named.items() if share >= least}
        artists: dict[str, float] = {}
        for word in mentions.artists:
            works = [w for w in self.artists.get(word, []) if w in on_view]
            for ref in works:
                artists[ref] = max(artists.get(ref, 0.0), 1.0 / len(works))
        refs |= set(artists)
        for best in titles:  # the three works whose titles the question's words are closest to
            refs |= {r for r, _ in sorted(best.items(), key=lambda kv: -kv[1])[:3]}
        if about:
            refs.add(about)
        here = [] if about else [r for r in room if r in on_view]
        refs |= set(here)
        return {ref: Subject(named=mentions.titles.get(ref, 0.0), artist=artists.get(ref, 0.0),
                             context=float(ref == about), room=float(ref in here),
                             title=tuple(t.get(ref, 0.0) for t in titles))
                for ref in refs if ref in on_view}


def known_words(texts: list[str]) -> set[str]:
    """The roots of every word the content uses."""
    return {root(w) for w in {w for text in texts for w in content_words(text)}}




