"""The pack's YAML, edited in place: the files stay the source of truth.

A file is read into a ruamel round-trip tree (``Doc``), edited with ``yamltree``'s helpers, and
written back atomically. Everything not edited keeps its comments, key order, flow or block
style and quoting, so ``git diff`` after a one-field edit shows one line: the file is dumped
with the indentation that reproduces it, and when ruamel would still reformat some lines of a
hand-written file (a long text folded over several lines), only the lines the edit changed are
put into the original text. A file changed on disk since it was read is never overwritten
(``Conflict``; ``yamltree.merge`` then combines both versions).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import Reader
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from kiosk import limits
from kiosk.atomic import fsync_dir, replace_synced, write_text_atomic
from kiosk.content.yamlfile import BoundedComposer, Refused, quoted, read_text
from kiosk.errors import ContentError, shown
from kiosk.studio.pictures import prepare_image
from kiosk.studio.yamltree import ID, check_id, plain, set_value

STUDIO = ".studio"
"""The studio's own folder inside a pack (trash, saved tests, imports, publications); the
validator and the bundle never read it."""
WIDTH = 4096
"""Lines are never wrapped by the writer (a pack's texts stay one line each)."""
STYLES = ((2, 4, 2), (2, 2, 0), (2, 2, 2), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 4))
"""(mapping, sequence, offset) indentations tried, in this order, to reproduce a file."""
TOKEN = re.compile(r"(\d{8}T\d{12}Z)-([a-z0-9][a-z0-9_-]*)(\.ya?ml)")


class Conflict(Exception):
    """The file changed on disk since it was read: reload it, or ``merge``."""

    def __init__(self, rel: str, disk_text: str) -> None:
        super().__init__(f"{rel} was changed on disk since it was opened — reload it, or "
                         "merge the two versions")
        self.rel = rel
        """The file, relative to the pack."""
        self.disk_text = disk_text
        """Its text on disk now ('' when it was deleted)."""


@dataclass
class Doc:
    """One pack file as read."""

    rel: str
    """Its path relative to the pack (``exhibits/the-scream.yaml``)."""
    data: Any
    """Its ruamel round-trip tree (CommentedMap / CommentedSeq); edit it in place."""
    stamp: str
    """sha256 of the bytes read ('' for a file that did not exist)."""
    text: str = field(default="", repr=False)
    """The text read ('' for a new file)."""


