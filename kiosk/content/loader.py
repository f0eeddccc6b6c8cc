"""Read a content pack (YAML, ruamel) and validate it (JSON Schema + the checks a schema can't do).

Every problem is an ``Issue`` with the file, the line, what is wrong and what to do. Each file
goes through ``kiosk.content.checks`` (read bounded, its schema, its texts, its picture); here
the files are put together (ids unique across them, the pack's languages, its limits), and
an exhibit file already checked and unchanged is not read again (``FileMemo``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk import limits
from kiosk.content import schema
from kiosk.content.checks import FileReader, Issue, line_of, plain, slug
from kiosk.content.model import Exhibit, FaqEntry, Museum, Pack, QaPair
from kiosk.content.yamlfile import MAX_EXHIBITS_BYTES, file_size, quoted
from kiosk.errors import ContentError

YEAR = re.compile(r"\d{3,4}")
ID = re.compile(schema.SLUG)
"""An exhibit's or FAQ entry's id: the pattern the bundle's schema accepts (whole string)."""


def _iso(value: Any) -> str | None:
    return None if value is None else plain(value)


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
    reader = FileReader(root)
    path = root / rel
    etree = reader.read(rel)
    if etree is None:
        if not reader.issues:
            reader.issue(rel, None, "the file is empty — write the exhibit or delete the file")
        return FileCheck(tuple(reader.issues))
    data = plain(etree)
    if not isinstance(etree, dict):
        reader.issue(rel, 1, "an exhibit file must be a mapping (title: ..., artist: ...)")
        return FileCheck(tuple(reader.issues), data=data)
    if not reader.check_schema(rel, etree, schema.EXHIBIT):
        return FileCheck(tuple(reader.issues), data=data)
    ex_id = str(etree.get("id") or path.stem)
    if not ID.fullmatch(ex_id):
        if "id" in etree:
            reader.issue(rel, line_of(etree, ("id",)), f"'id' = '{quoted(ex_id)}' is not a "
                         f"valid id — use lowercase letters, digits and hyphens, e.g. "
                         f"'{slug(ex_id)}'")
        else:
            reader.issue(rel, None, f"the file name '{quoted(path.stem)}' is not a valid id "
                         f"— rename the file to '{slug(path.stem)}{path.suffix}' (lowercase "
                         "letters, digits and hyphens), or add an 'id:' line")
        return FileCheck(tuple(reader.issues), data=data)
    date_text = reader.localized(rel, etree, "date", etree.get("date"), langs)
    for lang, text in date_text.items():
        if not YEAR.search(text):
            reader.issue(rel, line_of(etree, ("date",)), f"'date' ({lang}) '{text}' has no "
                         "year — write e.g. 'about 1658' or '1884-1886'")
    on_view = etree.get("on_view") or {}
    start, end = _iso(on_view.get("from")), _iso(on_view.get("until"))
    for key, value in (("from", start), ("until", end)):
        problem = value and _date_issue(value)
        if problem:
            reader.issue(rel, line_of(etree, ("on_view", key)), f"'on_view.{key}' {problem}")
    if start and end and start > end:
        reader.issue(rel, line_of(etree, ("on_view",)), f"'on_view' ends ({end}) before it "
                     f"starts ({start}) — swap the dates")
    for name in ("date", "medium", "room"):
        if name not in etree:
            reader.issue(rel, line_of(etree, ()), f"no '{name}' — the kiosk cannot answer "
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
        reader.issue(rel, line_of(etree, ()), "no curated 'qa' — the kiosk will only answer "
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
    return FileCheck(tuple(reader.issues), exhibit.id, line_of(etree, ("id",)), exhibit, data,
                     exhibit.image)


def load_pack(root: Path, memo: FileMemo | None = None) -> tuple[Pack | None, list[Issue]]:
    """Read and validate the pack at ``root``. The pack is None when there are errors.

    With ``memo`` (kept by the caller between calls), an exhibit file that did not change
    since it was last checked is not read again (the studio checks the pack after each edit).
    """
    root = Path(root)
    reader = FileReader(root)
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
            reader.issue("museum.yaml", line_of(tree, ("default_language",)),
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
                reader.issue("faq.yaml", line_of(ftree, (i, "id")), f"'[{i}].id' = "
                             f"'{quoted(fid)}' is not a valid id — use lowercase letters, digits "
                             f"and hyphens, e.g. '{slug(fid)}'")
                continue
            if fid in seen:
                reader.issue("faq.yaml", line_of(ftree, (i, "id")), f"duplicate id '{fid}' (also "
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
