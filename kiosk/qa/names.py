"""Find which works a question names: titles, aliases and artists, forgiving small misspellings.

Accent- and case-insensitive; a misspelled word counts when it is close to exactly one kind of
name word (an exact word always wins over a fuzzy one, so Manet never becomes Monet).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from kiosk.content.model import Exhibit
from kiosk.qa.text import content_words

# Name particles that do not identify an artist on their own.
PARTICLES = frozenset("van von der den de da del di la le the elder younger jan pieter".split())


@dataclass(frozen=True)
class Mentions:
    """The works a question names."""

    titles: dict[str, float]
    """Exhibit id → share (0-1) of one of its names found in the question."""
    artists: dict[str, set[str]]
    """Artist word → the exhibits by that artist."""
    matched: frozenset[str]
    """Question words that matched a name (removed to read the question's intent)."""

    def best_title(self, threshold: float) -> list[str]:
        """Exhibits named by title at or above ``threshold``, best first, near-ties kept."""
        named = sorted(((s, e) for e, s in self.titles.items() if s >= threshold), reverse=True)
        if not named:
            return []
        top = named[0][0]
        return [e for s, e in named if s >= top - 0.05]

    def by_artist(self) -> list[str]:
        found: set[str] = set()
        for ids in self.artists.values():
            found |= ids
        return sorted(found)


class NameIndex:
    """The names of every exhibit, ready to look for in questions."""

    def __init__(self, exhibits: list[Exhibit], fuzzy_ratio: int = 84) -> None:
        self.fuzzy_ratio = fuzzy_ratio
        self.variants: list[tuple[str, list[str]]] = []
        self.artist_words: dict[str, set[str]] = defaultdict(set)
        for ex in exhibits:
            names = {*ex.title.values(), *ex.aliases}
            for name in names:
                tokens = content_words(name)
                if tokens:
                    self.variants.append((ex.id, tokens))
            for artist in set(ex.artist.values()):
                for word in content_words(artist):
                    if word not in PARTICLES and len(word) > 2:
                        self.artist_words[word].add(ex.id)
        df: dict[str, set[str]] = defaultdict(set)
        for ex_id, tokens in self.variants:
            for tok in tokens:
                df[tok].add(ex_id)
        n = max(len(exhibits), 1)
        self.weight = {tok: math.log(1 + n / len(ids)) for tok, ids in df.items()}
        self.vocab = sorted(set(self.weight) | set(self.artist_words))

    def _resolve(self, word: str) -> list[str]:
        """The name words a question word stands for (itself, or close misspellings)."""
        if word in self.weight or word in self.artist_words:
            return [word]
        if len(word) < 5 or word.isdigit():
            return []
        cutoff = self.fuzzy_ratio if len(word) >= 7 else max(self.fuzzy_ratio, 88)
        hits = process.extract(word, self.vocab, scorer=fuzz.ratio, score_cutoff=cutoff, limit=3)
        return [h[0] for h in hits]

    def find(self, question: str) -> Mentions:
        words = content_words(question)
        resolved: dict[str, str] = {}
        for word in words:
            for name_word in self._resolve(word):
                resolved.setdefault(name_word, word)
        titles: dict[str, float] = {}
        matched: set[str] = set()
        for ex_id, tokens in self.variants:
            total = sum(self.weight[t] for t in tokens)
            found = [t for t in tokens if t in resolved]
            if not found:
                continue
            share = sum(self.weight[t] for t in found) / total
            if share > titles.get(ex_id, 0.0):
                titles[ex_id] = share
            if share >= 0.5:
                matched.update(resolved[t] for t in found)
        artists = {w: self.artist_words[w] for w in resolved if w in self.artist_words}
        matched.update(resolved[w] for w in artists)
        return Mentions(titles=titles, artists=artists, matched=frozenset(matched))
