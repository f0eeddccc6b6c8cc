"""The kiosk's own words — the touchscreen, the admin screen, ``kiosk ask`` — in gettext catalogs.

The English text is the message id. Each translation is a catalog,
``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``, edited with the tools translators use (Poedit,
Weblate, any PO editor), compiled to ``kiosk.mo`` by ``make strings`` (Babel). A message with no
translation, and every message in a language with no catalog, is shown in English.

Adding German::

    make strings-init LANG=de     # kiosk/locale/de/LC_MESSAGES/kiosk.po, every message empty
    (translate it)
    make strings                  # extract, update every catalog, compile the .mo files

Two other kinds of words have their own single home: what the answerer says (its answers,
refusals and suggestions) is in ``kiosk/qa/intents.toml`` beside the questions it recognises, and
everything about the works is in the museum's content.
"""

from __future__ import annotations

import gettext
import string
from functools import cache
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"
"""The catalogs: ``<lang>/LC_MESSAGES/kiosk.po`` (source) and ``kiosk.mo`` (compiled)."""
DOMAIN = "kiosk"

LANGUAGE_NAMES = {"fr": "Français", "en": "English", "es": "Español", "de": "Deutsch",
                  "it": "Italiano", "nl": "Nederlands", "pt": "Português", "ko": "한국어"}
"""Each language's name in itself, shown on its button (a name, not a translation)."""


def N_(message: str) -> str:  # noqa: N802 — gettext's own name for "mark, translate later"
    """Marks ``message`` for the catalogs where it is written down before the language is known."""
    return message


@cache
def catalog(lang: str, locale: Path = LOCALE) -> gettext.NullTranslations:
    """The compiled catalog for ``lang``; with none, one that leaves every message in English."""
    return gettext.translation(DOMAIN, locale, languages=[lang], fallback=True)


def translate(lang: str, message: str, **values: object) -> str:
    """``message`` in ``lang`` (English when not translated), its ``{names}`` filled in."""
    text = catalog(lang).gettext(message)
    return text.format(**values) if values else text


def placeholders(message: str) -> frozenset[str]:
    """The ``{names}`` a message expects: a translation must keep exactly the same ones."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(message) if name)


def languages(locale: Path = LOCALE) -> list[str]:
    """The languages with a compiled catalog (English needs none)."""
    return sorted(p.parent.parent.name for p in locale.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))


def language_name(lang: str) -> str:
    """The language's own name ("Français"), shown on its button."""
    return LANGUAGE_NAMES.get(lang, lang.upper())
