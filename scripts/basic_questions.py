"""Write the plain training questions of a training pack: "tell me about X", the bare title,
"what is X" for each work, questions about "it" with no work named or talked about (which
the kiosk must not answer as if it knew which work), and off-topic questions asked while a work
is being talked about (the conversation's work does not make them answerable) — in
``basic.yaml``; and "tell me about <artist>" for each artist known by name, expecting any of
the artist's works (with several, "which one?" among them is right) — in ``artists.yaml``.
Deterministic; the output is committed (``tests/data/train/<pack>/``) and read by
``kiosk/qa/train/recipe.toml`` where it names it.

    .venv/bin/python scripts/basic_questions.py tests/data/train/modern-fr-es
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from kiosk.content.loader import read_pack
from kiosk.qa.names import PARTICLES

ABOUT = {
    "en": ["tell me about {t}", "{t}", "what is {t}", "what can you tell me about {t}?"],
    "fr": ["parle-moi de {t}", "{t}", "c'est quoi {t}", "que pouvez-vous me dire sur {t} ?"],
    "es": ["háblame de {t}", "{t}", "¿qué es {t}?", "¿qué me puedes contar de {t}?"],
}
BY_ARTIST = {
    "en": ["tell me about {a}", "what do you have by {a}?", "anything by {a}"],
    "fr": ["parle-moi de {a}", "vous avez quoi de {a} ?", "il y a quoi de {a} ici"],
    "es": ["háblame de {a}", "¿qué tenéis de {a}?", "hay algo de {a}"],
}
VAGUE = {
    "en": ["when was it made", "who made this", "what is it made of", "where is it from",
           "how big is it", "who is the artist"],
    "fr": ["ça date de quand", "qui a fait ça", "c'est fait en quoi", "d'où ça vient",
           "c'est grand comment", "c'est de qui"],
    "es": ["¿de cuándo es?", "¿quién lo hizo?", "¿de qué está hecho?", "¿de dónde viene?",
           "¿qué tamaño tiene?", "¿de quién es?"],
}

OFF_TOPIC = {
    "en": ["who won the world cup", "what's the weather tomorrow", "tell me a joke",
           "who is the president"],
    "fr": ["qui a gagné la coupe du monde", "quel temps fera-t-il demain", "raconte-moi une blague",
           "qui est le président"],
    "es": ["¿quién ganó el mundial?", "¿qué tiempo hará mañana?", "cuéntame un chiste",
           "¿quién es el presidente?"],
}


def person(artist: str) -> str:
    """The name an artist is asked about by: the field's leading capitalised words ("William
    Morris (Morris & Co.)" → "William Morris"), if they are the whole field or at least two
    words ('' for "anonymous workshop", "Etruscan workshop of Caere")."""
    words = artist.split()
    run = []
    for w in words:
        if not (w[0].isupper() or w in PARTICLES):
            break
        run.append(w.rstrip(",;:"))
        if w[-1] in ",;:":
            break
    if not run or not run[0][0].isupper() or (len(run) < 2 and run != words):
        return ""
    return " ".join(run)


def said_to(template: str, name: str, lang: str) -> str:
    """The template filled with a name, with French elision ("de Antoni" → "d'Antoni")."""
    text = template.format(a=name)
    return re.sub(r"\bde (?=[AEIOUÉÈaeiouéè])", "d'", text) if lang == "fr" else text


def main(folder: Path) -> None:
    pack = read_pack(folder / "pack")
    out = []
    for n, ex in enumerate(sorted(pack.exhibits, key=lambda e: e.id)):
        for k, lang in enumerate(pack.museum.languages):
            title = ex.title.get(lang) or next(iter(ex.title.values()))
            template = ABOUT[lang][(n + k) % len(ABOUT[lang])]
            said = title.lower() if (n + k) % 2 else title  # as typed, or as heard
            out.append({"q": template.format(t=said), "lang": lang, "expect": ex.id,
                        "tag": "about"})
    by_artist: dict[str, list[str]] = {}
    for ex in pack.exhibits:
        name = person(next(iter(ex.artist.values()), ""))
        if name:
            by_artist.setdefault(name, []).append(ex.id)
    artists = []
    for n, (name, ids) in enumerate(sorted(by_artist.items())):
        for k, lang in enumerate(pack.museum.languages):
            said = name if (n + k) % 2 else name.split()[-1]  # full name, or the surname
            template = BY_ARTIST[lang][(n + k) % len(BY_ARTIST[lang])]
            artists.append({"q": said_to(template, said, lang), "lang": lang,
                            "expect": "|".join(sorted(ids)), "tag": "artist"})
    works = sorted(e.id for e in pack.exhibits)
    for k, lang in enumerate(pack.museum.languages):
        out += [{"q": q, "lang": lang, "expect": "none", "tag": "vague"} for q in VAGUE[lang]]
        out += [{"q": q, "lang": lang, "expect": "none", "about": works[(k * 5 + i) % len(works)],
                 "tag": "oos-followup"} for i, q in enumerate(OFF_TOPIC[lang])]
    for name, items in (("basic.yaml", out), ("artists.yaml", artists)):
        head = (f"# Plain training questions for {folder.name}: written by "
                "scripts/basic_questions.py (do not edit by hand).\n# Written for the project; "
                "CC0.\n\n")
        text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
        (folder / name).write_text(head + text, encoding="utf-8")
        print(f"{folder / name}: {len(items)} questions")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        main(Path(arg))