def _yaml(style: tuple[int, int, int]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.Composer = BoundedComposer
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    yaml.indent(mapping=style[0], sequence=style[1], offset=style[2])
    return yaml


def _dump(data: Any, style: tuple[int, int, int]) -> str:
    out = io.StringIO()
    _yaml(style).dump(data, out)
    return out.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _load(rel: str, text: str) -> Any:
    """The round-trip tree of ``text``; ContentError saying where it is wrong."""
    bad = Reader.NON_PRINTABLE.search(text)
    try:
        if bad:
            raise Refused(text.count("\n", 0, bad.start()) + 1, "a control character "
                          f"(U+{ord(bad.group()):04X}) is in the text — delete it and save again")
        return _yaml(STYLES[0]).load(text)
    except Refused as exc:
        where = f"{rel}:{exc.line}" if exc.line else rel
        raise ContentError(f"{where}: {exc.message}") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{rel}:{mark.line + 1}" if mark else rel
        raise ContentError(f"{where}: YAML syntax error: "
                           f"{quoted((exc.problem or 'syntax error').strip(), 200)} — fix it "
                           "in a text editor, then reload") from None
    except YAMLError as exc:
        raise ContentError(f"{rel}: YAML cannot be read ({quoted(exc, 200)}) — save it again "
                           "as UTF-8 text") from None


def _fit(text: str, data: Any) -> tuple[tuple[int, int, int], str]:
    """The indentation that dumps ``data`` back to ``text`` (or with the fewest lines changed),
    and that dump."""
    best: tuple[int, tuple[int, int, int], str] | None = None
    for style in STYLES:
        out = _dump(data, style)
        if out == text:
            return style, out
        if best is None:  # (the full count only when no style matches)
            best = (1 << 30, style, out)
        changed = sum(1 for line in difflib.ndiff(text.splitlines(), out.splitlines())
                      if line[:1] in "+-")
        if changed < best[0]:
            best = (changed, style, out)
    assert best is not None
    return best[1], best[2]


def _patch(original: str, baseline: str, edited: str) -> str | None:
    """The edit from ``baseline`` to ``edited`` made to ``original``, which ``baseline``
    (ruamel's dump of it) reproduces only in part: each changed part replaces the original
    lines between the nearest lines both share, so lines ruamel would reformat stay as written
    unless an edit touches them. None when the parts cannot be placed."""
    orig, base, new = (t.splitlines(keepends=True) for t in (original, baseline, edited))
    where: dict[int, int] = {}  # a baseline line → the same line of the original
    a = b = 0
    for block in difflib.SequenceMatcher(None, base, orig, autojunk=False).get_matching_blocks():
        if block.a - a == block.b - b:  # as many lines between: each reformatted (spaces)
            where.update((a + k, b + k) for k in range(block.a - a))
        where.update((block.a + k, block.b + k) for k in range(block.size))
        a, b = block.a + block.size, block.b + block.size
    ops = difflib.SequenceMatcher(None, base, new, autojunk=False).get_opcodes()
    starts: dict[int, int] = {}  # a boundary between baseline lines → the first and the last
    ends: dict[int, int] = {}  # same boundary in ``edited`` (they differ around an insertion)
    for tag, i1, i2, j1, j2 in ops:
        shift = range(i2 - i1 + 1) if tag == "equal" else (0,)
        for k in shift:
            starts.setdefault(i1 + k, j1 + k)
            ends[i1 + k] = j1 + k
        starts.setdefault(i2, j2)
        ends[i2] = j2
    regions: list[list[int]] = []
    for tag, i1, i2, _, _ in ops:
        if tag == "equal":
            continue
        start, end = i1, i2
        while start > 0 and start - 1 not in where:
            start -= 1
        while end < len(base) and (end not in where or end not in starts):
            end += 1
        if regions and start <= regions[-1][1]:
            regions[-1][1] = max(end, regions[-1][1])
        else:
            regions.append([start, end])
    out: list[str] = []
    done = 0
    for start, end in regions:
        if start not in starts or end not in ends:
            return None
        first = where[start - 1] + 1 if start > 0 else 0
        last = where[end] if end < len(base) else len(orig)
        if first < done or last < first:
            return None
        out += orig[done:first] + new[starts[start]:ends[end]]
        done = last
    return "".join(out + orig[done:])


class PackFiles:
    """The YAML files of one pack folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    # -- files -------------------------------------------------------------------------------

    def path(self, rel: str) -> Path:
        """The file ``rel`` inside the pack; ContentError for anything that could leave it: an
        absolute path, ``..``, a hidden part, a link out of the pack, or not a .yaml file."""
        parts = PurePosixPath(rel).parts if isinstance(rel, str) else ()
        if not parts or rel.startswith("/") or "\\" in rel or shown(rel) != rel \
                or any(p in ("..", ".") or p.startswith(".") for p in parts) \
                or PurePosixPath(rel).suffix not in (".yaml", ".yml"):
            raise ContentError(f"'{shown(rel)}' is not a YAML file of the pack — give a path "
                               "such as exhibits/<id>.yaml, inside the pack folder")
        path = self.root / rel
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ContentError(f"{shown(rel)} leads outside the pack (a link) — copy the file "
                               "itself into the pack")
        return path

    def read(self, rel: str) -> Doc:
        """The file ``rel`` (relative to the pack, inside it, a .yaml file), read bounded as
        the validator reads it. ContentError for a path outside the pack or a file refused."""
        path = self.path(rel)
        try:
            text = read_text(path)
        except Refused as exc:
            where = f"{rel}:{exc.line}" if exc.line else rel
            raise ContentError(f"{where}: {exc.message}") from None
        if text is None:
            raise ContentError(f"{rel} does not exist — create it first")
        return Doc(rel, _load(rel, text), _sha(text.encode("utf-8")), text)

    def write(self, doc: Doc) -> Doc:
        """Write ``doc`` back atomically, changing only the lines of what was edited; returns
        the new Doc. Raises ``Conflict`` when the file on disk is not the one read."""
        path = self.path(doc.rel)
        style, baseline = _fit(doc.text, _load(doc.rel, doc.text)) if doc.text else \
            (STYLES[0], "")
        text = edited = _dump(doc.data, style)
        if doc.text and baseline != doc.text:
            patched = _patch(doc.text, baseline, edited)
            if patched is not None and self._same(doc.rel, patched, doc.data):
                text = patched
        if text is edited and not self._same(doc.rel, edited, doc.data):
            raise ContentError(f"{doc.rel}: the edit cannot be written as YAML that reads back "
                               "the same — nothing was saved; remove unusual characters from "
                               "the text and try again")
        with self._lock:
            disk = self._disk(path)
            if (_sha(disk) if disk is not None else "") != doc.stamp:
                raise Conflict(doc.rel, (disk or b"").decode("utf-8", "replace"))
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, text)
        return self.read(doc.rel)

    @staticmethod
    def _same(rel: str, text: str, data: Any) -> bool:
        """Whether ``text`` reads back as ``data``."""
        try:
            return bool(plain(_load(rel, text)) == plain(data))
        except ContentError:
            return False

    @staticmethod
    def _disk(path: Path) -> bytes | None:
        """The file's bytes now (no more than a pack file may hold, and more would differ
        anyway), None when it is gone; a FIFO or device put there is never waited on."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ContentError(f"cannot read {shown(path.name)} ({exc.strerror}) — check the "
                               "file's permissions") from None
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ContentError(f"{shown(path.name)} is no longer a file — put the YAML "
                                   "file back, then reload")
            return fh.read(int(limits.current().file_mb * 2**20) + 1)

    # -- works -------------------------------------------------------------------------------

    def exhibit_ids(self) -> list[str]:
        """The works' ids: the names of ``exhibits/*.yaml``, sorted (a file whose name is no
        id is not a work the studio can edit: validation says how to rename it)."""
        folder = self.root / "exhibits"
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.iterdir()
                      if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
                      and ID.fullmatch(p.stem) and len(p.stem) <= 100)

    def exhibit_rel(self, id: str) -> str:
        """The file of work ``id`` (``exhibits/<id>.yaml``, or ``.yml`` when that exists)."""
        check_id(id)
        if (self.root / "exhibits" / f"{id}.yml").exists() and \
                not (self.root / "exhibits" / f"{id}.yaml").exists():
            return f"exhibits/{id}.yml"
        return f"exhibits/{id}.yaml"

    def _new_rel(self, id: str) -> str:
        check_id(id)
        if id in self.exhibit_ids():
            raise ContentError(f"a work with the id '{id}' exists already — choose another id")
        return f"exhibits/{id}.yaml"

    def new_exhibit(self, id: str, title: dict[str, str]) -> Doc:
        """Create ``exhibits/<id>.yaml`` with its id and title; ContentError for an id taken or
        not valid (lowercase letters, digits, hyphens)."""
        rel = self._new_rel(id)
        data = CommentedMap()
        data["id"] = id
        names = CommentedMap((lang, DoubleQuotedScalarString(text))
                             for lang, text in title.items())
        names.fa.set_flow_style()
        data["title"] = names
        return self.write(Doc(rel, data, ""))

    def duplicate(self, id: str, new_id: str) -> Doc:
        """Copy work ``id`` to ``exhibits/<new_id>.yaml`` (its text as is, the id changed)."""
        rel = self._new_rel(new_id)
        doc = self.read(self.exhibit_rel(id))
        if "id" in doc.data:
            set_value(doc.data, ["id"], new_id)
        return self.write(Doc(rel, doc.data, "", doc.text))

    def rename(self, id: str, new_id: str) -> Doc:
        """Give work ``id`` the id ``new_id``: its file becomes ``exhibits/<new_id>.yaml``
        (its text as is, its ``id:`` changed), written before the old one is removed."""
        path = self.path(self.exhibit_rel(id))
        doc = self.duplicate(id, new_id)
        with self._lock:
            path.unlink()
        fsync_dir(path.parent)
        return doc

    def delete(self, id: str) -> str:
        """Move ``exhibits/<id>.yaml`` (and nothing else) to ``.studio/trash/``; returns the
        token ``undelete`` takes."""
        path = self.path(self.exhibit_rel(id))
        if not path.is_file():
            raise ContentError(f"there is no work '{id}' — reload the list of works")
        trash = self.root / STUDIO / "trash"
        trash.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        token = f"{now:%Y%m%dT%H%M%S}{now.microsecond:06d}Z-{id}{path.suffix}"
        with self._lock:
            os.rename(path, trash / token)
        fsync_dir(trash)
        fsync_dir(path.parent)
        return token

    def undelete(self, token: str) -> str:
        """Put a deleted work back; returns its id. ContentError when its id is taken since."""
        match = TOKEN.fullmatch(token) if isinstance(token, str) else None
        src = self.root / STUDIO / "trash" / token if match else None
        if match is None or src is None or not src.is_file() or src.is_symlink():
            raise ContentError("nothing to put back — the work was put back already, or the "
                               "trash was emptied")
        id = match.group(2)
        self._new_rel(id)  # (its id not taken since)
        dest = self.path(f"exhibits/{id}{match.group(3)}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            os.rename(src, dest)
        fsync_dir(dest.parent)
        return id

    # -- images ------------------------------------------------------------------------------

    def save_image(self, id: str, filename: str, data: bytes) -> str:
        """Store an uploaded image as ``images/<id>.<png|jpg|webp>`` and return that relative
        path. Its type comes from its bytes (PNG, JPEG or WebP; ``filename`` is never used for
        the path, only in messages), at most ``MAX_UPLOAD_BYTES`` and ``[limits]
        image_megapixels``; it is turned upright (EXIF orientation) and reduced to
        ``MAX_SIDE`` pixels on its long side. ContentError saying what to do otherwise."""
        check_id(id)
        ext, body = prepare_image(quoted(shown(filename), 60), data)
        folder = self.root / "images"
        folder.mkdir(exist_ok=True)
        if folder.is_symlink() or not folder.resolve().is_relative_to(self.root.resolve()):
            raise ContentError("the pack's images/ folder is a link — make it a real folder "
                               "inside the pack")
        target = folder / f"{id}.{ext}"
        tmp = folder / f".{target.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            replace_synced(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return f"images/{target.name}"
