"""Fit the scorer's weights (a conditional logit with a "none" option) and its thresholds.

Pure numpy and deterministic: full-batch Adam from zeros, no sampling, no shuffling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kiosk.evaluation import NONE
from kiosk.qa.policy import ANSWER, CLARIFY, Thresholds, decide_works
from kiosk.qa.scorer import BIAS_KEYS, GROUPS, Weights, softmax_with_none
from kiosk.qa.train.examples import Example


@dataclass(frozen=True)
class Stacked:
    """Every example's candidates in one matrix."""

    x: np.ndarray
    group: np.ndarray
    key: np.ndarray
    positive: np.ndarray
    question: np.ndarray
    """Per candidate row: the index of its question."""
    n_questions: int
    offset: np.ndarray
    """Per candidate row: its fixed score offset (the priorities)."""


def stack(examples: list[Example], mean: np.ndarray, scale: np.ndarray) -> Stacked:
    x = np.concatenate([e.features for e in examples]).astype(np.float64)
    return Stacked((x - mean) / scale, np.concatenate([e.groups for e in examples]),
                   np.concatenate([e.keys for e in examples]),
                   np.concatenate([e.positive for e in examples]),
                   np.concatenate([np.full(len(e.features), i) for i, e in enumerate(examples)]),
                   len(examples), np.concatenate([e.offset for e in examples]))


def standardisation(examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([e.features for e in examples]).astype(np.float64)
    scale = x.std(axis=0)
    return x.mean(axis=0), np.where(scale > 1e-6, scale, 1.0)


def _loss_grad(w: np.ndarray, b: np.ndarray, s: Stacked,
               l2: float) -> tuple[float, np.ndarray, np.ndarray]:
    z = (s.x * w[s.group]).sum(axis=1) + b[s.key] + s.offset
    q = s.question
    top = np.maximum(np.zeros(s.n_questions), np.full(s.n_questions, -np.inf))
    np.maximum.at(top, q, z)
    e = np.exp(z - top[q])
    total = np.exp(-top)
    np.add.at(total, q, e)
    p = e / total[q]
    pos_e = np.where(s.positive, e, 0.0)
    pos_total = np.zeros(s.n_questions)
    np.add.at(pos_total, q, pos_e)
    has_pos = pos_total > 0
    target = np.where(has_pos[q], pos_e / np.where(pos_total[q] > 0, pos_total[q], 1.0), 0.0)
    loss = float((np.log(total) + top).sum()
                 - (np.log(pos_total[has_pos]) + top[has_pos]).sum())
    g = p - target
    gw = np.zeros_like(w)
    np.add.at(gw, s.group, g[:, None] * s.x)
    gb = np.zeros_like(b)
    np.add.at(gb, s.key, g)
    n = s.n_questions
    return loss / n + l2 * float((w * w).sum()), gw / n + 2 * l2 * w, gb / n


def fit(examples: list[Example], l2: float, steps: int,
        learning_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(weights per group, bias per key, mean, scale, final loss)."""
    mean, scale = standardisation(examples)
    s = stack(examples, mean, scale)
    w = np.zeros((len(GROUPS), s.x.shape[1]))
    b = np.zeros(len(BIAS_KEYS))
    mw, vw, mb, vb = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    loss = 0.0
    for t in range(1, steps + 1):
        loss, gw, gb = _loss_grad(w, b, s, l2)
        mw = beta1 * mw + (1 - beta1) * gw
        vw = beta2 * vw + (1 - beta2) * gw * gw
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        rate = learning_rate * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        w -= rate * mw / (np.sqrt(vw) + eps)
        b -= rate * mb / (np.sqrt(vb) + eps)
    return w, b, mean, scale, loss


def make_weights(encoders: tuple[str, ...], features: tuple[str, ...], w: np.ndarray,
                 b: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                 thresholds: dict[str, float], meta: dict[str, Any]) -> Weights:
    return Weights(encoders, features, mean, scale,
                   {g: w[i] for i, g in enumerate(GROUPS)},
                   {k: float(b[i]) for i, k in enumerate(BIAS_KEYS)}, thresholds, meta)


def probabilities(weights: Weights, e: Example) -> np.ndarray:
    """The scorer's probability of each of an example's candidates."""
    z = weights.logits(e.features, [GROUPS[g] for g in e.groups.tolist()],
                       [BIAS_KEYS[k] for k in e.keys.tolist()], e.offset)
    return softmax_with_none(z)[0]


def outcome(example: Example, probs: np.ndarray, t: Thresholds) -> str:
    """What ``policy.decide`` makes of one example: right, wrong, clarified, declined."""
    none_expected = example.question.expect == NONE
    d = decide_works(example.works, probs, t)
    if d.action == ANSWER:
        return "wrong" if none_expected or not example.positive[d.best] else "right"
    if none_expected:
        return "right"
    if d.action == CLARIFY:
        return "right" if example.question.choices_right(set(d.works)) else "clarified"
    return "declined"


def choose_thresholds(examples: list[Example], weights: Weights, answer: list[float],
                      clarify: list[float], wrong_cost: float,
                      clarify_cost: float) -> tuple[Thresholds, dict[str, float]]:
    """The thresholds with the least cost on these examples (ties: the highest, i.e. the more
    cautious), and the outcome shares they give."""
    probs = [probabilities(weights, e) for e in examples]
    best: tuple[float, float, float] | None = None
    chosen = Thresholds(answer[0], clarify[0])
    for a in answer:
        for c in clarify:
            t = Thresholds(a, c)
            results = [outcome(e, p, t) for e, p in zip(examples, probs, strict=True)]
            cost = (wrong_cost * results.count("wrong") + results.count("declined")
                    + clarify_cost * results.count("clarified"))
            key = (cost, -a, -c)
            if best is None or key < best:
                best, chosen = key, t
    results = [outcome(e, p, chosen) for e, p in zip(examples, probs, strict=True)]
    shares = {k: round(results.count(k) / max(len(results), 1), 4)
              for k in ("right", "wrong", "declined", "clarified")}
    return chosen, shares
