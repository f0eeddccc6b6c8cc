"""The pack's YAML, edited in place: the files stay the source of truth.

A file is read into a ruamel round-trip tree (``Doc``), edited with the helpers below, and
written back atomically. Everything not edited keeps its comments, key order, flow or block
style and quoting, so ``git diff`` after a one-field edit shows one line: the file is dumped
with the indentation that reproduces it, and when ruamel would still reformat some lines of a
hand-written file (a long text folded over several lines), only the lines the edit changed are
put into the original text. A file changed on disk since it was read is never overwritten
(``Conflict``; ``merge`` then combines both versions).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import io
import os
import re
import stat
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import Reader
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from kiosk import limits
from kiosk.atomic import fsync_dir, replace_synced, write_text_atomic
from kiosk.content import schema
from kiosk.content.yamlfile import BoundedComposer, Refused, quoted, read_text
from kiosk.errors import ContentError, shown

Path_ = list[str | int]
"""Where a value is in a file: keys and list indexes, e.g. ``["qa", 0, "answer", "en"]``."""
Where = Sequence[str | int]
"""A ``Path_`` given (a list or a tuple)."""

STUDIO = ".studio"
"""The studio's own folder inside a pack (trash, saved tests, imports, publications); the
validator and the bundle never read it."""
MAX_UPLOAD_BYTES = 20 * 2**20
"""Largest image file accepted for upload."""
MAX_SIDE = 2000
"""An uploaded image is reduced to this many pixels on its long side (the kiosk's screen is
smaller; the validator warns from ``loader.LARGE_IMAGE_SIDE``)."""
WIDTH = 4096
"""Lines are never wrapped by the writer (a pack's texts stay one line each)."""
STYLES = ((2, 4, 2), (2, 2, 0), (2, 2, 2), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 4))
"""(mapping, sequence, offset) indentations tried, in this order, to reproduce a file."""
ORDER = ("id", "title", "aliases", "artist", "date", "medium", "dimensions", "room", "image",
         "tags", "priority", "on_view", "description", "qa", "questions", "answer")
"""Where a new field goes among those present: the order of the demo pack's files."""
BLOCK = ("description", "answer", "questions", "replies", "qa")
"""Fields whose new mapping is written as a block (one line per language), not ``{..}``."""
ID = re.compile(schema.SLUG)
ISO_DATE = re.compile(schema.ISO_DATE)
TOKEN = re.compile(r"(\d{8}T\d{12}Z)-([a-z0-9][a-z0-9_-]*)(\.ya?ml)")
MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
"""How a PNG and a JPEG file begin (a WebP: ``RIFF````WEBP``)."""
IMAGE_TYPES = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}

ODD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
"""Characters a text keeps only in double quotes (as escapes)."""

_MISSING = object()


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


