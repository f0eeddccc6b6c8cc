"""Find which works a question names: titles, aliases and artists, forgiving small misspellings.

Accent- and case-insensitive; a misspelled word counts when it is close to exactly one kind of
name word (an exact word always wins over a fuzzy one, so Manet never becomes Monet).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from kiosk.content.model import Exhibit
from kiosk.qa.text import content_words

DISTINCTIVE_SHARE = 0.75
"""The share credited to a title when the question holds one of its distinctive words."""

# Name particles that do not identify an artist on their own.
PARTICLES = frozenset("van von der den de da del di la le the elder younger jan pieter".split())


_SOUNDS = [(re.compile(a), b) for a, b in [
    (r"ph", "f"), (r"gh", ""), (r"ck", "k"), (r"qu", "k"), (r"c(?=[eiy])", "s"), (r"c", "k"),
    (r"z", "s"), (r"y", "i"), (r"w", "v"), (r"h", ""), (r"ee|ea|ie", "i"), (r"oo|ou", "u"),
    (r"(.)\1+", r"\1"), (r"(?<=...)e$", ""),
]]


def sound(word: str) -> str:
    """A rough key of how a (folded) word sounds, so 'nite' meets 'night', 'screem' 'scream'."""
    for pattern, repl in _SOUNDS:
        word = pattern.sub(repl, word)
    return word


def artist_names(artist: str) -> list[str]:
    """The words visitors call an artist by: the surname, and the first name of
    'Rembrandt van Rijn' / 'Leonardo da Vinci' forms — never given names like 'David'."""
    tokens = [w for w in content_words(artist) if len(w) > 2]
    names = [w for w in tokens if w not in PARTICLES]
    if not names:
        return []
    out = [names[-1]]
    raw = content_words(artist)
    if len(raw) >= 3 and raw[1] in PARTICLES and raw[0] not in PARTICLES:
        out.append(raw[0])
    if len(names) == 1:
        out = names
    return out


@dataclass(frozen=True)
class Mentions:
    """The works a question names."""

    titles: dict[str, float]
    """Exhibit id → share (0-1) of one of its names found in the question."""
    covered: dict[str, float]
    """Exhibit id → weight of the question's words its best name accounts for."""
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
        near = [e for s, e in named if s >= top - 0.05]
        # "Spatial Concept (II)" beats "Spatial Concept" when the question says "II"
        most = max(self.covered.get(e, 0.0) for e in near)
        return [e for e in near if self.covered.get(e, 0.0) >= most - 1e-9]

    def by_artist(self) -> list[str]:
        found: set[str] = set()
        for ids in self.artists.values():
            found |= ids
        return sorted(found)


class NameIndex:
    """The names of every exhibit, ready to look for in questions."""

    def __init__(self, exhibits: list[Exhibit], fuzzy_ratio: int = 84,
                 generic: frozenset[str] = frozenset()) -> None:
        """``generic``: words that name no particular work ('painting', 'tableau')."""
        self.fuzzy_ratio = fuzzy_ratio
        self.variants: list[tuple[str, list[str]]] = []
        self.artist_words: dict[str, set[str]] = defaultdict(set)
        for ex in exhibits:
            names = {*ex.title.values(), *ex.aliases}
            for name in sorted(names):
                tokens = [t for t in content_words(name) if t not in generic]
                if tokens:
                    self.variants.append((ex.id, tokens))
            for artist in set(ex.artist.values()):
                for word in artist_names(artist):
                    self.artist_words[word].add(ex.id)
        df: dict[str, set[str]] = defaultdict(set)
        for ex_id, tokens in self.variants:
            for tok in tokens:
                df[tok].add(ex_id)
        n = max(len(exhibits), 1)
        self.weight = {tok: math.log(1 + n / len(ids)) for tok, ids in df.items()}
        # A title word used by no other work's texts ('venus', 'etoilee', 'meduse', but not
        # 'woman' or 'night') names its work on its own.
        used_by: dict[str, set[str]] = defaultdict(set)
        for ex in exhibits:
            texts = [*ex.description.values(), *(a for p in ex.qa for a in p.answer.values()),
                     *(q for p in ex.qa for qs in p.questions.values() for q in qs)]
            for word in {w for t in texts for w in content_words(t)}:
                used_by[word].add(ex.id)
        self.distinctive = {
            tok for tok, ids in df.items()
            if len(ids) == 1 and len(tok) >= 5 and used_by.get(tok, ids) <= ids
        }
        self.vocab = sorted(set(self.weight) | set(self.artist_words))
        self.variants_of: dict[str, list[int]] = defaultdict(list)
        for i, (_, tokens) in enumerate(self.variants):
            for tok in set(tokens):
                self.variants_of[tok].append(i)
        self.sounds: dict[str, list[str]] = defaultdict(list)
        for word in self.vocab:
            if len(word) >= 4:
                self.sounds[sound(word)].append(word)

    def _resolve(self, word: str) -> list[str]:
        """The name words a question word stands for (itself, or close misspellings)."""
        if word in self.weight or word in self.artist_words:
            return [word]
        if len(word) < 4 or word.isdigit():
            return []
        key = sound(word)
        if len(key) >= 3 and key in self.sounds:
            # a short word must also start alike: 'nite' is 'night', 'wash' is not 'vase'
            return [w for w in self.sounds[key] if len(word) >= 5 or w[0] == word[0]]
        if len(word) < 5:
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
        covered: dict[str, float] = {}
        matched: set[str] = set()
        candidates = sorted({i for w in resolved for i in self.variants_of.get(w, [])})
        for ex_id, tokens in (self.variants[i] for i in candidates):
            total = sum(self.weight[t] for t in tokens)
            found = [t for t in tokens if t in resolved]
            share = sum(self.weight[t] for t in found) / total
            # a distinctive word names its work alone, if spelled right or long enough
            if any(t in self.distinctive and (resolved[t] == t or len(resolved[t]) >= 5)
                   for t in found):
                share = max(share, DISTINCTIVE_SHARE)
            if share > titles.get(ex_id, 0.0):
                titles[ex_id] = share
                covered[ex_id] = sum(self.weight[t] for t in found)
            if share >= 0.5:
                matched.update(resolved[t] for t in found)
        artists = {w: self.artist_words[w] for w in resolved if w in self.artist_words}
        matched.update(resolved[w] for w in artists)
        return Mentions(titles=titles, covered=covered, artists=artists,
                        matched=frozenset(matched))
