"""Small packs written on the fly for tests (each test breaks one thing)."""

from __future__ import annotations

import base64
from pathlib import Path

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

MUSEUM = """\
name: {fr: "Petit musée", en: "Small Museum", es: "Museo pequeño"}
languages: [fr, en, es]
default_language: fr
replies:
  unknown: {fr: "Je ne sais pas.", en: "I don't know.", es: "No lo sé."}
"""

MILKMAID = """\
title: {fr: "La Laitière", en: "The Milkmaid", es: "La lechera"}
artist: Johannes Vermeer
date: {fr: "vers 1658", en: "about 1658", es: "hacia 1658"}
medium: {fr: "huile sur toile", en: "oil on canvas", es: "óleo sobre lienzo"}
room: {fr: "Salle 3", en: "Room 3", es: "Sala 3"}
image: images/the-milkmaid.png
priority: 1
description:
  fr: "Une servante verse du lait dans un pot. La lumière vient de la fenêtre à gauche."
  en: "A maid pours milk into a pot. The light comes from the window on the left."
  es: "Una criada vierte leche en una olla. La luz entra por la ventana de la izquierda."
qa:
  - questions:
      fr: ["Que prépare la servante ?"]
      en: ["What is the maid making?"]
      es: ["¿Qué prepara la criada?"]
    answer:
      fr: "Sans doute une bouillie de pain."
      en: "Probably a bread pudding."
      es: "Probablemente un pudín de pan."
"""

WAVE = """\
title:
  fr: "La Grande Vague de Kanagawa"
  en: "The Great Wave off Kanagawa"
  es: "La gran ola de Kanagawa"
artist: Katsushika Hokusai
date: "about 1831"
medium: {fr: "gravure sur bois", en: "woodblock print", es: "xilografía"}
room: {fr: "Salle 6", en: "Room 6", es: "Sala 6"}
image: images/the-great-wave.png
description:
  fr: "Une vague immense menace trois barques. Le mont Fuji paraît minuscule au fond."
  en: "A huge wave threatens three boats. Mount Fuji looks tiny in the distance."
  es: "Una ola enorme amenaza a tres barcas. El monte Fuji parece diminuto al fondo."
"""

FAQ = """\
- id: toilets
  questions:
    fr: ["Où sont les toilettes ?"]
    en: ["Where are the toilets?"]
    es: ["¿Dónde están los baños?"]
  answer:
    fr: "Au rez-de-chaussée, près du vestiaire."
    en: "On the ground floor, next to the cloakroom."
    es: "En la planta baja, junto al guardarropa."
"""


def make_pack(root: Path, files: dict[str, str | None] | None = None) -> Path:
    """Write a valid pack; ``files`` replaces (or, with None, removes) some of its files."""
    content: dict[str, str | None] = {
        "museum.yaml": MUSEUM,
        "exhibits/the-milkmaid.yaml": MILKMAID,
        "exhibits/the-great-wave.yaml": WAVE,
        "faq.yaml": FAQ,
    }
    content.update(files or {})
    for rel, text in content.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "images").mkdir(exist_ok=True)
    for name in ("the-milkmaid.png", "the-great-wave.png"):
        if f"images/{name}" not in content:
            (root / "images" / name).write_bytes(PNG_1PX)
    return root
