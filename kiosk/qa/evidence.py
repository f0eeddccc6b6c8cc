"""What the answerer weighs: candidate replies and the evidence behind a decision."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kiosk.qa.names import Mentions


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the ``k`` best scores, best first (without sorting them all)."""
    if len(scores) > k:
        part = np.argpartition(-scores, k)[:k]
        return part[np.argsort(-scores[part])]
    return np.argsort(-scores)


@dataclass(frozen=True)
class Candidate:
    """One possible reply and its evidence score."""

    score: float
    kind: str  # qa | faq | sentence | fact | unsupported
    ref: str | None
    item: int | str
    overlap: float = 0.0
    """Share of the question's (weighted) words the text holds."""


@dataclass(frozen=True)
class Evidence:
    """Everything the decision is made from."""

    mentions: Mentions
    target: str | None
    named: bool
    choices: list[str]
    candidates: list[Candidate]
    intent: dict[str, float]
    sims: np.ndarray
