"""Content packs generated for benchmarks, from outside material read where it lies.

* ``write_tate_pack``: a trilingual (en, fr, es) pack of any size built from the facts of 250
  Tate paintings (CC0), varied deterministically past 250 works (scale tests).
* ``write_passage_packs``: one single-language pack per outside question set (XQuAD en and es,
  PIAF fr) where every context paragraph is an exhibit's description, with the questions as
  ``EvalQuestion`` items that expect the exhibit holding their answer.

Files are written as plain text: every string goes through ``json.dumps``, whose output is a
valid YAML double-quoted scalar, so thousands of exhibits are written in a few seconds.
"""

from __future__ import annotations

import json
import random
import re
import struct
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.evaluation import EvalQuestion

IMAGE = "images/placeholder.png"
LANGS = ("en", "fr", "es")
YEAR = re.compile(r"\d{3,4}")
MAX_SUBJECTS = 5
ROOMS = 60

XQUAD_FILE = "qa/xquad_va_museum_en_es.json"
PIAF_FILE = "qa/piaf_art_fr.json"
TATE_FILE = "collection/tate_250_paintings.json"

# Title forms for the copies of a work past the first 250 (a 4-digit cycle number is added
# to the forms without one when they come round again).
VARIANT_FORMS = (
    "{t} ({r})", "{t}, study", "Study for {t}", "{t}, second version", "Sketch for {t}",
    "{t} (replica)",
)

MEDIUM_PAINTS = {
    "oil paint": ("huile", "óleo"), "acrylic paint": ("acrylique", "acrílico"),
    "tempera": ("tempera", "temple"), "watercolour": ("aquarelle", "acuarela"),
    "enamel": ("émail", "esmalte"), "charcoal": ("fusain", "carboncillo"),
}
MEDIUM_SUPPORTS = {
    "canvas": ("toile", "lienzo"), "board": ("panneau", "tabla"), "wood": ("bois", "madera"),
    "mahogany": ("acajou", "caoba"), "hardboard": ("isorel", "tablero de fibra"),
    "plywood": ("contreplaqué", "contrachapado"), "oak": ("chêne", "roble"),
    "paper": ("papier", "papel"), "metal": ("métal", "metal"), "silk": ("soie", "seda"),
    "fabric": ("tissu", "tela"), "cardboard": ("carton", "cartón"),
}
SUBJECTS = {
    "woman": ("une femme", "una mujer"), "man": ("un homme", "un hombre"),
    "figure": ("une figure", "una figura"), "colour": ("la couleur", "el color"),
    "female": ("une femme", "una mujer"), "male": ("un homme", "un hombre"),
    "sitting": ("une personne assise", "una persona sentada"),
    "standing": ("une personne debout", "una persona de pie"),
    "wooded": ("des bois", "un bosque"), "geometric": ("des formes géométriques",
                                                     "formas geométricas"),
    "england": ("l'Angleterre", "Inglaterra"), "girl": ("une fille", "una niña"),
    "boy": ("un garçon", "un niño"), "group": ("un groupe", "un grupo"),
    "groups": ("des groupes", "grupos"), "landscape": ("un paysage", "un paisaje"),
    "head / face": ("un visage", "un rostro"), "shadow": ("des ombres", "sombras"),
    "tree": ("un arbre", "un árbol"), "dog": ("un chien", "un perro"),
    "sea": ("la mer", "el mar"), "flower": ("des fleurs", "flores"),
    "dress": ("une robe", "un vestido"), "table": ("une table", "una mesa"),
    "hill": ("une colline", "una colina"), "night": ("la nuit", "la noche"),
    "baby": ("un bébé", "un bebé"), "death": ("la mort", "la muerte"),
    "moon": ("la lune", "la luna"), "house": ("une maison", "una casa"),
    "hat": ("un chapeau", "un sombrero"), "chair": ("une chaise", "una silla"),
    "garden": ("un jardin", "un jardín"), "rocky": ("des rochers", "rocas"),
    "horse": ("un cheval", "un caballo"), "church": ("une église", "una iglesia"),
    "river": ("une rivière", "un río"), "boat": ("un bateau", "un barco"),
    "sky": ("le ciel", "el cielo"), "cloud": ("des nuages", "nubes"),
    "fruit": ("des fruits", "fruta"), "basket": ("un panier", "una cesta"),
    "child": ("un enfant", "un niño"), "mother": ("une mère", "una madre"),
    "bird": ("un oiseau", "un pájaro"), "cat": ("un chat", "un gato"),
    "book": ("un livre", "un libro"), "window": ("une fenêtre", "una ventana"),
    "mountain": ("une montagne", "una montaña"), "town": ("une ville", "una ciudad"),
    "street": ("une rue", "una calle"), "beach": ("une plage", "una playa"),
    "snow": ("la neige", "la nieve"), "portrait": ("un portrait", "un retrato"),
}
MUSEUM_NAME = {"en": "Tate sample ({n} works)", "fr": "Échantillon Tate ({n} œuvres)",
               "es": "Muestra de la Tate ({n} obras)"}
