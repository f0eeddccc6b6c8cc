"""What kind of thing a question asks for (a person, a time, a number, a place), and whether a
text holds that kind of thing — the reader's cheapest clue that a sentence answers.

The question words of each language are in ``kiosk/qa/intents.toml`` (``[asks]``).
"""

from __future__ import annotations

import re
from typing import Any

ASKS = ("who", "when", "where", "how_many")

_YEAR = re.compile(r"\b\d{3,4}\b|\b[IVXLC]+(?:e|er|ème)?\s+(?:siècle|siglo)"
                   r"|\b\d{1,2}(?:st|nd|rd|th)\s+century|\bsiglo\s+[IVXLC]+"
                   r"|\b[IVXLC]+e\s+siècle", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_NAME = re.compile(r"(?<=[\w,;:] )[A-ZÀ-Ý][\w'’-]+")


class Cues:
    """The question words of every language, compiled."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.asks = {kind: re.compile(r"(?:^|\W)(?:" + "|".join(
            re.escape(w) for w in table["asks"][kind]) + r")(?:\W|$)", re.IGNORECASE)
            for kind in ASKS}
        self.number_words = frozenset(w for line in table["asks"]["number_words"]
                                      for w in line.split())

    def asked(self, question: str) -> str:
        """who | when | where | how_many | '' (what, why, how...)."""
        text = question.casefold()
        for kind in ASKS:
            if self.asks[kind].search(text):
                return kind
        return ""

    def holds(self, kind: str, text: str) -> bool:
        """Whether ``text`` holds the kind of thing asked for."""
        if kind == "who":
            return bool(_NAME.search(text))
        if kind == "when":
            return bool(_YEAR.search(text))
        if kind == "how_many":
            return bool(_NUMBER.search(text)) or any(
                w in self.number_words for w in re.findall(r"\w+", text.casefold()))
        if kind == "where":
            return bool(_NAME.search(text))
        return False


FACT_ASKS = {"artist": "who", "date": "when", "room": "where", "size": "how_many"}
"""The kind of thing each fact field is."""
