"""The checks every file of a pack goes through as it is read: the file read bounded (size,
aliases, depth, texts; ``kiosk.content.yamlfile``), its schema, its texts in each language, its
picture — each problem an ``Issue`` with the file, the line, what is wrong and what to do.
``kiosk.content.loader`` puts the files together into a pack.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import Reader

from kiosk.content import images, schema
from kiosk.content.model import Localized
from kiosk.content.yamlfile import BoundedComposer, Refused, dotted, quoted, read_text
from kiosk.errors import shown

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
LARGE_IMAGE_SIDE = 4096
"""Images longer than this (pixels) get a warning: they work, but sync slowly."""



@dataclass(frozen=True)
class Issue:
    """One problem found in a pack."""

    file: str
    """Path relative to the pack."""
    line: int | None
    """1-based line, when known."""
    message: str
    """What is wrong — and what to do."""
    error: bool = True
    """False for a warning (does not fail validation)."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {'error' if self.error else 'warning'}: {self.message}"


def plain(node: Any) -> Any:
    """ruamel nodes → plain JSON values (dates become ISO strings)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()[:10]
    return node


def line_of(tree: Any, path: Iterable[Any]) -> int | None:
    """The 1-based line of the deepest node of ``path`` found in the ruamel tree."""
    line: int | None = None
    node = tree
    for key in path:
        if isinstance(node, CommentedMap) and key in node:
            line = node.lc.key(key)[0] + 1
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
        else:
            break
        node = node[key]
    if line is None and hasattr(tree, "lc"):
        line = tree.lc.line + 1
    return line


def _schema_message(err: jsonschema.ValidationError, known: Iterable[str]) -> str:
    where = dotted(err.absolute_path)
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        names = err.schema.get("properties", {}).keys() or known
        parts = []
        for name in extra:
            close = difflib.get_close_matches(name, list(names), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it"
            parts.append(f"unknown field '{quoted(name)}' — {hint} (known: {', '.join(names)})")
        return "; ".join(parts)
    if err.validator == "required":
        missing = err.message.split("'")[1]
        return f"'{missing}' is missing — {schema.HINTS.get(missing, 'add it')}"
    if err.validator == "propertyNames":
        return (f"'{where}' has '{quoted(err.instance)}' where a language code is expected "
                "— use codes like fr, en, es")
    if err.validator == "oneOf":
        return (f"'{where}' must be a text or a mapping of language → text, "
                "e.g. {en: ..., fr: ...}")
    if err.validator == "pattern" and any(k in where for k in ("from", "until")):
        return f"'{where}' is not a date: '{quoted(err.instance)}' — write it as YYYY-MM-DD"
    if err.validator == "pattern":
        return (f"'{where}' = '{quoted(err.instance)}' is not a valid id — use lowercase "
                f"letters, digits and hyphens, e.g. '{slug(str(err.instance))}'")
    if err.validator == "type":
        wanted = {"string": "a text", "integer": "a whole number", "array": "a list",
                  "object": "a mapping"}.get(str(err.validator_value), str(err.validator_value))
        return f"'{where}' must be {wanted}, not {quoted(repr(err.instance))}"
    if err.validator in ("minimum", "maximum"):
        return (f"'{where}' = {quoted(err.instance)} is out of range — use a whole number "
                f"from {err.schema.get('minimum')} to {err.schema.get('maximum')}")
    if err.validator in ("minItems", "minProperties"):
        return f"'{where}' is empty — fill it in or remove it"
    return f"'{where}': {quoted(err.message, 200)}"


def slug(name: str) -> str:
    """A valid id made from ``name`` ('My Work' → 'my-work'), to suggest to the curator."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].strip("-") or "work-1"


class _TextDates(RoundTripConstructor):
    """Keeps dates as the text the curator wrote, so a bad one is reported, not crashed on."""


_TextDates.add_constructor("tag:yaml.org,2002:timestamp", _TextDates.construct_yaml_str)