DESCRIPTION = {
    "en": ("{title} is a work by {artist} ({dates}), in {medium}.",
           "It belongs to {movement}.",
           "What it shows, in the catalogue's words: {subjects}."),
    "fr": ("{title} est une œuvre de {artist} ({dates}), en {medium}.",
           "Elle se rattache au mouvement {movement}.",
           "Ce qu'elle montre, selon le catalogue : {subjects}."),
    "es": ("{title} es una obra de {artist} ({dates}), en {medium}.",
           "Pertenece al movimiento {movement}.",
           "Lo que muestra, según el catálogo: {subjects}."),
}
QA_QUESTION = {"en": "What does it show?", "fr": "Que représente cette œuvre ?",
               "es": "¿Qué representa esta obra?"}
QA_ANSWER = {"en": "It shows {subjects}.", "fr": "On y voit {subjects}.",
             "es": "Se ve {subjects}."}
AND = {"en": "and", "fr": "et", "es": "y"}
ROOM = {"en": "Room {n}", "fr": "Salle {n}", "es": "Sala {n}"}
DATE_PREFIXES = (
    ("?c.", ("perhaps about ", "peut-être vers ", "quizá hacia ")),
    ("c.", ("about ", "vers ", "hacia ")),
    ("exhibited ", ("exhibited ", "exposé en ", "expuesto en ")),
)
FAQ_ENTRIES = (
    ("toilets",
     {"en": ["Where are the toilets?", "Is there a restroom?"],
      "fr": ["Où sont les toilettes ?", "Il y a des WC ?"],
      "es": ["¿Dónde están los aseos?", "¿Hay baños?"]},
     {"en": "The toilets are on the ground floor, next to the cloakroom.",
      "fr": "Les toilettes sont au rez-de-chaussée, à côté du vestiaire.",
      "es": "Los aseos están en la planta baja, junto al guardarropa."}),
    ("opening-hours",
     {"en": ["What are the opening hours?", "When does the museum close?"],
      "fr": ["Quels sont les horaires d'ouverture ?", "À quelle heure ferme le musée ?"],
      "es": ["¿Cuál es el horario?", "¿A qué hora cierra el museo?"]},
     {"en": "The museum is open every day from 10:00 to 18:00.",
      "fr": "Le musée est ouvert tous les jours de 10 h à 18 h.",
      "es": "El museo abre todos los días de 10:00 a 18:00."}),
    ("tickets",
     {"en": ["How much is a ticket?", "Is entry free?"],
      "fr": ["Combien coûte le billet ?", "L'entrée est-elle gratuite ?"],
      "es": ["¿Cuánto cuesta la entrada?", "¿La entrada es gratuita?"]},
     {"en": "Entry to the collection is free; exhibitions have their own tickets.",
      "fr": "L'entrée de la collection est gratuite ; les expositions ont leur propre billet.",
      "es": "La entrada a la colección es gratuita; las exposiciones tienen entrada propia."}),
)
PASSAGE_TITLE = {"en": "Passage {n}", "fr": "Passage {n}", "es": "Pasaje {n}"}
PASSAGE_ARTIST = {"en": "Collection notes", "fr": "Notes de collection",
                  "es": "Notas de la colección"}
PASSAGE_MUSEUM = {"en": "Outside passages ({name})", "fr": "Passages extérieurs ({name})",
                  "es": "Pasajes externos ({name})"}


