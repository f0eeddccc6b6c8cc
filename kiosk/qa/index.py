"""The searchable form of one content version: units of text, their vectors, names, words.

A *unit* is one thing a question can match: a phrasing of a curated question (``qa``), a
phrasing of a practical question (``faq``), or one sentence of a description (``sentence``).
Vectors are computed once, when a bundle is built (or when a pack is opened directly).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from kiosk.content.model import Pack
from kiosk.ports import Encoder, Vectors
from kiosk.qa.text import content_words, sentences, stem


@dataclass(frozen=True)
class Unit:
    """One matchable text."""

    kind: str
    """``qa``, ``faq``, ``sentence``, or ``title`` (a work's name, to recognise it by meaning
    in any language)."""
    ref: str
    """The exhibit or FAQ id."""
    item: int
    """Which Q&A pair, or which sentence of the description."""
    lang: str
    """The language of ``text``."""
    text: str
    """The phrasing or sentence."""


def build_units(pack: Pack) -> list[Unit]:
    """Every unit of a pack, in a stable order."""
    units: list[Unit] = []
    for ex in pack.exhibits:
        names = sorted({(lang, t) for lang, t in ex.title.items()}
                       | {("", alias) for alias in ex.aliases})
        units += [Unit("title", ex.id, k, lang, t) for k, (lang, t) in enumerate(names)]
        for i, pair in enumerate(ex.qa):
            for lang, phrasings in sorted(pair.questions.items()):
                units += [Unit("qa", ex.id, i, lang, q) for q in phrasings]
        for lang, paragraph in sorted(ex.description.items()):
            units += [Unit("sentence", ex.id, j, lang, s)
                      for j, s in enumerate(sentences(paragraph))]
    for entry in pack.faq:
        for lang, phrasings in sorted(entry.questions.items()):
            units += [Unit("faq", entry.id, 0, lang, q) for q in phrasings]
    return units


def encode_units(units: list[Unit], encoder: Encoder,
                 progress: Callable[[int], None] | None = None, batch: int = 64) -> Vectors:
    """Vectors of every unit, in order (``progress`` is told how many were done)."""
    parts = []
    for start in range(0, len(units), batch):
        chunk = units[start:start + batch]
        parts.append(encoder.encode([u.text for u in chunk]))
        if progress:
            progress(len(chunk))
    if not parts:
        return np.zeros((0, 512), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32)


class Lexical:
    """Shared-word evidence between a question and sentences (IDF-weighted stem overlap)."""

    def __init__(self, texts: list[list[tuple[str, str]]]) -> None:
        """``texts``: per document, its parts as (text, language)."""
        self.stems = [frozenset(stem(w) for text, lang in parts for w in content_words(text, lang))
                      for parts in texts]
        df = Counter(s for stems in self.stems for s in stems)
        n = max(len(texts), 1)
        self.idf = {s: math.log(1 + n / c) for s, c in df.items()}
        self.unknown_idf = math.log(1 + n)

    def overlap(self, question: str, lang: str, rows: np.ndarray,
                ignore: frozenset[str]) -> np.ndarray:
        """For each row: share of the question's (weighted) word stems the document holds."""
        q = {stem(w) for w in content_words(question, lang) if w not in ignore}
        if not q:
            return np.zeros(len(rows), dtype=np.float32)
        weights = {s: self.idf.get(s, self.unknown_idf) for s in q}
        total = sum(weights.values())
        out = np.zeros(len(rows), dtype=np.float32)
        for k, row in enumerate(rows):
            hit = q & self.stems[row]
            if hit:
                out[k] = sum(weights[s] for s in hit) / total
        return out


def units_to_records(units: list[Unit]) -> list[dict[str, object]]:
    return [asdict(u) for u in units]


def units_from_records(records: list[dict[str, object]]) -> list[Unit]:
    return [Unit(**r) for r in records]  # type: ignore[arg-type]
