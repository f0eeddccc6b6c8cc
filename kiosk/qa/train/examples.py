"""Training examples: every candidate the answerer proposes for a question, its features, and
whether it answers the question (labelled by the text the kiosk would say)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.content.loader import read_pack
from kiosk.evaluation import NONE, EvalQuestion
from kiosk.events import AnswerKind, Question, SourceKind
from kiosk.ports import Encoder, Vectors
from kiosk.qa.answerer import KioskAnswerer, encoder_key
from kiosk.qa.encoder import FusedEncoder
from kiosk.qa.index import build_units, encode_units
from kiosk.qa.scorer import BIAS_KEYS, GROUPS, Weights, bias_key, offsets
from kiosk.qa.sources import Candidate, feature_names
from kiosk.qa.text import fold


@dataclass(frozen=True)
class Example:
    """One question and its candidates."""

    source: str
    """The question set it comes from."""
    question: EvalQuestion
    """The question and its expected answer."""
    features: np.ndarray
    """One row per candidate."""
    groups: np.ndarray
    """Per candidate: its index in ``scorer.GROUPS``."""
    keys: np.ndarray
    """Per candidate: its index in ``scorer.BIAS_KEYS``."""
    positive: np.ndarray
    """Per candidate: whether the kiosk's reply from it answers the question."""
    works: tuple[str, ...]
    """Per candidate: its work ('' for practical entries), for 'which one?'."""
    offset: np.ndarray
    """Per candidate: its fixed score offset (``scorer.offsets``, the priorities)."""
    labels: tuple[str, ...]
    """Per candidate: kind:ref:item, for reports (``--cv-failures``)."""


class CachedEncoder:
    """An encoder remembering every text it encoded (the sets share many texts)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.sha256 = encoder.sha256
        self.cache: dict[tuple[str, bool], np.ndarray] = {}

    def encode(self, texts: Sequence[str], passage: bool = False) -> Vectors:
        missing = sorted({t for t in texts if (t, passage) not in self.cache})
        if missing:
            for text, row in zip(missing, self.encoder.encode(missing, passage), strict=True):
                self.cache[(text, passage)] = row
        return np.stack([self.cache[(t, passage)] for t in texts]).astype(np.float32) \
            if texts else self.encoder.encode([], passage)


def placeholder(encoders: Sequence[Encoder]) -> Weights:
    """Weights of zeros: the answerer needs some to be built; examples do not use them."""
    keys = [encoder_key(e.model_id) for e in encoders]
    names = feature_names(keys)
    n = len(names)
    return Weights(tuple(keys), tuple(names),
                   np.zeros(n), np.ones(n), {g: np.zeros(n) for g in GROUPS},
                   dict.fromkeys(BIAS_KEYS, 0.0), {"answer": 0.5, "clarify": 0.4}, {})


def answerer_for(pack_dir: Path, encoders: Sequence[Encoder],
                 weights: Weights | None = None) -> KioskAnswerer:
    """An answerer over a pack folder with every encoder given (the first is the primary)."""
    pack = read_pack(pack_dir)
    units = build_units(pack)
    encoder: Encoder = encoders[0] if len(encoders) == 1 else FusedEncoder(encoders)
    return KioskAnswerer(pack, units, encode_units(units, encoder), encoder,
                         weights=weights or placeholder(encoders))


def answers(answerer: KioskAnswerer, item: EvalQuestion, c: Candidate) -> bool:
    """Whether the kiosk's reply from candidate ``c`` answers the question as expected."""
    if item.expect == NONE:
        return False
    reply = answerer.reply_for(c, item.lang)
    text = fold(reply.text)
    return reply.kind is AnswerKind.ANSWER and reply.source.ref in item.expected and \
        all(fold(part) in text for part in item.contains)


def examples(answerer: KioskAnswerer, questions: list[EvalQuestion],
             source: str) -> list[Example]:
    """The candidates of every question, labelled."""
    out = []
    for item in questions:
        ev = answerer.explain(Question(item.q, item.lang), item.about)
        cands = ev.candidates
        n = len(cands[0].features) if cands else len(answerer.weights.features)
        out.append(Example(
            source, item,
            np.stack([c.features for c in cands]) if cands else np.zeros((0, n)),
            np.array([GROUPS.index(c.group) for c in cands], dtype=np.int64),
            np.array([BIAS_KEYS.index(bias_key(c)) for c in cands], dtype=np.int64),
            np.array([answers(answerer, item, c) for c in cands], dtype=bool),
            tuple("" if c.kind is SourceKind.FAQ else c.ref for c in cands),
            offsets([c.priority for c in cands]),
            tuple(f"{c.kind}:{c.ref}:{c.item}" for c in cands)))
    return out
