"""The searchable form of one content version: units of text, their vectors, names, words.

A *unit* is one thing a question can match: a phrasing of a curated question (``qa``), a
phrasing of a practical question (``faq``), or one sentence of a description (``sentence``).
Vectors are computed once, when a bundle is built (or when a pack is opened directly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from kiosk.content.model import Pack
from kiosk.ports import Encoder, Vectors
from kiosk.qa.text import sentences
from kiosk.qa.vector_cache import VectorCache

PASSAGES = frozenset({"sentence", "answer"})
"""Unit kinds that answer questions (encoded as passages)."""


@dataclass(frozen=True)
class Unit:
    """One matchable text."""

    kind: str
    """``qa`` or ``faq`` (a phrasing of a curated or practical question), ``answer`` (its
    answer), ``sentence`` (of a description), or ``title`` (a work's name, to recognise it by
    meaning in any language)."""
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
            units += [Unit("answer", ex.id, i, lang, a) for lang, a in sorted(pair.answer.items())]
        for lang, paragraph in sorted(ex.description.items()):
            units += [Unit("sentence", ex.id, j, lang, s)
                      for j, s in enumerate(sentences(paragraph))]
    for entry in pack.faq:
        for lang, phrasings in sorted(entry.questions.items()):
            units += [Unit("faq", entry.id, 0, lang, q) for q in phrasings]
        units += [Unit("answer", entry.id, 0, lang, a) for lang, a in sorted(entry.answer.items())]
    return units


def encode_units(units: list[Unit], encoder: Encoder,
                 progress: Callable[[int], None] | None = None, batch: int = 64,
                 cache: VectorCache | None = None) -> Vectors:
    """Vectors of every unit, in order (``progress`` is told how many were done): sentences
    and answers as passages, questions and titles as questions."""
    if not units:
        return np.asarray(encoder.encode([]), dtype=np.float32)
    out: np.ndarray | None = None
    for passage in (False, True):
        rows = [i for i, u in enumerate(units) if (u.kind in PASSAGES) == passage]
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            texts = [units[i].text for i in chunk]
            vectors = cache.encode(encoder, texts, passage) if cache is not None else \
                encoder.encode(texts, passage)
            if out is None:
                out = np.zeros((len(units), vectors.shape[1]), dtype=np.float32)
            out[chunk] = vectors
            if progress:
                progress(len(chunk))
    assert out is not None
    return out


def units_to_records(units: list[Unit]) -> list[dict[str, object]]:
    return [asdict(u) for u in units]


def units_from_records(records: list[dict[str, object]]) -> list[Unit]:
    return [Unit(**r) for r in records]  # type: ignore[arg-type]
