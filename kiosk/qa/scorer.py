"""The learned scorer: how likely each candidate is to answer the question, and how likely none
does.

A conditional logit with a "none of them" option: candidate ``c`` gets the score
``w[group(c)] · standardised(features(c)) + b[kind(c)]``, "none" gets 0, and a softmax over
all of them gives probabilities that sum to one. The weights are learned by
``python -m kiosk.qa.train`` (``make weights``) on training packs and questions, and ship in
``kiosk/qa/weights/<encoders>.json``; nothing in them names a work or a question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from kiosk.errors import ModelError
from kiosk.events import SourceKind
from kiosk.qa.sources import WEIGHT_NAME, Candidate

BIAS_KEYS = ("fact:artist", "fact:date", "fact:medium", "fact:room", "fact:size", "fact:title",
             "fact:about", "qa", "faq", "sentence")
GROUPS = ("fact", "fact:title", "fact:about", "qa", "faq", "sentence")
PRIORITY_LOGIT = 0.2
"""Each point of a work's ``priority`` adds this to its candidates' scores (its odds ×1.22):
priority 10 against 0 turns most near ties into an answer, 2 against 1 still asks "which one?";
among choices the higher priority always comes first (``policy.decide``). Curators set
priorities; the training cannot learn what they mean (its packs barely use them), so this one is
set by hand."""


def offsets(priorities: list[float] | np.ndarray) -> np.ndarray:
    """The curators' priorities as score offsets."""
    return PRIORITY_LOGIT * np.asarray(priorities, dtype=np.float64)


def bias_key(c: Candidate) -> str:
    return f"fact:{c.item}" if c.kind is SourceKind.FACT else WEIGHT_NAME[c.kind]


@dataclass(frozen=True)
class Weights:
    """A trained scorer."""

    encoders: tuple[str, ...]
    """The encoders (keys) whose similarities it reads, in order."""
    features: tuple[str, ...]
    """Feature names, in column order."""
    mean: np.ndarray
    """Per feature: subtracted before weighting."""
    scale: np.ndarray
    """Per feature: divided by after ``mean``."""
    weights: dict[str, np.ndarray]
    """Per group: one weight per feature."""
    bias: dict[str, float]
    """Per candidate kind (facts: per field)."""
    thresholds: dict[str, float]
    """The decision's thresholds (``kiosk/qa/policy.py``) fitted with the weights."""
    meta: dict[str, Any]
    """How it was trained (recipe, data, seed): shown by ``kiosk models list``."""

    def logits(self, features: np.ndarray, groups: list[str], keys: list[str],
               offset: np.ndarray | None = None) -> np.ndarray:
        """Each row's logit ("none" is 0), from its features, weight group, bias key and
        offset (``offsets``: the priorities)."""
        if not len(features):
            return np.zeros(0)
        x = (features - self.mean) / self.scale
        w = np.stack([self.weights[g] for g in groups])
        b = np.array([self.bias[k] for k in keys])
        z = (x * w).sum(axis=1) + b
        return np.asarray(z if offset is None else z + offset, dtype=np.float64)

    def probabilities(self, candidates: list[Candidate]) -> tuple[np.ndarray, float]:
        """(probability of each candidate, probability that none answers)."""
        if not candidates:
            return np.zeros(0), 1.0
        return softmax_with_none(self.logits(np.stack([c.features for c in candidates]),
                                             [c.group for c in candidates],
                                             [bias_key(c) for c in candidates],
                                             offsets([c.priority for c in candidates])))

    def to_json(self) -> dict[str, Any]:
        return {"encoders": list(self.encoders), "features": list(self.features),
                "mean": _rounded(self.mean), "scale": _rounded(self.scale),
                "weights": {g: _rounded(w) for g, w in self.weights.items()},
                "bias": {k: round(v, 6) for k, v in self.bias.items()},
                "thresholds": self.thresholds, "meta": self.meta}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Weights:
        features = tuple(str(f) for f in data["features"])
        n = len(features)

        def vector(values: Any) -> np.ndarray:
            v = np.asarray(values, dtype=np.float64)
            if v.shape != (n,) or not np.isfinite(v).all():
                raise ValueError("bad vector")
            return v

        weights = {g: vector(data["weights"][g]) for g in GROUPS}
        bias = {k: float(data["bias"][k]) for k in BIAS_KEYS}
        scale = vector(data["scale"])
        if (scale <= 0).any():
            raise ValueError("bad scale")
        return Weights(tuple(str(e) for e in data["encoders"]), features, vector(data["mean"]),
                       scale, weights, bias,
                       {str(k): float(v) for k, v in data["thresholds"].items()},
                       dict(data.get("meta", {})))


def softmax_with_none(z: np.ndarray) -> tuple[np.ndarray, float]:
    """Probabilities of logits ``z`` next to a "none" option of logit 0."""
    top = max(float(z.max()) if len(z) else 0.0, 0.0)
    e = np.exp(z - top)
    none = float(np.exp(-top))
    total = float(e.sum()) + none
    return e / total, none / total


def _rounded(v: np.ndarray) -> list[float]:
    return [round(float(x), 6) for x in v]


def weights_name(encoders: tuple[str, ...]) -> str:
    return "+".join(encoders) + ".json"


def load_weights(encoders: tuple[str, ...]) -> Weights:
    """The shipped scorer for these encoders; ModelError when there is none or it is damaged."""
    name = weights_name(encoders)
    try:
        text = resources.files("kiosk.qa").joinpath("weights", name).read_text(encoding="utf-8")
        return Weights.from_json(json.loads(text))
    except FileNotFoundError:
        raise ModelError(f"no answer scorer for the encoders {', '.join(encoders)} "
                         f"(kiosk/qa/weights/{name}) — choose models.encoder from "
                         "`kiosk models list`, or train one with `make weights`") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"kiosk/qa/weights/{name} is damaged ({exc}) — reinstall the kiosk "
                         "or run `make weights`") from None
