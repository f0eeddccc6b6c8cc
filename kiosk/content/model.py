"""The validated content of one pack, as frozen dataclasses (pure: no engine imports)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

Localized = dict[str, str]

FACT_FIELDS = ("title", "artist", "date", "medium", "room", "dimensions")


def pick(text: Localized, lang: str, fallback: str) -> tuple[str, str]:
    """The text in ``lang`` if written, else in ``fallback``; returns (text, its language)."""
    if text.get(lang):
        return text[lang], lang
    if text.get(fallback):
        return text[fallback], fallback
    for code, value in text.items():
        if value:
            return value, code
    return "", lang


@dataclass(frozen=True)
class QaPair:
    """A curated question (several phrasings per language) and its answer."""

    questions: dict[str, list[str]]
    """Phrasings visitors use, per language."""
    answer: Localized
    """The curated answer, per language."""


@dataclass(frozen=True)
class Exhibit:
    """One work on show."""

    id: str
    """Unique id (defaults to the file name)."""
    title: Localized
    """Title per language."""
    artist: Localized
    """Who made it."""
    date: Localized = field(default_factory=dict)
    """When it was made, as a curator writes it ("about 1658")."""
    medium: Localized = field(default_factory=dict)
    """What it is made of."""
    room: Localized = field(default_factory=dict)
    """Where it hangs."""
    dimensions: Localized = field(default_factory=dict)
    """Its size as the museum records it ("45.5 × 41 cm")."""
    image: str = ""
    """Image path inside the pack or bundle."""
    aliases: list[str] = field(default_factory=list)
    """Other names visitors use for it."""
    tags: list[str] = field(default_factory=list)
    """Free keywords."""
    priority: int = 0
    """Higher wins ties between near-equal answers and comes first in suggestions."""
    on_view_from: str | None = None
    """First day it is on view (ISO date), if limited."""
    on_view_until: str | None = None
    """Last day it is on view (ISO date), if limited."""
    description: Localized = field(default_factory=dict)
    """Paragraphs the kiosk may quote."""
    qa: list[QaPair] = field(default_factory=list)
    """Curated questions and answers."""
    source_file: str = ""
    """The pack file it came from (for messages)."""

    def on_view(self, today: dt.date) -> bool:
        """Whether the work is offered on ``today``."""
        iso = today.isoformat()
        if self.on_view_from and iso < self.on_view_from:
            return False
        return not (self.on_view_until and iso > self.on_view_until)


@dataclass(frozen=True)
class FaqEntry:
    """A practical question (toilets, hours...)."""

    id: str
    """Unique id."""
    questions: dict[str, list[str]]
    """Phrasings per language."""
    answer: Localized
    """The answer per language."""


@dataclass(frozen=True)
class Museum:
    """The pack's header."""

    name: Localized
    """The museum's name."""
    languages: list[str]
    """Languages the pack is written in."""
    default_language: str
    """Language used when a text is missing in the visitor's."""
    replies: dict[str, Localized] = field(default_factory=dict)
    """greeting, unknown, clarify, out_of_scope per language."""


@dataclass(frozen=True)
class Pack:
    """A whole validated content pack."""

    museum: Museum
    """The header."""
    exhibits: list[Exhibit]
    """The works, in file-name order."""
    faq: list[FaqEntry]
    """The practical questions."""

    def exhibit(self, exhibit_id: str) -> Exhibit | None:
        for exhibit in self.exhibits:
            if exhibit.id == exhibit_id:
                return exhibit
        return None

    def to_records(self) -> dict[str, Any]:
        """Plain JSON-able records (for the bundle's TinyDB)."""
        return {
            "museum": asdict(self.museum),
            "exhibits": [asdict(e) for e in self.exhibits],
            "faq": [asdict(f) for f in self.faq],
        }

    @staticmethod
    def from_records(museum: dict[str, Any], exhibits: list[dict[str, Any]],
                     faq: list[dict[str, Any]]) -> Pack:
        return Pack(
            museum=Museum(**museum),
            exhibits=[
                Exhibit(**{**e, "qa": [QaPair(**q) for q in e.get("qa", [])]}) for e in exhibits
            ],
            faq=[FaqEntry(**f) for f in faq],
        )
