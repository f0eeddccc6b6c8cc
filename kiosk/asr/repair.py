"""Names the recogniser misheard, put back from the content: titles, artists, aliases, places
and the curated questions' rarer words, in every language of the pack.

Whisper writes a name it does not know as ordinary-looking words ("the raft on the madoo sir",
"la válsa de la menúsa"). A run of the transcript's words (a name's length, ±1 word) is
compared with the pack's names twice: as spelled (rapidfuzz ``ratio`` of the folded words) and
as pronounced (the same ratio over a rough phonetic key written for the transcript's language,
``key``). A run becomes a name only with name-like evidence:

- it holds a word that nothing explains (not a common word of the language, not a word of the
  pack's texts): a run of ordinary or already right words is left as it is;
- both ratios agree (each at least ``FLOOR``, their mean at least ``AGREE``), and each of the
  name's uncommon words has a heard counterpart that sounds like it;
- the name has enough letters outside its stopwords (``MIN_LETTERS``), and no name of another work
  fits the same words nearly as well.

So "where are the toilets" or "qui a peint ce tableau" stay as they are, and so does a name
that the pack does not hold. The opening words of a question ("quién pintó", heard as one
invented word "Quiempinto") are put back the same way when every word of the run is invented
and the transcript holds a name.

Pure: rapidfuzz and the content model only. Built once per pack (``NameRepair(pack)``), in
about a second for 1,000 works; a repair takes well under 5 ms (``bench/names.py``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from kiosk.asr.vocabulary import (
    VISITOR_LANGUAGES,
    common_words,
    curated_words,
    folded_words,
    names,
    openings,
    pack_texts,
    phrasings,
)
from kiosk.content.model import Pack
from kiosk.qa.text import STOPWORDS_BY_LANG, WORD, fold

AGREE = 80
"""Least mean of the two ratios (0-100) of a run and a name: folded words and phonetic keys."""
FLOOR = 72
"""Least of each of the two ratios."""
STRICT = (88, 75)
"""Least sound and spelling ratios for a name of one word besides stopwords (a surname, "Las
Meninas", "le gazomètre", a curated word): one word is weak evidence."""
OPENING_FLOOR = 78
"""Least of each ratio for the opening words of a question (invented words only)."""
LENGTH = 3.0
"""Taken off the score for each word a run has more than the name."""
COVER = 60
"""Least key ratio between each uncommon word of a name and its heard counterpart."""
MIN_LETTERS = 6
"""Fewest letters a name must have outside its stopwords to be repaired ("Goya" is not)."""
NEAR_WORD = 67
"""Least key ratio for a heard word to make a name a candidate (a cheap first pass)."""
MARGIN = 3.0
"""Names of two works scoring this close over the same words: neither is put in."""
FOREIGN = 2.0
"""Taken off the score of a title written in another language than the transcript's."""
MAX_SHARED = 25
"""A name word found in more names than this does not make them candidates ('portrait')."""
OPENING = "opening"
"""The owner of the opening words of questions."""

# Rough phonetic keys: how a word of each language sounds, spelled one way. "x" stands for the
# "sh" sound, "j" for French j / Spanish jota; the rules of a language apply to every word said
# in it (a Spaniard saying "Vermeer", Whisper writing it down in Spanish).
_RULES = {
    "en": [(r"tch", "ch"), (r"ght", "t"), (r"gh", ""), (r"^kn", "n"), (r"^wr", "r"),
           (r"^wh", "w"), (r"ph", "f"), (r"th", "t"), (r"ck", "k"), (r"qu", "kw"),
           (r"x", "ks"), (r"c(?=[eiy])", "s"), (r"sh|ch", "x"), (r"c", "k"), (r"z", "s"),
           (r"ee|ea|ie|ei|ey|y", "i"), (r"oo|ou", "u"), (r"ai|ay", "e"), (r"au|aw", "o"),
           (r"(?<=..[^aeiou])e$", ""), (r"(.)\1+", r"\1")],
    "fr": [(r"eaux?$|aux?$|eau|au", "o"), (r"ph", "f"), (r"th", "t"), (r"sch|ch|sh", "x"),
           (r"qu|q", "k"), (r"g(?=[eiy])", "j"), (r"gu(?=[eiy])", "g"),
           (r"c(?=[eiy])", "s"), (r"c", "k"), (r"oi|oy", "wa"), (r"ou", "u"), (r"gn", "ni"),
           (r"(?<=[aeiou])ill", "i"), (r"ai|ei", "e"), (r"(?:er|ez|et)$", "e"),
           (r"[ae][nm](?![aeiouyhnm])", "A"), (r"o[nm](?![aeiouyhnm])", "O"),
           (r"(?:ai|ei|i|u|y)[nm](?![aeiouyhnm])", "E"), (r"(?<=.)[stdxzp]+$", ""),
           (r"(?<=..)e$", ""), (r"h", ""), (r"y", "i"), (r"w", "v"), (r"z", "s"),
           (r"x(?=[aeiou])", "ks"), (r"(.)\1+", r"\1")],
    "es": [(r"ch", "X"), (r"sh", "x"), (r"ph", "f"), (r"th", "t"), (r"h", ""), (r"ll", "y"),
           (r"y$", "i"), (r"v", "b"), (r"cc(?=[ei])", "ks"), (r"c(?=[ei])|z", "s"),
           (r"qu|q|c", "k"), (r"g(?=[ei])", "j"), (r"gu(?=[ei])", "g"), (r"x", "ks"),
           (r"w", "u"), (r"(.)\1+", r"\1")],
}
_COMPILED = {lang: [(re.compile(a), b) for a, b in rules] for lang, rules in _RULES.items()}


@lru_cache(maxsize=1 << 15)
def key(word: str, lang: str) -> str:
    """A folded word's rough sound in ``lang`` ("meduse" → "medus", "nenufares" → "nenufares",
    "night" → "nit"); unknown languages use the English rules."""
    for pattern, repl in _COMPILED.get(lang, _COMPILED["en"]):
        word = pattern.sub(repl, word)
    return word.lower()


def key_of(words: Iterable[str], lang: str) -> str:
    """The key of words said in a row (spaces out: "mes nines" meets "menines")."""
    return "".join(key(w, lang) for w in words)


@dataclass(frozen=True)
class Fix:
    """One run of heard words replaced by a name of the content."""

    heard: str
    """The words as recognised."""
    name: str
    """What was put in their place."""
    score: float
    """How alike they are, 0-100 (the mean of the spelling and sound ratios)."""
    opening: bool = False
    """The opening words of a question ("quién pintó"), not a name."""


@dataclass(frozen=True)
class Repaired:
    """A transcript after repair."""

    text: str
    """What the answerer should read."""
    heard: str
    """The hypothesis the repair started from (the recogniser's best, or a better n-best)."""
    fixes: tuple[Fix, ...] = ()
    """What was changed, in the text's order."""


@dataclass(frozen=True)
class _Name:
    text: str
    """As the content writes it."""
    words: tuple[str, ...]
    """Folded."""
    owner: str
    """The exhibit, 'artist:…', 'room:…', 'museum' or ``OPENING``."""
    key: str
    """Its phonetic key in the index's language."""
    rare: tuple[str, ...]
    """The keys of its uncommon words (each must be heard)."""
    ends: tuple[tuple[str, ...], tuple[str, ...]]
    """The keys of its first two and last two words (where a heard run may start and end)."""
    strict: bool
    """One word besides stopwords: ``STRICT`` applies."""
    penalty: float = 0.0
    """``FOREIGN`` for a title in another language."""
    proper: bool = True
    """A name (title, alias, artist, place), not a curated question's word or an opening."""


Match = tuple[float, int, int, _Name]
"""Score, first and end word of the run, the name."""


class _Language:
    """The names as heard in one language."""

    def __init__(self, lang: str, names: dict[str, tuple[str, float, bool]],
                 common: frozenset[str],
                 known: frozenset[str]) -> None:
        self.lang, self.common, self.known = lang, common, known
        """``known``: words that explain themselves (common, or of the pack's texts)."""
        self.names: list[_Name] = []
        stop = STOPWORDS_BY_LANG.get(lang, frozenset())
        for text, (owner, penalty, proper) in names.items():
            words = tuple(WORD.findall(fold(text)))
            rare = tuple(key(w, lang) for w in words if w not in common and not w.isdigit())
            content = [w for w in words if w not in stop or owner == OPENING]
            if (rare or owner == OPENING) and len("".join(content)) >= MIN_LETTERS:
                self.names.append(_Name(
                    text, words, owner, key_of(words, lang), rare,
                    (tuple(key(w, lang) for w in words[:2]),
                     tuple(key(w, lang) for w in words[-2:])),
                    len(content) < 2 and owner != OPENING, penalty, proper))
        holders: dict[str, set[int]] = defaultdict(set)
        for i, name in enumerate(self.names):
            for k in name.rare if name.owner != OPENING else (key_of(name.words, lang),):
                holders[k].add(i)
        self.holding = dict(holders)
        """The names holding a word, by the word's key."""
        shared = {k: ids for k, ids in holders.items() if len(ids) <= MAX_SHARED}
        self.word_keys = list(shared)
        self.holders = [shared[k] for k in self.word_keys]


class NameRepair:
    """The content's names in every language, ready to correct transcripts."""

    def __init__(self, pack: Pack, languages: Iterable[str] = VISITOR_LANGUAGES) -> None:
        self.pack = pack
        self._langs: dict[str, _Language] = {}
        everything = folded_words([*pack_texts(pack, None), *phrasings(None)])
        for lang in dict.fromkeys([*pack.museum.languages, *languages]):
            named = names(pack, lang)
            proper = folded_words(named)
            # a word of the pack's sentences is common there, unless a name holds it
            common = common_words(lang) | (folded_words(pack_texts(pack, lang)) - proper)
            terms = {t: (OPENING, 0.0, False) for t in openings(pack, lang)}
            terms |= {w: (owner, 0.0, False) for w, owner in curated_words(pack, lang).items()}
            terms |= {t: (owner, FOREIGN if foreign else 0.0, True)
                      for t, (owner, foreign) in named.items()}
            self._langs[lang] = _Language(lang, terms, frozenset(common),
                                          frozenset(common | everything | proper))

    def repair(self, text: str, lang: str, alternatives: Sequence[str] = ()) -> Repaired:
        """``text`` with misheard names put right. With ``alternatives`` (the recogniser's
        other hypotheses), the one holding most of the content's names is repaired (the best
        one unless another holds clearly more)."""
        index = self._langs.get(lang)
        if index is None:
            return Repaired(text, text)
        best: Repaired | None = None
        best_cover = 0.0
        for hypothesis in (text, *alternatives):
            repaired, cover = self._repair(index, hypothesis)
            if best is None or cover > best_cover + MIN_LETTERS:
                best, best_cover = repaired, cover
        assert best is not None
        return best

    def _repair(self, index: _Language, text: str) -> tuple[Repaired, float]:
        """The repaired text and how much of the content's names it holds (letters)."""
        spans = [(m.start(), m.end()) for m in WORD.finditer(text)]
        words = [fold(text[a:b]) for a, b in spans]
        keys = [key(w, index.lang) for w in words]
        invented = [i for i, w in enumerate(words)
                    if w not in index.known and len(w) >= 3 and not w.isdigit()]
        found: list[Match] = []
        near = set().union(*(index.holding.get(k, ()) for k in keys))
        if invented:
            near |= self._candidates(index, keys, invented)
        names = [index.names[i] for i in sorted(near)]
        if invented:
            found += _matches(names, _Heard(words, keys, invented))
        found += _exact(names, words)
        chosen = _choose(found)
        cover = sum(len(n.key) * s / 100 for s, _, _, n in chosen if n.owner != OPENING)
        if not cover:  # an opening alone makes a question of noise ("quién pintó de Ciela")
            chosen = []
        fixes = []
        out = text
        for score, a, b, name in sorted(chosen, key=lambda c: -c[1]):
            if a > 0 and words[a - 1] == name.words[0] != words[a] \
                    and not any(a2 < a <= b2 for _, a2, b2, _ in chosen):
                a -= 1  # "la nui étoilée" → "La Nuit étoilée", not "la La Nuit étoilée"
            if words[a:b] != list(name.words):
                heard = text[spans[a][0]:spans[b - 1][1]]
                out = out[:spans[a][0]] + name.text + out[spans[b - 1][1]:]
                fixes.append(Fix(heard, name.text, round(score, 1), name.owner == OPENING))
        return Repaired(out, text, tuple(reversed(fixes))), cover

    @staticmethod
    def _candidates(index: _Language, keys: list[str], invented: list[int]) -> set[int]:
        """Names with a word that sounds like an invented word (or two heard in a row)."""
        queries = {keys[i] for i in invented}
        queries |= {keys[i] + keys[i + 1] for i in invented if i + 1 < len(keys)}
        queries |= {keys[i - 1] + keys[i] for i in invented if i > 0}
        if not index.word_keys:
            return set()
        near = process.cdist(list(queries), index.word_keys, scorer=fuzz.ratio,
                             score_cutoff=NEAR_WORD, dtype=np.uint8, workers=1)
        out: set[int] = set()
        for j in np.flatnonzero(near.any(axis=0)):
            out |= index.holders[j]
        return out


def _exact(names: list[_Name], words: list[str]) -> list[Match]:
    """The names heard as written (they keep their words from shorter or looser matches)."""
    text = " " + " ".join(words) + " "
    out: list[Match] = []
    for name in names:
        spelled = " " + " ".join(name.words) + " "
        at = text.find(spelled)
        if at >= 0 and name.owner != OPENING:
            a = text[:at].count(" ")
            out.append((100.0, a, a + len(name.words), name))
    return out


class _Heard:
    """A transcript's words, their keys, which are invented, and its runs of words."""

    def __init__(self, words: list[str], keys: list[str], invented: list[int]) -> None:
        self.words, self.keys, self.invented = words, keys, set(invented)
        self._runs: dict[int, list[tuple[int, int, str, str]]] = {}

    def runs(self, size: int) -> list[tuple[int, int, str, str]]:
        """(first, end, key, spelling) of the runs of ``size`` words holding an invented
        word (computed once per size)."""
        if size not in self._runs:
            starts = sorted({a for i in self.invented for a in range(i - size + 1, i + 1)
                             if 0 <= a <= len(self.words) - size})
            self._runs[size] = [(a, a + size, "".join(self.keys[a:a + size]),
                                 "".join(self.words[a:a + size])) for a in starts]
        return self._runs[size]


def _matches(names: list[_Name], heard: _Heard) -> list[Match]:
    """Runs of heard words (a name's length ±1, holding an invented word) that spell and
    sound like one of ``names``, each with its score (sounds compared at once, in C)."""
    out: list[Match] = []
    sizes = {n: [x for x in names if len(x.words) == n] for n in {len(x.words) for x in names}}
    for size in range(1, max(sizes, default=0) + 2):
        runs = heard.runs(size)
        near = [x for n in (size - 1, size, size + 1) for x in sizes.get(n, ())]
        if not runs or not near:
            continue
        sounds = process.cdist([r[2] for r in runs], [x.key for x in near], scorer=fuzz.ratio,
                               score_cutoff=FLOOR, workers=1)
        for i, j in zip(*np.nonzero(sounds), strict=True):
            found = _match(near[j], runs[i], float(sounds[i, j]), heard)
            if found is not None:
                out.append(found)
    return out


def _match(name: _Name, run: tuple[int, int, str, str], sound: float,
           heard: _Heard) -> Match | None:
    """The run as ``name``, with its score, if every rule agrees (see the module's doc)."""
    a, b, _, spelled = run
    least = STRICT if name.strict else (OPENING_FLOOR,) * 2 if name.owner == OPENING \
        else (FLOOR, FLOOR)
    if name.owner == OPENING and (a > 0 or not heard.invented.issuperset(range(b))):
        return None  # an opening: at the start, and made of invented words only
    spelling = fuzz.ratio(spelled, "".join(name.words), score_cutoff=least[1])
    score = (sound + spelling) / 2 - LENGTH * max(0, b - a - len(name.words)) - name.penalty
    if sound < least[0] or not spelling or score < AGREE \
            or not _covered(name, heard.keys[a:b]) or _inflected(heard.words[a:b], name.words) \
            or not _bounded(name, heard.keys, a, b, heard.invented):
        return None
    return score, a, b, name


def _inflected(heard: list[str], name: tuple[str, ...]) -> bool:
    """The same words but for an ending ("the milkmaids", "puentes"): the answerer reads
    them as they are."""
    return len(heard) == len(name) and all(
        h == w or (abs(len(h) - len(w)) <= 2 and (h.startswith(w) or w.startswith(h)))
        for h, w in zip(heard, name, strict=True))


def _bounded(name: _Name, keys: list[str], a: int, b: int, invented: set[int]) -> bool:
    """Whether the run starts and ends on words that are invented or sound like one of the
    name's first or last two words (so it takes no real word beside the name: "c'est",
    "female")."""
    return (a in invented or any(fuzz.ratio(keys[a], k) >= COVER for k in name.ends[0])) and \
        (b - 1 in invented or any(fuzz.ratio(keys[b - 1], k) >= COVER for k in name.ends[1]))


def _covered(name: _Name, keys: list[str]) -> bool:
    """Whether each uncommon word of the name sounds like a heard word or two in a row."""
    heard = [*keys, *(x + y for x, y in zip(keys, keys[1:], strict=False))]
    return all(any(fuzz.ratio(r, h) >= COVER for h in heard) for r in name.rare)


def _choose(found: list[Match]) -> list[Match]:
    """The best runs that do not overlap, longer names first at equal agreement. A name heard
    exactly keeps its words from any looser match inside them and from a looser name of
    another owner around them ("barco de Sutton Hoo" is not "Casco de Sutton Hoo"); a run
    where names of two works nearly tie is dropped (the transcript cannot tell them apart)."""
    exact = [(a, b, n) for s, a, b, n in found if s >= 100]
    found = [c for c in found if c[0] >= 100 or not any(
        a <= c[1] and c[2] <= b or c[1] <= a and b <= c[2] and n.proper and n.owner != c[3].owner
        for a, b, n in exact)]
    chosen: list[Match] = []
    for cand in sorted(found, key=lambda c: (-c[0] * len(c[3].key), c[2] - c[1])):
        score, a, b, name = cand
        if any(a < b2 and a2 < b for _, a2, b2, _ in chosen):
            continue
        if any(a < b2 and a2 < b and s * len(n.key) >= (score - MARGIN) * len(name.key)
               and n.owner != name.owner and n.words != name.words for s, a2, b2, n in found):
            continue
        chosen.append(cand)
    return chosen