@dataclass(frozen=True)
class PassageSet:
    """One outside question set: its name, language and records (question, answers, context)."""

    name: str
    """Pack folder name, e.g. ``xquad-en``."""
    lang: str
    """The language of every record."""
    records: list[dict[str, Any]]
    """The records as read from the JSON file."""


# -- small writers ---------------------------------------------------------------------------


def quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML; line separators escaped)."""
    return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028") \
        .replace("\u2029", "\\u2029")


def yaml_map(values: dict[str, str]) -> str:
    """A one-line YAML flow mapping of language → text."""
    return "{" + ", ".join(f"{k}: {quote(v)}" for k, v in values.items()) + "}"


def yaml_list(values: Iterable[str]) -> str:
    """A one-line YAML flow sequence of texts."""
    return "[" + ", ".join(quote(v) for v in values) + "]"


def tiny_png() -> bytes:
    """A valid 1×1 grey PNG, built byte by byte."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x80")  # filter byte 0, one grey pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + \
        chunk(b"IEND", b"")


def write_image(root: Path) -> None:
    """Write the shared placeholder image of a pack."""
    path = root / IMAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_png())


def slug(text: str, limit: int = 60) -> str:
    """A pack id from a title: ASCII lowercase words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return out or "work"


def unique(base: str, used: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not in ``used`` yet (added to it)."""
    candidate, k = base, 1
    while candidate in used:
        k += 1
        candidate = f"{base}-{k}"
    used.add(candidate)
    return candidate


def roman(n: int) -> str:
    """Roman numeral of a positive number."""
    out = ""
    for value, sign in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"),
                        (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"),
                        (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + sign, n - value
    return out


def join_list(items: list[str], lang: str) -> str:
    """'a, b and c' in ``lang``."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND[lang]} {items[-1]}"


# -- Tate facts → localized texts --------------------------------------------------------------


def load_tate(tate_json: Path) -> list[dict[str, Any]]:
    """The Tate records (a JSON list)."""
    records: list[dict[str, Any]] = json.loads(Path(tate_json).read_text(encoding="utf-8"))
    return records


def localized_date(raw: str) -> dict[str, str] | None:
    """Tate's date in en/fr/es ('c.1906' → 'about 1906'...); None when it has no year."""
    text = (raw or "").strip()
    if not YEAR.search(text):
        return None
    for prefix, forms in DATE_PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix):].strip()
            return {lang: form + rest for lang, form in zip(LANGS, forms, strict=True)}
    return {lang: text for lang in LANGS}


def localized_medium(medium: str) -> dict[str, str]:
    """The medium in en/fr/es for descriptions ('Oil paint on canvas' → 'huile sur toile')."""
    text = medium.strip()
    low = text.lower()
    out = {"en": low, "fr": low, "es": low}
    paint, _, support = low.partition(" on ")
    if paint in MEDIUM_PAINTS and support in MEDIUM_SUPPORTS:
        (fr_paint, es_paint), (fr_sup, es_sup) = MEDIUM_PAINTS[paint], MEDIUM_SUPPORTS[support]
        out["fr"] = f"{fr_paint} sur {fr_sup}"
        out["es"] = f"{es_paint} sobre {es_sup}"
    return out


def clean_subjects(subjects: list[str]) -> list[str]:
    """Tate subject terms made readable: no 'individuals:' or '- non-specific', names unswapped."""
    out: list[str] = []
    for raw in subjects:
        term = raw.split(":", 1)[1] if raw.startswith("individuals:") else raw
        term = term.replace("- non-specific", "").strip()
        if "," in term:  # "Bonnard, Marthe" → "Marthe Bonnard"
            last, first = (p.strip() for p in term.split(",", 1))
            term = f"{first} {last}"
        if term and term.lower() not in (t.lower() for t in out):
            out.append(term)
    return out


def localized_subjects(subjects: list[str]) -> dict[str, str]:
    """A few subjects as a phrase per language (translated when the term is known)."""
    picked = subjects[:MAX_SUBJECTS] or ["an unrecorded subject"]
    out: dict[str, str] = {}
    for i, lang in enumerate(LANGS):
        words = [s if i == 0 else SUBJECTS.get(s.lower(), (s, s))[i - 1] for s in picked]
        out[lang] = join_list(list(dict.fromkeys(words)), lang)
    return out