def plain(value: Any) -> Any:
    """A ruamel tree as plain Python values (dicts, lists, str; dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return str(value)
    return value


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
        self._check_id(id)
        if (self.root / "exhibits" / f"{id}.yml").exists() and \
                not (self.root / "exhibits" / f"{id}.yaml").exists():
            return f"exhibits/{id}.yml"
        return f"exhibits/{id}.yaml"

    @staticmethod
    def _check_id(id: str) -> None:
        if not isinstance(id, str) or not ID.fullmatch(id) or len(id) > 100:
            raise ContentError(f"'{quoted(shown(id), 60)}' is not a valid id — use lowercase "
                               "letters, digits and hyphens, e.g. the-milkmaid")

    def _new_rel(self, id: str) -> str:
        self._check_id(id)
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
        self._check_id(id)
        ext, body = _prepare_image(quoted(shown(filename), 60), data)
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


def _prepare_image(name: str, data: bytes) -> tuple[str, bytes]:
    """(extension, bytes to store) of an uploaded image, or ContentError saying what to do."""
    from PIL import Image, ImageOps

    from kiosk.content import images

    again = "export it again as PNG or JPEG"
    if len(data) > MAX_UPLOAD_BYTES:
        raise ContentError(f"{name} is {len(data) / 2**20:.0f} MB, more than the "
                           f"{MAX_UPLOAD_BYTES // 2**20} MB an image may be — {again}, "
                           f"about {MAX_SIDE} pixels wide")
    if not (data.startswith(MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")):
        raise ContentError(f"{name} is not a PNG, JPEG or WebP image — {again}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            problem = images.pixels_problem(image.size)
            if problem:
                raise ContentError(f"{name}: {problem} — {again}, about {MAX_SIDE} pixels wide")
            kind = IMAGE_TYPES.get(str(image.format))
            if kind is None:
                raise ContentError(f"{name} is not a PNG, JPEG or WebP image — {again}")
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            options: dict[str, Any] = {"icc_profile": image.info.get("icc_profile")}
            if kind == "png":
                options["optimize"] = True
            else:
                options["quality"] = 90
            if kind == "jpg" and upright.mode not in ("RGB", "L", "CMYK"):
                upright = upright.convert("RGB")
            upright.save(out, format=str(image.format), **options)  # (no EXIF kept)
    except ContentError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ContentError(f"{name} cannot be read ({images.reason(exc, name)}) — "
                           f"{again}") from None
    return kind, out.getvalue()


# -- edits -----------------------------------------------------------------------------------

def _strings(container: Any) -> list[Any]:
    values = container.values() if isinstance(container, dict) else container
    return [v for v in values if isinstance(v, str)]


def _flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())


def _styled(text: str, like: Any, flow: bool) -> Any:
    """``text`` quoted as ``like`` is (a literal block stays one, but not in a flow mapping);
    plain when there is nothing to copy, a literal block when it runs over several lines."""
    if ODD.search(text):  # (escaped only in double quotes: a block would break at U+2028)
        return DoubleQuotedScalarString(text)
    if isinstance(like, LiteralScalarString | FoldedScalarString) and not flow:
        if str(like).endswith("\n") and not text.endswith("\n"):
            text += "\n"
        return type(like)(text)
    if isinstance(like, DoubleQuotedScalarString | LiteralScalarString | FoldedScalarString):
        return DoubleQuotedScalarString(text)
    if isinstance(like, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    if "\n" in text.rstrip("\n"):
        return DoubleQuotedScalarString(text) if flow else LiteralScalarString(text)
    return text


def _first(values: Any, kind: type | tuple[type, ...]) -> Any:
    items = values.values() if isinstance(values, dict) else values \
        if isinstance(values, list) else []
    return next((v for v in items if isinstance(v, kind)), None)


def _node(value: Any, like: Any, flow: bool, key: Any = None) -> Any:
    """``value`` as a ruamel node shaped and quoted like ``like`` (an existing node, or None)."""
    if isinstance(value, str):
        if key in ("from", "until") and ISO_DATE.fullmatch(value):
            try:  # (an ISO date is written plain, as curators write it)
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        return _styled(value, like if isinstance(like, str) else None, flow)
    if isinstance(value, dict):
        out = CommentedMap()
        if flow or (_flow(like) and key not in BLOCK):
            out.fa.set_flow_style()
        for k, v in value.items():
            child = like.get(k) if isinstance(like, dict) and k in like else \
                _first(like, type(v) if isinstance(v, str | dict | list) else ())
            out[k] = _node(v, child, _flow(out), k)
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq()
        if flow or not isinstance(like, list) or _flow(like):
            seq.fa.set_flow_style()
        for item in value:
            kind = type(item) if isinstance(item, str | dict | list) else ()
            seq.append(_node(item, _first(like, kind), _flow(seq)))
        return seq
    return value


def _put(parent: Any, key: Any, value: Any) -> None:
    """Set ``parent[key]``: a new field goes where the content format puts it."""
    if isinstance(parent, list):
        if key == len(parent):
            parent.append(value)
        else:
            parent[key] = value
        return
    if key in parent or key not in ORDER or not isinstance(parent, CommentedMap) or not parent:
        parent[key] = value
        return
    rank = ORDER.index(key)
    before = [i for i, k in enumerate(parent) if k in ORDER and ORDER.index(k) < rank]
    position = before[-1] + 1 if before else 0
    if position >= len(parent):
        parent[key] = value
    else:
        parent.insert(position, key, value)


def _step(node: Any, key: Any, path: Where) -> Any:
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key, _MISSING)
    if isinstance(node, list) and isinstance(key, int) and not isinstance(key, bool):
        return node[key] if 0 <= key < len(node) else _MISSING
    raise ValueError(f"{path}: {key!r} cannot index a {type(node).__name__}")


def set_value(data: Any, path: Where, value: Any) -> None:
    """Set the value at ``path``, creating missing mappings; a new value takes the quoting of
    its siblings, and a new key of a flow mapping (``{fr: .., en: ..}``) stays in flow style.
    A list index may be one past the end (appends); ValueError for a path that cannot be."""
    if not path:
        raise ValueError("set_value needs a path")
    node, parents = data, []
    for depth, key in enumerate(path[:-1]):
        child = _step(node, key, path)
        if child is _MISSING or child is None:
            if isinstance(node, list) and key != len(node):
                raise ValueError(f"{path}: no item {key}")
            child = CommentedMap()  # like the mappings beside it: ``medium`` for ``dimensions``
            if _flow(node) or (depth == len(path) - 2 and key not in BLOCK
                               and _flow(_first(node, dict))):
                child.fa.set_flow_style()
            _put(node, key, child)
        parents.append(node)
        node = child
    key = path[-1]
    old = _step(node, key, path)
    if isinstance(node, list) and old is _MISSING and key != len(node):
        raise ValueError(f"{path}: no item {key}")
    if old is not _MISSING and plain(old) == plain(value):
        return
    kind = type(value) if isinstance(value, str | dict | list) else ()
    like = old if old is not _MISSING else _first(node, kind)
    if like is None and parents:  # a mapping just made: copy its cousins
        like = _first(_first(parents[-1], dict), kind)
    _put(node, key, _node(value, like, _flow(node), key))


def delete_value(data: Any, path: Where) -> None:
    """Remove the key or list item at ``path`` (nothing when it is not there)."""
    node = data
    for key in path[:-1]:
        node = _step(node, key, path)
        if node is _MISSING or node is None:
            return
    if _step(node, path[-1], path) is not _MISSING:
        del node[path[-1]]


def _entry(like: Any, fields: dict[str, Any]) -> CommentedMap:
    """A Q&A or FAQ item shaped like ``like`` (an existing item) or like the demo pack."""
    item = CommentedMap()
    for name, value in fields.items():
        if name == "id":
            item["id"] = value
            continue
        old = like.get(name) if isinstance(like, dict) else None
        sample = next(iter(old.values()), None) if isinstance(old, dict) and old else None
        part = CommentedMap()
        if _flow(old):
            part.fa.set_flow_style()
        for lang, text in value.items():
            if isinstance(text, list):
                seq = CommentedSeq()
                if sample is None or _flow(sample):
                    seq.fa.set_flow_style()
                texts = _strings(sample) if isinstance(sample, list) else []
                for q in text:
                    seq.append(_styled(q, texts[0] if texts else DoubleQuotedScalarString(""),
                                       _flow(seq)))
                part[lang] = seq
            else:
                part[lang] = _styled(text, sample if isinstance(sample, str)
                                     else DoubleQuotedScalarString(""), _flow(part))
        item[name] = part
    return item


def _gap(node: Any) -> bool:
    """Whether ``node`` (a list item) is followed by a blank line."""
    while isinstance(node, CommentedMap | CommentedSeq) and node:
        last = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        tokens = node.ca.items.get(last) or []
        if any("\n\n" in str(getattr(t, "value", "")) for t in tokens if t is not None):
            return True
        node = node[last]
    return False


def _append(items: Any, item: CommentedMap) -> None:
    """Add ``item`` to a list, after a blank line when the items before are so spaced."""
    spaced = len(items) >= 2 and _gap(items[-2])
    items.append(item)
    if spaced:
        items.yaml_set_comment_before_after_key(len(items) - 1, before="\n")


def add_qa(data: Any, questions: dict[str, list[str]], answer: dict[str, str]) -> int:
    """Append a curated Q&A to an exhibit's ``qa`` (created if missing); returns its index."""
    items = data.get("qa")
    if not isinstance(items, list):
        items = CommentedSeq()
        _put(data, "qa", items)
    _append(items, _entry(items[0] if items else None,
                           {"questions": questions, "answer": answer}))
    return len(items) - 1


