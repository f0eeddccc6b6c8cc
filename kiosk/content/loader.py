"""Read a content pack (YAML, ruamel) and validate it (JSON Schema + the checks a schema can't do).

Every problem is an ``Issue`` with the file, the line, what is wrong and what to do. Each file
is read through ``kiosk.content.yamlfile``, which bounds it (size, aliases, depth, texts).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import re
import stat
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

from kiosk import limits
from kiosk.content import images, schema
from kiosk.content.model import Exhibit, FaqEntry, Localized, Museum, Pack, QaPair
from kiosk.content.yamlfile import (
    MAX_EXHIBITS_BYTES,
    BoundedComposer,
    Refused,
    dotted,
    file_size,
    quoted,
    read_text,
)
from kiosk.errors import ContentError, shown

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
LARGE_IMAGE_SIDE = 4096
"""Images longer than this (pixels) get a warning: they work, but sync slowly."""
YEAR = re.compile(r"\d{3,4}")
ID = re.compile(schema.SLUG)
"""An exhibit's or FAQ entry's id: the pattern the bundle's schema accepts (whole string)."""



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


def _plain(node: Any) -> Any:
    """ruamel nodes → plain JSON values (dates become ISO strings)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.date):
        return node.isoformat()[:10]
    return node


def _line(tree: Any, path: Iterable[Any]) -> int | None:
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
                f"letters, digits and hyphens, e.g. '{_slug(str(err.instance))}'")
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


def _slug(name: str) -> str:
    """A valid id made from ``name`` ('My Work' → 'my-work'), to suggest to the curator."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].strip("-") or "work-1"


class _TextDates(RoundTripConstructor):
    """Keeps dates as the text the curator wrote, so a bad one is reported, not crashed on."""


_TextDates.add_constructor("tag:yaml.org,2002:timestamp", _TextDates.construct_yaml_str)


