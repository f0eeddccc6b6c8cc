"""The mapping file of `kiosk content import-csv` (MAPPING.toml, documented in
``content/import-example/mapping.toml``): the exhibit fields a column may fill, the parsed
``Mapping`` (how to read the CSV, which column fills which field, defaults, the images folder,
museum.yaml for a new pack) and ``parse_mapping``, which checks it and raises ``MappingError``
saying what to fix before anything is written.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.content import schema

TEXT_FIELDS = ("title", "artist", "date", "medium", "room", "dimensions", "description")
LIST_FIELDS = ("aliases", "tags")
PLAIN_FIELDS = ("image", "priority", "on_view_from", "on_view_until")
FIELDS = TEXT_FIELDS + LIST_FIELDS + PLAIN_FIELDS
MAPPING_KEYS = {"csv", "museum", "id", "fields", "defaults", "images"}


class MappingError(Exception):
    """The mapping cannot be used (nothing is written)."""


@dataclass(frozen=True)
class Mapping:
    """A parsed MAPPING.toml."""

    encoding: str
    """Text encoding of the export (utf-8 also reads a BOM)."""
    delimiter: str
    """Column separator, or "auto"."""
    language: str
    """Language of single text columns."""
    same_in_every_language: tuple[str, ...]
    """Text fields written as one text for every language (names)."""
    list_separator: str
    """Separator inside aliases/tags cells."""
    id_column: str | None
    """Column holding the id (accession number), else the title is slugified."""
    columns: dict[str, str | dict[str, str]]
    """Field → column, or field → {language: column}."""
    defaults: dict[str, str | dict[str, str]]
    """Field → value when its cell is empty (or no column is mapped)."""
    images: Path | None
    """Folder to copy the image files from."""
    museum: dict[str, Any] = field(default_factory=dict)
    """museum.yaml for a new pack: name, languages, default_language."""


def _text_map(value: Any, where: str) -> str | dict[str, str]:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        for lang in value:
            if not re.match(schema.LANG_CODE, lang):
                raise MappingError(f"{where}: '{lang}' is not a language code — use fr, en, es…")
        return dict(value)
    raise MappingError(f"{where} must be a column name or a table of language = column name")


def parse_mapping(path: Path) -> Mapping:
    """Read MAPPING.toml; raise MappingError saying what to fix."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError("file not found — give the mapping file with --map") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"not valid TOML ({exc}) — check quotes and brackets") from exc
    unknown = set(raw) - MAPPING_KEYS
    if unknown:
        raise MappingError(f"unknown section(s) {sorted(unknown)} — known: {sorted(MAPPING_KEYS)}")
    csv_part, fields = raw.get("csv", {}), raw.get("fields", {})
    bad = sorted(set(fields) - set(FIELDS))
    for name in bad:
        close = difflib.get_close_matches(name, FIELDS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(FIELDS)}"
        raise MappingError(f"[fields] '{name}' is not an exhibit field — {hint}")
    if "title" not in fields:
        raise MappingError("[fields] has no 'title' — say which column holds the title")
    columns = {k: _text_map(v, f"[fields] {k}") for k, v in fields.items()}
    for name in LIST_FIELDS + PLAIN_FIELDS:
        if not isinstance(columns.get(name, ""), str):
            raise MappingError(f"[fields] {name} must be one column name")
    defaults = {k: _text_map(v, f"[defaults] {k}") for k, v in raw.get("defaults", {}).items()}
    for name in set(defaults) - set(TEXT_FIELDS):
        raise MappingError(f"[defaults] '{name}' — defaults exist for {', '.join(TEXT_FIELDS)}")
    encoding = str(csv_part.get("encoding", "utf-8"))
    try:
        codec = "".join(encoding.lower().split("_"))
        "".encode(encoding)
    except LookupError as exc:
        raise MappingError(f"[csv] encoding '{encoding}' is unknown — use utf-8, utf-8-sig, "
                           "cp1252 or latin-1") from exc
    delimiter = str(csv_part.get("delimiter", "auto"))
    if delimiter != "auto" and len(delimiter) != 1:
        raise MappingError(f"[csv] delimiter '{delimiter}' must be one character or \"auto\"")
    images = raw.get("images", {}).get("folder")
    id_part = raw.get("id", {})
    return Mapping(
        encoding="utf-8-sig" if codec in ("utf-8", "utf8") else encoding,
        delimiter=delimiter,
        language=str(csv_part.get("language", "en")),
        same_in_every_language=tuple(csv_part.get("same_in_every_language",
                                                   ["artist", "date", "dimensions"])),
        list_separator=str(csv_part.get("list_separator", ";")),
        id_column=id_part.get("column"),
        columns=columns,
        defaults=defaults,
        images=(path.parent / images) if images else None,
        museum=dict(raw.get("museum", {})),
    )