def add_faq(data: Any, id: str, questions: dict[str, list[str]], answer: dict[str, str]) -> None:
    """Append an entry to faq.yaml's list: ``{id, questions, answer}``. ContentError for an id
    that is not valid or already used in the list."""
    PackFiles._check_id(id)
    if not isinstance(data, list):
        raise ContentError("faq.yaml is not a list of entries — fix it in a text editor")
    if any(isinstance(e, dict) and e.get("id") == id for e in data):
        raise ContentError(f"faq.yaml has an entry '{id}' already — choose another id")
    _append(data, _entry(data[0] if data else None,
                         {"id": id, "questions": questions, "answer": answer}))


# -- merge -----------------------------------------------------------------------------------

def merge(base: Any, mine: Any, theirs: Any) -> tuple[Any, list[Path_]]:
    """Three-way merge by path: what ``mine`` changed from ``base``, applied to ``theirs`` (the
    file as it is on disk now, whose formatting the result keeps). Returns the merged tree and
    the paths both sides changed differently (there ``theirs`` is kept). Mappings merge key by
    key; lists item by item, items added at the end on both sides are all kept; a list whose
    items were removed on one side and changed on the other is one conflict."""
    if plain(theirs) == plain(base):
        return copy.deepcopy(mine), []
    result = copy.deepcopy(theirs)
    conflicts: list[Path_] = []
    _merge(base, mine, theirs, result, [], conflicts)
    return result, conflicts


def _merge(base: Any, mine: Any, theirs: Any, result: Any, path: Path_,
           conflicts: list[Path_]) -> None:
    b, m, t = (_MISSING if v is _MISSING else plain(v) for v in (base, mine, theirs))
    if m == b or m == t:
        return
    if t == b:
        parent = _at(result, path[:-1])
        if mine is _MISSING:
            del parent[path[-1]]
        else:
            _put(parent, path[-1], copy.deepcopy(mine))
        return
    if all(isinstance(v, dict) for v in (base, mine, theirs)):
        for key in [*mine, *(k for k in base if k not in mine)]:
            _merge(base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING),
                   result, [*path, key], conflicts)
        return
    if all(isinstance(v, list) for v in (base, mine, theirs)) and \
            len(mine) >= len(base) and len(theirs) >= len(base):
        for i in range(len(base)):
            _merge(base[i], mine[i], theirs[i], result, [*path, i], conflicts)
        extra = [copy.deepcopy(v) for v in mine[len(base):]
                 if plain(v) not in plain(theirs[len(base):])]
        _at(result, path).extend(extra)
        return
    conflicts.append(path)


def _at(data: Any, path: Where) -> Any:
    for key in path:
        data = data[key]
    return data
