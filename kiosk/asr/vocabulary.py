"""Phrases from the content that recognition should favour: titles, artists, rooms."""

from __future__ import annotations

from kiosk.content.model import Pack


def phrases(pack: Pack, limit: int = 40) -> list[str]:
    """The names visitors will say, most important works first, without repeats."""
    out: list[str] = []
    for ex in sorted(pack.exhibits, key=lambda e: (-e.priority, e.id)):
        for text in [*ex.title.values(), *ex.artist.values()]:
            if text not in out:
                out.append(text)
    return out[:limit]
