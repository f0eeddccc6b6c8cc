"""What the content knows that a recogniser should hear: phrases that recognition should
favour (titles, artists, rooms), and the names, words and question openings that
``kiosk.asr.repair`` puts back in transcripts, with the words too common to be evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from kiosk.content.model import Pack
from kiosk.qa.names import artist_names
from kiosk.qa.text import STOPWORDS_BY_LANG, WORD, fold, guess_language

VISITOR_LANGUAGES = ("fr", "en", "es")
"""Languages a transcript may be in besides the pack's."""

COMMON = {
    "en": """all also am an another any anyone anything around asked away back be because
        before being best big bring but buy call came can cannot car child children close
        closed closes coat could day days did does dog done door down each eat end enough
        even every exit far few find first floor food for free friday from front full get
        gift give go going good great had half has have he hear help her here him his home
        hour hours how i if in inside into is it just keep kind know last late leave left
        let life like little long look lot made make man many may me mean men monday more
        morning most much must my name near need new next night nice no not now of off old
        on once one only open or other our out over own part people phone photo photos
        picture place play please put read really right room rooms said same say see seen
        she shop should show side since small so some something sorry still stop such
        sunday take tell than thank thanks that the their them then there these they thing
        things think this those through ticket tickets time times to today toilet toilets
        tomorrow too tour tours toward turn two under up us use very visit wait walk want
        was water way we well went were what when where which while who why will with
        without woman women word work would year years yes yet you young your""",
    "fr": """à accepté acceptés ai aller alors après as aujourd aussi autre autres avant avec
        avez avoir bien billet billets bon bonne boutique ça café car ce cela celui chien
        chiens chose ci combien comme dans date de demain depuis derrière deux devant dire
        dois donc dont dû elle encore enfant enfants entre entrée est et été être étage
        eu faire fait faut femme ferme fermé fin fois gauche grand grande gratuit guide
        heure heures homme ici jour jours jusqu là laisser le lundi mais manger manteau
        même merci mettre mieux moins monde mot musée nom non nous nuit ou où ouvert oui
        par parce parler partir pas passer payer personne petit peu peut peux photo photos
        place plus porte pour pourquoi pouvez premier prendre près puis puis-je quand quel
        que quelque qui quoi rien salle samedi sans savoir semaine si sortie sous suis
        sur tard temps toilettes tout toute tous très trouve trouver un une va vais venir
        veux vie visite voir voilà voudrais vous vrai vraiment""",
    "es": """abre abrigo ahora algo allí año años antes aquí así aseos baño baños bien
        bueno buena cada casa cerca cierra comer como con cosa cuál cuándo cuánto cuesta
        dar de decir dejar desde después día días dónde dos e él ella ellos en entrada
        entrar entonces es esta está están este esto estoy foto fotos gracias grande gran
        gratis guía hacer hasta hay hombre hora horas hoy ir lado lejos lunes mañana más
        mejor menos mi mucho muy mujer nada no noche nombre nosotros nuevo o obra otra otro
        para pasa perro persona personas planta poco poder por porque primero puede
        pueden puedo qué querer quiero quién salida sala semana señor ser si sí siempre
        sin sobre solo también tarde tengo tiempo tienda tiene tienen todo todos trabajo
        tres usted va vamos ver vez visita vivir y ya yo""",
}
"""Frequent words of each language, written for this list (``common_words`` adds the answerer's
stopwords and the words of kiosk/qa/intents.toml): no evidence of a name."""


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


def _strings(value: object) -> Iterable[str]:
    """Every string inside lists of a TOML table (its example questions and words)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from ([item] if isinstance(item, str) else _strings(item))


@lru_cache(maxsize=8)
def phrasings(lang: str | None) -> tuple[str, ...]:
    """The kiosk's example visitor questions (kiosk/qa/intents.toml) that read as ``lang``
    (all of them: None)."""
    from kiosk.qa.intents import load_table

    return tuple(t for t in _strings(load_table()) if lang is None
                 or guess_language(t, ["fr", "en", "es", "de", "it"], "") == lang)


@lru_cache(maxsize=8)
def common_words(lang: str) -> frozenset[str]:
    """Frequent words of ``lang`` (folded): ``COMMON``, the answerer's stopwords and the
    words of the visitor phrasings in that language."""
    text = COMMON.get(lang, "") + " " + " ".join(STOPWORDS_BY_LANG.get(lang, ()))
    return frozenset(WORD.findall(fold(text))) | folded_words(phrasings(lang))


def folded_words(texts: Iterable[str]) -> set[str]:
    """The folded words of ``texts`` (each distinct word folded once: fast on long texts)."""
    return {fold(w) for w in set(WORD.findall(" ".join(texts).casefold()))}


def pack_texts(pack: Pack, lang: str | None) -> list[str]:
    """The pack's sentences in ``lang`` (every language: None): descriptions, answers, the
    curated and FAQ questions, replies."""
    def of(values: dict[str, str]) -> list[str]:
        return list(values.values()) if lang is None else [values.get(lang, "")]

    def asked(questions: dict[str, list[str]]) -> list[str]:
        return [q for k, qs in questions.items() if lang in (None, k) for q in qs]

    out = [t for ex in pack.exhibits for t in of(ex.description)]
    out += [t for ex in pack.exhibits for qa in ex.qa for t in [*of(qa.answer),
                                                                 *asked(qa.questions)]]
    out += [t for f in pack.faq for t in [*of(f.answer), *asked(f.questions)]]
    return out + [t for r in pack.museum.replies.values() for t in of(r)]


def names(pack: Pack, lang: str) -> dict[str, tuple[str, bool]]:
    """Name → (its owner, written in another language than ``lang``): titles in every
    language, aliases, artists and the words they are called by, rooms, the museum's name.
    The owner is an exhibit id, 'artist:…', 'room:…' or 'museum'."""
    out: dict[str, tuple[str, bool]] = {}
    for ex in sorted(pack.exhibits, key=lambda e: (-e.priority, e.id)):
        for code, title in sorted(ex.title.items(), key=lambda kv: kv[0] != lang):
            out.setdefault(title, (ex.id, code != lang))
        for alias in ex.aliases:
            out.setdefault(alias, (ex.id, False))
        for artist in set(ex.artist.values()):
            artist = re.sub(r"\s*\(.*?\)", "", artist).strip()  # "(inventor)"
            words = {fold(w): w for w in WORD.findall(artist)}
            for name in [artist, *(words[w] for w in artist_names(artist) if w in words)]:
                out.setdefault(name, (f"artist:{artist}", False))
        for room in ex.room.values():
            out.setdefault(room, (f"room:{room}", False))
    for name in pack.museum.name.values():
        out.setdefault(name, ("museum", False))
    out.pop("", None)
    return out


def curated_words(pack: Pack, lang: str) -> dict[str, str]:
    """The words of the curated questions in ``lang`` → the exhibit they are asked about."""
    return {w: ex.id for ex in pack.exhibits for qa in ex.qa
            for q in qa.questions.get(lang, []) for w in WORD.findall(q)}


def openings(pack: Pack, lang: str) -> list[str]:
    """The first two and three words of the visitor phrasings, the curated and the FAQ
    questions in ``lang`` ("quién pintó", "qui a peint")."""
    texts = [*phrasings(lang), *(q for ex in pack.exhibits for qa in ex.qa
                                 for q in qa.questions.get(lang, [])),
             *(q for f in pack.faq for q in f.questions.get(lang, []))]
    return list(dict.fromkeys(" ".join(words[:n]) for words in map(WORD.findall, texts)
                              for n in (2, 3) if len(words) > n))