class _Reader:
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
        errors = sorted(validator.iter_errors(_plain(tree)), key=lambda e: list(e.absolute_path))
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
            self.issue(rel, _line(tree, path), _schema_message(err, known))
        return not errors

    def localized(self, rel: str, tree: Any, key: str, value: Any, langs: list[str],
                  required: bool = True, path: tuple[Any, ...] = ()) -> Localized:
        """Expand a text-or-mapping; report missing and empty translations."""
        full = (*path, key)
        line = _line(tree, full)
        if value is None:
            return {}
        if isinstance(value, str):
            if not value.strip():
                self.issue(rel, line, f"'{dotted(full)}' is empty — write it or remove the field")
            return {lang: value.strip() for lang in langs}
        out: Localized = {}
        for lang, text in value.items():
            if lang not in langs:
                self.issue(rel, _line(tree, (*full, lang)),
                           f"'{dotted(full)}.{lang}' is in {schema.language_name(lang)}, "
                           f"which museum.yaml does not declare — add '{lang}' to 'languages' "
                           "or remove it", error=False)
                continue
            if not str(text).strip():
                self.issue(rel, _line(tree, (*full, lang)),
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
                self.issue(rel, _line(tree, (*path, lang)),
                           f"'{dotted((*path, lang))}' has an empty question — remove it")
            out[lang] = kept
        for lang in langs:
            if not out.get(lang):
                self.issue(rel, _line(tree, path), f"'{dotted(path)}' has no "
                           f"{schema.language_name(lang)} question — add '{lang}: [...]' "
                           f"or remove '{lang}' from 'languages' in museum.yaml")
        return out

    def image(self, rel: str, tree: Any, value: str | None) -> str:
        if not value:
            self.issue(rel, _line(tree, ()), "no 'image' — the screen will show a plain card; "
                       "add image: images/<file>.png", error=False)
            return ""
        line = _line(tree, ("image",))
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


def _iso(value: Any) -> str | None:
    return None if value is None else _plain(value)


def _date_issue(text: str) -> str | None:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return f"'{text}' is not a real date — write it as YYYY-MM-DD"
    return None


@dataclass(frozen=True)
class FileCheck:
    """What one exhibit file gave when it was read and checked on its own (whatever other
    files say: a duplicate id is found when the pack is put together)."""

    issues: tuple[Issue, ...]
    """Its problems, in the order ``validate`` prints them."""
    id: str | None = None
    """The work's id (None when the file could not be read or checked that far)."""
    id_line: int | None = None
    """The line of its ``id:`` (for a duplicate)."""
    exhibit: Exhibit | None = None
    """The work, when it got that far (a pack with any error is refused as a whole)."""
    data: Any = None
    """The file's values (plain dicts and lists), None when it is not YAML."""
    image: str = ""
    """The picture it names, relative to the pack."""


FileMemo = dict[str, tuple[Any, FileCheck]]
"""Exhibit files already checked, by path: what they were checked with (the file's sha256,
the languages, the limits in force, the picture's time and size) and what they gave
(``kiosk.content.memo`` keeps it on disk between runs)."""


def file_digest(path: Path) -> str | None:
    """The sha256 of a regular file no larger than ``[limits] file_mb`` (None otherwise: such
    a file is always checked again, and refused)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limits.current().file_mb * 2**20:
            return None
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def picture_stamp(root: Path, rel: str) -> tuple[int, int] | None:
    """The time and size of the picture ``rel`` (None when there is none)."""
    if not rel:
        return None
    try:
        info = (root / rel).stat()
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size


def memo_key(root: Path, rel: str, langs: list[str]) -> Any:
    """What an exhibit file's check depends on, but for its picture."""
    return file_digest(root / rel), tuple(langs), repr(limits.current())


def _checked(root: Path, rel: str, langs: list[str], memo: FileMemo | None) -> FileCheck:
    """``rel`` checked, or what it gave last time when neither it nor its picture changed."""
    if memo is None:
        return _check_exhibit(root, rel, langs)
    key = memo_key(root, rel, langs)
    held = memo.get(rel)
    if key[0] is not None and held is not None and \
            held[0] == (key, picture_stamp(root, held[1].image)):
        return held[1]
    found = _check_exhibit(root, rel, langs)
    memo[rel] = ((key, picture_stamp(root, found.image)), found)
    return found


def _check_exhibit(root: Path, rel: str, langs: list[str]) -> FileCheck:
    """One exhibit file read and checked."""
    reader = _Reader(root)
    path = root / rel
    etree = reader.read(rel)
    if etree is None:
        if not reader.issues:
            reader.issue(rel, None, "the file is empty — write the exhibit or delete the file")
        return FileCheck(tuple(reader.issues))
    data = _plain(etree)
    if not isinstance(etree, dict):
        reader.issue(rel, 1, "an exhibit file must be a mapping (title: ..., artist: ...)")
        return FileCheck(tuple(reader.issues), data=data)
    if not reader.check_schema(rel, etree, schema.EXHIBIT):
        return FileCheck(tuple(reader.issues), data=data)
    ex_id = str(etree.get("id") or path.stem)
    if not ID.fullmatch(ex_id):
        if "id" in etree:
            reader.issue(rel, _line(etree, ("id",)), f"'id' = '{quoted(ex_id)}' is not a "
                         f"valid id — use lowercase letters, digits and hyphens, e.g. "
                         f"'{_slug(ex_id)}'")
        else:
            reader.issue(rel, None, f"the file name '{quoted(path.stem)}' is not a valid id "
                         f"— rename the file to '{_slug(path.stem)}{path.suffix}' (lowercase "
                         "letters, digits and hyphens), or add an 'id:' line")
        return FileCheck(tuple(reader.issues), data=data)
    date_text = reader.localized(rel, etree, "date", etree.get("date"), langs)
    for lang, text in date_text.items():
        if not YEAR.search(text):
            reader.issue(rel, _line(etree, ("date",)), f"'date' ({lang}) '{text}' has no "
                         "year — write e.g. 'about 1658' or '1884-1886'")
    on_view = etree.get("on_view") or {}
    start, end = _iso(on_view.get("from")), _iso(on_view.get("until"))
    for key, value in (("from", start), ("until", end)):
        problem = value and _date_issue(value)
        if problem:
            reader.issue(rel, _line(etree, ("on_view", key)), f"'on_view.{key}' {problem}")
    if start and end and start > end:
        reader.issue(rel, _line(etree, ("on_view",)), f"'on_view' ends ({end}) before it "
                     f"starts ({start}) — swap the dates")
    for name in ("date", "medium", "room"):
        if name not in etree:
            reader.issue(rel, _line(etree, ()), f"no '{name}' — the kiosk cannot answer "
                         f"questions about the {name}; add it if you know it", error=False)
    qa: list[QaPair] = []
    for i, item in enumerate(etree.get("qa") or []):
        qa.append(QaPair(
            questions=reader.questions(rel, etree, ("qa", i, "questions"), item["questions"],
                                       langs),
            answer=reader.localized(rel, etree, "answer", item["answer"], langs,
                                    path=("qa", i)),
        ))
    if not qa:
        reader.issue(rel, _line(etree, ()), "no curated 'qa' — the kiosk will only answer "
                     "facts and quote the description; add the questions visitors ask",
                     error=False)
    exhibit = Exhibit(
        id=ex_id,
        title=reader.localized(rel, etree, "title", etree["title"], langs),
        artist=reader.localized(rel, etree, "artist", etree["artist"], langs),
        date=date_text,
        medium=reader.localized(rel, etree, "medium", etree.get("medium"), langs),
        room=reader.localized(rel, etree, "room", etree.get("room"), langs),
        dimensions=reader.localized(rel, etree, "dimensions", etree.get("dimensions"), langs),
        image=reader.image(rel, etree, etree.get("image")),
        aliases=[str(a) for a in etree.get("aliases") or []],
        tags=[str(t) for t in etree.get("tags") or []],
        priority=int(etree.get("priority") or 0),
        on_view_from=start, on_view_until=end,
        description=reader.localized(rel, etree, "description", etree["description"], langs),
        qa=qa, source_file=rel,
    )
    return FileCheck(tuple(reader.issues), exhibit.id, _line(etree, ("id",)), exhibit, data,
                     exhibit.image)


def load_pack(root: Path, memo: FileMemo | None = None) -> tuple[Pack | None, list[Issue]]:
    """Read and validate the pack at ``root``. The pack is None when there are errors.

    With ``memo`` (kept by the caller between calls), an exhibit file that did not change
    since it was last checked is not read again (the studio checks the pack after each edit).
    """
    root = Path(root)
    reader = _Reader(root)
    if not os.path.lexists(root / "museum.yaml"):  # anything else there is read, or refused
        reader.issue("museum.yaml", None, f"no museum.yaml in {root} — is this a content pack "
                     "folder? It needs museum.yaml, exhibits/ and faq.yaml")
        return None, reader.issues

    tree = reader.read("museum.yaml")
    if tree is None and not any(i.error for i in reader.issues):
        reader.issue("museum.yaml", 1, "museum.yaml is empty — write the museum's name, "
                     "'languages' and 'default_language' (see content/demo/museum.yaml)")
    museum = None
    langs: list[str] = ["en"]
    if tree is not None and reader.check_schema("museum.yaml", tree, schema.MUSEUM):
        langs = [str(x) for x in tree["languages"]]
        default = str(tree["default_language"])
        if default not in langs:
            reader.issue("museum.yaml", _line(tree, ("default_language",)),
                         f"default_language '{default}' is not in languages {langs} — add it")
        replies = {
            name: reader.localized("museum.yaml", tree, name, value, langs, path=("replies",))
            for name, value in (tree.get("replies") or {}).items()
        }
        museum = Museum(name=reader.localized("museum.yaml", tree, "name", tree["name"], langs),
                        languages=langs, default_language=default, replies=replies)

    exhibits: list[Exhibit] = []
    seen: dict[str, str] = {}
    files = sorted((root / "exhibits").glob("*.yaml")) + sorted((root / "exhibits").glob("*.yml"))
    if not files:
        reader.issue("exhibits/", None, "no exhibit files — add one YAML file per work in "
                     "exhibits/", error=False)
    elif len(files) > limits.current().exhibit_files:
        reader.issue("exhibits/", None, f"{len(files):,} exhibit files, more than the "
                     f"{limits.current().exhibit_files:,} a pack may hold ([limits] "
                     "exhibit_files) — split the collection into several packs")
        files = []
    elif sum(file_size(path) for path in files) > MAX_EXHIBITS_BYTES:
        reader.issue("exhibits/", None, f"the exhibit files add up to more than "
                     f"{MAX_EXHIBITS_BYTES // 2**20} MB, far more than any museum's content — "
                     "split the collection into several packs")
        files = []
    if memo is not None:  # forget the files that are gone
        for rel in set(memo) - {f"exhibits/{path.name}" for path in files}:
            del memo[rel]
    for path in files:
        rel = f"exhibits/{path.name}"
        found = _checked(root, rel, langs, memo)
        reader.issues.extend(found.issues)
        if found.exhibit is None or found.id is None:
            continue
        if found.id in seen:
            reader.issue(rel, found.id_line, f"duplicate id '{found.id}' (also in "
                         f"{seen[found.id]}) — give each work its own id")
            continue
        seen[found.id] = rel
        exhibits.append(found.exhibit)

    faq: list[FaqEntry] = []
    ftree = reader.read("faq.yaml")
    if ftree is None and not os.path.lexists(root / "faq.yaml"):
        reader.issue("faq.yaml", None, "no faq.yaml — visitors' practical questions (toilets, "
                     "hours...) will go unanswered; add one", error=False)
    elif ftree is not None and reader.check_schema("faq.yaml", ftree, schema.FAQ):
        for i, item in enumerate(ftree):
            fid = str(item["id"])
            if not ID.fullmatch(fid):
                reader.issue("faq.yaml", _line(ftree, (i, "id")), f"'[{i}].id' = "
                             f"'{quoted(fid)}' is not a valid id — use lowercase letters, digits "
                             f"and hyphens, e.g. '{_slug(fid)}'")
                continue
            if fid in seen:
                reader.issue("faq.yaml", _line(ftree, (i, "id")), f"duplicate id '{fid}' (also "
                             f"in {seen[fid]}) — give each entry its own id")
                continue
            seen[fid] = "faq.yaml"
            faq.append(FaqEntry(
                id=fid,
                questions=reader.questions("faq.yaml", ftree, (i, "questions"),
                                           item["questions"], langs),
                answer=reader.localized("faq.yaml", ftree, "answer", item["answer"], langs,
                                        path=(i,)),
            ))

    if museum is None or any(i.error for i in reader.issues):
        return None, reader.issues
    return Pack(museum=museum, exhibits=exhibits, faq=faq), reader.issues


def read_pack(root: Path) -> Pack:
    """Load a pack that must be valid; raise ContentError with the first error otherwise."""
    pack, issues = load_pack(root)
    if pack is None:
        errors = [i for i in issues if i.error]
        more = f" (and {len(errors) - 1} more: run `kiosk content validate {root}`)" \
            if len(errors) > 1 else ""
        raise ContentError(f"{root}/{errors[0]}{more}")
    return pack
