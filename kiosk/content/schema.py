"""JSON Schemas of content format v1 (checked with ``jsonschema``), and their human wording."""

from __future__ import annotations

from typing import Any

FORMAT_VERSION = 1

LANG_CODE = r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$"
SLUG = r"^[a-z0-9][a-z0-9_-]*$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
MAX_PRIORITY = 100
"""An exhibit's ``priority`` is from -100 to 100: 10 against 0 already settles most near-ties,
and a huge one would overflow the answerer's scores."""

LANGUAGE_NAMES = {
    "fr": "French", "en": "English", "es": "Spanish", "de": "German", "it": "Italian",
    "nl": "Dutch", "pt": "Portuguese", "ca": "Catalan", "eu": "Basque", "br": "Breton",
}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


_TEXT = {"type": "string"}
_LOCALIZED = {
    "description": "a text, or a mapping from language code to text",
    "oneOf": [
        _TEXT,
        {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": LANG_CODE},
            "additionalProperties": _TEXT,
        },
    ],
}
_LOCALIZED_MAP = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": LANG_CODE},
    "additionalProperties": _TEXT,
}
_QUESTIONS = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": LANG_CODE},
    "additionalProperties": {"type": "array", "minItems": 1, "items": _TEXT},
}
_QA_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["questions", "answer"],
    "properties": {"questions": _QUESTIONS, "answer": _LOCALIZED_MAP},
}

MUSEUM: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "languages", "default_language"],
    "properties": {
        "name": _LOCALIZED,
        "languages": {
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"type": "string", "pattern": LANG_CODE},
        },
        "default_language": {"type": "string", "pattern": LANG_CODE},
        "replies": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                name: _LOCALIZED_MAP
                for name in ("greeting", "unknown", "clarify", "out_of_scope")
            },
        },
    },
}

EXHIBIT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "artist", "description"],
    "properties": {
        "id": {"type": "string", "pattern": SLUG},
        "title": _LOCALIZED,
        "aliases": {"type": "array", "items": _TEXT},
        "artist": _LOCALIZED,
        "date": _LOCALIZED,
        "medium": _LOCALIZED,
        "room": _LOCALIZED,
        "dimensions": _LOCALIZED,
        "image": _TEXT,
        "tags": {"type": "array", "items": _TEXT},
        "priority": {"type": "integer", "minimum": -MAX_PRIORITY, "maximum": MAX_PRIORITY},
        "on_view": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "from": {"type": "string", "pattern": ISO_DATE},
                "until": {"type": "string", "pattern": ISO_DATE},
            },
        },
        "description": _LOCALIZED_MAP,
        "qa": {"type": "array", "items": _QA_ITEM},
    },
}

FAQ: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "questions", "answer"],
        "properties": {
            "id": {"type": "string", "pattern": SLUG},
            "questions": _QUESTIONS,
            "answer": _LOCALIZED_MAP,
        },
    },
}

# What to tell a curator for a missing required field.
HINTS = {
    "title": "add the work's title, e.g. title: {en: The Milkmaid, fr: La Laitière}",
    "artist": "add who made the work, e.g. artist: Johannes Vermeer",
    "description": "add a few sentences per language under description:",
    "name": "add the museum's name, e.g. name: {en: City Museum}",
    "languages": "list the pack's languages, e.g. languages: [fr, en, es]",
    "default_language": "say which language to fall back to, e.g. default_language: fr",
    "questions": "add the questions visitors ask, per language: questions: {en: [...]}",
    "answer": "add the answer per language: answer: {en: ...}",
    "id": "add a short id (lowercase letters, digits and hyphens), e.g. id: toilets",
}
