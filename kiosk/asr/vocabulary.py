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


def words_for(pack: Pack, lang: str) -> list[str]:
    """Everything a visitor may say in ``lang`` that the content knows: names of works,
    artists and rooms, aliases, and the curated and FAQ questions (their question words).
    A Vosk grammar is built from these."""
    out: list[str] = []
    for ex in pack.exhibits:
        out += [ex.title.get(lang, ""), ex.artist.get(lang, ""), ex.room.get(lang, ""),
                *ex.aliases]
        for qa in ex.qa:
            out += qa.questions.get(lang, [])
    for entry in pack.faq:
        out += entry.questions.get(lang, [])
    return [text for text in dict.fromkeys(out) if text]
