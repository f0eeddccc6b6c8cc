"""Answer, ask "which one?", or decline — from the scorer's probabilities and two thresholds.

- **clarify** when two or more works each hold at least ``clarify`` of the probability (the
  visitor may mean either: guessing would risk a wrong answer);
- else **answer** with the best candidate when its probability reaches ``answer``;
- else **decline** honestly.

The thresholds are fitted with the scorer's weights (``kiosk/qa/train``) and can be re-fitted on
a museum's own questions (``kiosk calibrate``); settings may override them (``[qa]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kiosk.events import SourceKind
from kiosk.qa.sources import Candidate

ANSWER = "answer"
CLARIFY = "clarify"
DECLINE = "decline"


@dataclass(frozen=True)
class Thresholds:
    """The decision's only numbers."""

    answer: float
    """Least probability of the best candidate to answer with it."""
    clarify: float
    """Least probability each of two works needs for 'which one do you mean?'."""


@dataclass(frozen=True)
class Decision:
    """What to do with one question."""

    action: str
    """answer | clarify | decline."""
    best: int = -1
    """Index of the candidate to answer with (answer), else of the best one (-1: none)."""
    works: tuple[str, ...] = ()
    """The works to choose between (clarify): higher priority first, then the more likely."""
    probability: float = 0.0
    """The best candidate's probability."""


def decide(candidates: list[Candidate], probs: np.ndarray, t: Thresholds) -> Decision:
    """The decision on a question's candidates."""
    return decide_works([c.ref if c.kind is not SourceKind.FAQ else "" for c in candidates],
                        probs, t,
                        {c.ref: c.priority for c in candidates if c.kind is not SourceKind.FAQ})


def decide_works(works: Sequence[str], probs: np.ndarray, t: Thresholds,
                 priority: Mapping[str, float] | None = None) -> Decision:
    """The decision from each candidate's work ('' for practical entries) and probability:
    what the kiosk does, and what the training and `kiosk calibrate` score thresholds by."""
    if not len(works):
        return Decision(DECLINE)
    best = int(np.argmax(probs))
    top = float(probs[best])
    mass: dict[str, float] = {}  # probability that the answer is about each work
    for work, p in zip(works, probs.tolist(), strict=True):
        if work:
            mass[work] = mass.get(work, 0.0) + p
    ranked = sorted(mass.items(), key=lambda kv: (-kv[1], kv[0]))
    likely = [ref for ref, m in ranked if m >= t.clarify]
    if len(likely) >= 2:  # the curators' priority first, then the likelier
        likely.sort(key=lambda ref: -(priority or {}).get(ref, 0.0))  # stable: mass order kept
        return Decision(CLARIFY, best, tuple(likely), top)
    if top >= t.answer:
        return Decision(ANSWER, best, (), top)
    return Decision(DECLINE, best, (), top)