class FileReader:
    """Collects the issues of one pack while reading it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.issues: list[Issue] = []

    def issue(self, file: str, line: int | None, message: str, error: bool = True) -> None:
        self.issues.append(Issue(shown(file), line, shown(message), error))  # (one line each)

    def read(self, rel: str) -> Any:
        """The file's YAML tree; None when it is missing or empty, or (with an issue) refused."""
        try:
            text = read_text(self.root / rel)
            if text is None:
                return None
            bad = Reader.NON_PRINTABLE.search(text)
            if bad:
                raise Refused(text.count("\n", 0, bad.start()) + 1, "a control character "
                               f"(U+{ord(bad.group()):04X}) is in the text — delete it (copying "
                               "from a PDF or a word processor can leave one) and save again")
            yaml = YAML(typ="rt")  # one per file: the composer counts what it has read
            yaml.Constructor = _TextDates
            yaml.Composer = BoundedComposer
            return yaml.load(text)
        except Refused as exc:
            self.issue(rel, exc.line, exc.message)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            what = quoted((exc.problem or exc.context or "syntax error").strip(), 200)
            self.issue(rel, line, f"YAML syntax error: {what} — check indentation, colons "
                       "and quotes on this line (text with ': ' needs quotes)")
        except YAMLError as exc:
            self.issue(rel, None, f"YAML cannot be read: {quoted(exc, 200)} — save the file "
                       "again as plain UTF-8 text")
        return None

    def check_schema(self, rel: str, tree: Any, spec: dict[str, Any]) -> bool:
        validator = jsonschema.Draft202012Validator(spec)
        errors = sorted(validator.iter_errors(plain(tree)), key=lambda e: list(e.absolute_path))
        known = spec.get("properties", {}).keys()
        for err in errors:
            # report the most specific reason of a oneOf failure
            if err.validator == "oneOf" and err.context:
                deepest = max(err.context, key=lambda e: len(e.absolute_path))
                if len(deepest.absolute_path) > len(err.absolute_path):
                    err = deepest
            path = list(err.absolute_path)
            if err.validator == "additionalProperties" and isinstance(err.instance, dict):
                extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
                path.append(extra[0]) if extra else None
            self.issue(rel, line_of(tree, path), _schema_message(err, known))
        return not errors

    def localized(self, rel: str, tree: Any, key: str, value: Any, langs: list[str],
                  required: bool = True, path: tuple[Any, ...] = ()) -> Localized:
        """Expand a text-or-mapping; report missing and empty translations."""
        full = (*path, key)
        line = line_of(tree, full)
        if value is None:
            return {}
        if isinstance(value, str):
            if not value.strip():
                self.issue(rel, line, f"'{dotted(full)}' is empty — write it or remove the field")
            return {lang: value.strip() for lang in langs}
        out: Localized = {}
        for lang, text in value.items():
            if lang not in langs:
                self.issue(rel, line_of(tree, (*full, lang)),
                           f"'{dotted(full)}.{lang}' is in {schema.language_name(lang)}, "
                           f"which museum.yaml does not declare — add '{lang}' to 'languages' "
                           "or remove it", error=False)
                continue
            if not str(text).strip():
                self.issue(rel, line_of(tree, (*full, lang)),
                           f"'{dotted(full)}.{lang}' is empty — write the "
                           f"{schema.language_name(lang)} text or remove '{lang}' from "
                           "'languages' in museum.yaml")
            out[lang] = str(text).strip()
        if required:
            for lang in langs:
                if lang not in out:
                    self.issue(rel, line, f"'{dotted(full)}' has no {schema.language_name(lang)}"
                               f" text — add '{lang}: ...' or remove '{lang}' from 'languages' "
                               "in museum.yaml")
        return out

    def questions(self, rel: str, tree: Any, path: tuple[Any, ...], value: Any,
                  langs: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for lang, items in (value or {}).items():
            if lang not in langs:
                continue
            kept = [str(q).strip() for q in items if str(q).strip()]
            if len(kept) < len(items):
                self.issue(rel, line_of(tree, (*path, lang)),
                           f"'{dotted((*path, lang))}' has an empty question — remove it")
            out[lang] = kept
        for lang in langs:
            if not out.get(lang):
                self.issue(rel, line_of(tree, path), f"'{dotted(path)}' has no "
                           f"{schema.language_name(lang)} question — add '{lang}: [...]' "
                           f"or remove '{lang}' from 'languages' in museum.yaml")
        return out

    def image(self, rel: str, tree: Any, value: str | None) -> str:
        if not value:
            self.issue(rel, line_of(tree, ()), "no 'image' — the screen will show a plain card; "
                       "add image: images/<file>.png", error=False)
            return ""
        line = line_of(tree, ("image",))
        path = (self.root / value).resolve()
        if not path.is_relative_to(self.root.resolve()):
            self.issue(rel, line, f"image '{value}' is outside the pack — put it under images/")
        elif not path.is_file():
            self.issue(rel, line, f"image '{value}' does not exist — add the file or fix the path "
                       "(relative to the pack folder)")
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            self.issue(rel, line, f"image '{value}' is not a PNG, JPEG or WebP file — convert it")
        else:
            problem, size = images.check(path)
            if problem:
                self.issue(rel, line, f"image '{value}' cannot be read ({problem}) — export it "
                           "again as PNG or JPEG")
            elif max(size) > LARGE_IMAGE_SIDE:
                self.issue(rel, line, f"image '{value}' is {size[0]}×{size[1]} pixels — the kiosk "
                           "shows it no larger than its screen; a copy about 2000 pixels wide "
                           "syncs faster", error=False)
        return value
