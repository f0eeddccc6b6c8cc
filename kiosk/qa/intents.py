"""The kiosk's built-in knowledge of how visitors ask (kiosk/qa/intents.toml), encoded once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from kiosk.ports import Encoder, Vectors
from kiosk.qa.text import content_words

FACTS = ("artist", "date", "medium", "room", "size", "title", "about")
FIELD_OF = {"size": "dimensions"}
"""The exhibit field an intent is answered from, when its name differs."""
UNSUPPORTED = "unsupported"
GREETING = "greeting"
OUT_OF_SCOPE = "out_of_scope"
MORE = "more"


def load_table() -> dict[str, Any]:
    text = resources.files("kiosk.qa").joinpath("intents.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Intents:
    """Example questions per intent, with their vectors."""

    labels: list[str]
    """The intent of each example row."""
    vectors: Vectors
    """One unit vector per example."""
    table: dict[str, Any]
    """The whole intents.toml (templates, replies, names)."""
    vocabulary: frozenset[str]
    """Every word of the fact examples and of the generic words for a work."""
    generic: frozenset[str]
    """Words for "a work" that name no particular one (painting, tableau, cuadro...)."""

    @staticmethod
    def build(encoder: Encoder) -> Intents:
        table = load_table()
        labels: list[str] = []
        texts: list[str] = []
        groups = [(name, table["intent"][name]["examples"]) for name in FACTS]
        groups += [(UNSUPPORTED, table["unsupported"]["examples"]),
                   (OUT_OF_SCOPE, table["out_of_scope"]["examples"]),
                   (GREETING, table["greeting"]["examples"]),
                   (MORE, table["more"]["examples"])]
        for name, examples in groups:
            labels += [name] * len(examples)
            texts += examples
        vocab = {w for name in FACTS for t in table["intent"][name]["examples"]
                 for w in content_words(t)}
        generic = {w for t in table["generic_words"]["words"] for w in content_words(t)}
        return Intents(labels, encoder.encode(texts), table, frozenset(vocab | generic),
                       frozenset(generic))

    def scores(self, sims: np.ndarray) -> dict[str, float]:
        """Best similarity per intent, from one similarity per example."""
        out: dict[str, float] = {}
        for label, s in zip(self.labels, sims.tolist(), strict=True):
            if s > out.get(label, -1.0):
                out[label] = float(s)
        return out

    def reply(self, name: str, lang: str) -> str | None:
        value = self.table["replies"].get(name, {}).get(lang)
        return str(value) if value else None

    def template(self, intent: str, lang: str) -> str | None:
        value = self.table["intent"].get(intent, {}).get("answer", {}).get(lang)
        return str(value) if value else None

    def language_name(self, code: str, in_lang: str) -> str:
        names = self.table["language_names"].get(in_lang) or self.table["language_names"]["en"]
        return str(names.get(code, code))

    def suggestion(self, key: str, lang: str) -> str | None:
        value = self.table["suggest"].get(lang, {}).get(key)
        return str(value) if value else None