def movement_name(movements: list[str]) -> str:
    """The first movement without its period ('Pop Art (20th century post-1945)' → 'Pop Art')."""
    return re.sub(r"\s*\(.*\)\s*$", "", movements[0]).strip() if movements else ""


def variant_title(title: str, copy: int) -> str:
    """The title of the ``copy``-th copy of a work (0 = the work itself)."""
    if copy == 0:
        return title
    form = VARIANT_FORMS[(copy - 1) % len(VARIANT_FORMS)]
    cycle = (copy - 1) // len(VARIANT_FORMS)
    out = form.format(t=title, r=roman(copy + 1))
    if cycle and "{r}" not in form:
        out += f" ({cycle + 1})"
    return out


def description(title: str, artist: str, dates: str, medium: dict[str, str],
                movement: str, subjects: dict[str, str]) -> dict[str, str]:
    """The templated 2-3 sentence description in every language."""
    out: dict[str, str] = {}
    for lang in LANGS:
        first, second, third = DESCRIPTION[lang]
        parts = [first.format(title=title, artist=artist, dates=dates or "?",
                              medium=medium[lang])]
        if movement:
            parts.append(second.format(movement=movement))
        parts.append(third.format(subjects=subjects[lang]))
        out[lang] = " ".join(parts)
    return out


def exhibit_yaml(ex_id: str, record: dict[str, Any], copy: int, rng: random.Random) -> str:
    """One exhibit file's text for a Tate record (its ``copy``-th variation)."""
    title = variant_title(str(record["title"]).strip(), copy)
    artist = str(record["artist"]).strip() or "Unknown artist"
    subjects = clean_subjects([str(s) for s in record.get("subjects") or []])
    if copy:
        rng.shuffle(subjects)
    phrase = localized_subjects(subjects)
    medium = str(record.get("medium") or "").strip()
    room = rng.randint(1, ROOMS)
    lines = [
        f"id: {ex_id}",
        f"title: {quote(title)}",
        f"artist: {quote(artist)}",
    ]
    date = localized_date(str(record.get("date") or ""))
    if date:
        same = len(set(date.values())) == 1
        lines.append(f"date: {quote(date['en']) if same else yaml_map(date)}")
    if medium:
        lines.append(f"medium: {quote(medium)}")
    lines += [
        f"room: {yaml_map({lang: ROOM[lang].format(n=room) for lang in LANGS})}",
        f"image: {IMAGE}",
        "description:",
    ]
    text = description(title, artist, str(record.get("artist_dates") or "").strip(),
                       localized_medium(medium or "mixed media"),
                       movement_name([str(m) for m in record.get("movements") or []]), phrase)
    lines += [f"  {lang}: {quote(text[lang])}" for lang in LANGS]
    questions = ", ".join(f"{lang}: {yaml_list([QA_QUESTION[lang]])}" for lang in LANGS)
    answer = yaml_map({lang: QA_ANSWER[lang].format(subjects=phrase[lang]) for lang in LANGS})
    lines += ["qa:", f"  - questions: {{{questions}}}", f"    answer: {answer}"]
    return "\n".join(lines) + "\n"


def faq_yaml() -> str:
    """The generated museum's three practical questions."""
    lines: list[str] = []
    for fid, questions, answer in FAQ_ENTRIES:
        lines += [f"- id: {fid}", "  questions:"]
        lines += [f"    {lang}: {yaml_list(questions[lang])}" for lang in LANGS]
        lines += ["  answer:"] + [f"    {lang}: {quote(answer[lang])}" for lang in LANGS]
    return "\n".join(lines) + "\n"


def museum_yaml(name: dict[str, str], languages: list[str], default: str) -> str:
    """A pack's museum.yaml."""
    return (f"name: {yaml_map(name)}\n"
            f"languages: [{', '.join(languages)}]\n"
            f"default_language: {default}\n")


def write_tate_pack(root: Path, n: int, tate_json: Path, seed: int = 0) -> Path:
    """Write a valid en/fr/es pack of ``n`` exhibits made from the Tate records at ``root``.

    Past the 250 records, works come round again as deterministic variations: another title
    form ("Study for ...", "... (II)"), another room, their subjects shuffled.
    """
    records = load_tate(tate_json)
    if not records:
        raise ValueError(f"{tate_json}: no records")
    root = Path(root)
    (root / "exhibits").mkdir(parents=True, exist_ok=True)
    write_image(root)
    (root / "museum.yaml").write_text(
        museum_yaml({k: v.format(n=f"{n:,}") for k, v in MUSEUM_NAME.items()}, list(LANGS),
                    "en"), encoding="utf-8")
    (root / "faq.yaml").write_text(faq_yaml(), encoding="utf-8")
    used = {fid for fid, _, _ in FAQ_ENTRIES}
    for i in range(n):
        record = records[i % len(records)]
        copy = i // len(records)
        ex_id = unique(slug(variant_title(str(record["title"]), copy)), used)
        rng = random.Random(seed * 1_000_003 + i)
        text = exhibit_yaml(ex_id, record, copy, rng)
        (root / "exhibits" / f"{ex_id}.yaml").write_text(text, encoding="utf-8")
    return root


# -- outside passages -----------------------------------------------------------------------------


def passage_sets(eval_dir: Path) -> list[PassageSet]:
    """The three outside question sets: XQuAD en, XQuAD es (V&A museum) and PIAF fr (art)."""
    eval_dir = Path(eval_dir)
    xquad = json.loads((eval_dir / XQUAD_FILE).read_text(encoding="utf-8"))
    piaf = json.loads((eval_dir / PIAF_FILE).read_text(encoding="utf-8"))
    return [
        PassageSet("xquad-en", "en", [r for r in xquad if r.get("lang") == "en"]),
        PassageSet("xquad-es", "es", [r for r in xquad if r.get("lang") == "es"]),
        PassageSet("piaf-fr", "fr", [r for r in piaf if r.get("lang", "fr") == "fr"]),
    ]


def contexts(records: list[dict[str, Any]]) -> dict[str, str]:
    """Each distinct context → its exhibit id ``p-<n>``, in order of first appearance."""
    ids: dict[str, str] = {}
    for record in records:
        text = str(record["context"]).strip()
        if text not in ids:
            ids[text] = f"p-{len(ids) + 1}"
    return ids


def passage_exhibit_yaml(ex_id: str, lang: str, context: str) -> str:
    """One passage exhibit's file (the passage is its only description, no curated qa)."""
    number = ex_id.removeprefix("p-")
    return (f"id: {ex_id}\n"
            f"title: {yaml_map({lang: PASSAGE_TITLE.get(lang, 'Passage {n}').format(n=number)})}\n"
            f"artist: {yaml_map({lang: PASSAGE_ARTIST.get(lang, 'Collection notes')})}\n"
            f"image: {IMAGE}\n"
            f"description:\n  {lang}: {quote(context)}\n")


def write_passage_pack(root: Path, passages: PassageSet) -> tuple[Path, list[EvalQuestion]]:
    """Write one passage pack at ``root``; return it with its questions."""
    lang = passages.lang
    ids = contexts(passages.records)
    (root / "exhibits").mkdir(parents=True, exist_ok=True)
    write_image(root)
    name = {lang: PASSAGE_MUSEUM.get(lang, "{name}").format(name=passages.name)}
    (root / "museum.yaml").write_text(museum_yaml(name, [lang], lang), encoding="utf-8")
    (root / "faq.yaml").write_text("[]\n", encoding="utf-8")
    for context, ex_id in ids.items():
        (root / "exhibits" / f"{ex_id}.yaml").write_text(
            passage_exhibit_yaml(ex_id, lang, context), encoding="utf-8")
    questions = [
        EvalQuestion(q=str(r["question"]).strip(), lang=lang,
                     expect=ids[str(r["context"]).strip()], tag="passage")
        for r in passages.records
    ]
    return root, questions


def write_passage_packs(root: Path, eval_dir: Path) -> list[tuple[Path, list[EvalQuestion]]]:
    """Write the XQuAD en, XQuAD es and PIAF fr passage packs under ``root``, in that order."""
    root = Path(root)
    return [write_passage_pack(root / s.name, s) for s in passage_sets(eval_dir)]
