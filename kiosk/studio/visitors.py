"""Visitors' questions become content: a kiosk's insights log, imported into the pack's
``.studio/insights/<name>/``, grouped as ``kiosk report`` groups them, and turned into a curated
Q&A or an FAQ entry pre-filled with what visitors asked.

An import takes the day files (``YYYY-MM-DD.json``, see ``kiosk.insights.log``) of a folder or
of a .zip / .tar / .tar.gz a technician brings, and nothing else. An archive is checked member
by member before a byte is written: no absolute or ``..`` paths, links, devices, archive bombs,
or more than ``MAX_FILES`` files or ``MAX_TOTAL`` bytes — by the sizes it declares and again by
the bytes copied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from kiosk.content.schema import SLUG
from kiosk.errors import ContentError, shown
from kiosk.insights.cluster import Group
from kiosk.insights.log import Turn
from kiosk.insights.report import Summary, read_turns, summarise, unanswered, unanswered_groups

INSIGHTS = ".studio/insights"
DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
MAX_FILE = 64 * 2**20
"""Largest day file copied (a busy kiosk logs well under 1 MB a day)."""
MAX_TOTAL = 512 * 2**20
"""Most bytes copied by one import."""
MAX_FILES = 5000
"""Most day files in one import (over 13 years of days)."""
BOMB_RATIO = 200
"""A zip member that expands more than this many times (and past 1 MB) is refused."""
MAX_PHRASINGS = 5
"""Visitors' phrasings put into a new entry, per language (the most asked)."""
ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz")
_BROKEN = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, ValueError,
           NotImplementedError)


@dataclass(frozen=True)
class VisitorGroup:
    """Unanswered questions that mean the same thing."""

    key: str
    """A stable id for the group (12 hex digits of its phrasings' hash)."""
    label: str
    """The phrasing asked most."""
    count: int
    """How many times the group was asked."""
    phrasings: list[tuple[str, str, int]]
    """(text, language, times asked), most asked first."""
    languages: list[str]
    """The languages visitors used, most first."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """How the kiosk replied: unknown, clarify, out_of_scope."""


@dataclass(frozen=True)
class Doubt:
    """A question answered, but with a low confidence: to check."""

    question: str
    """As asked."""
    lang: str
    """Its language."""
    source: str
    """The work or FAQ id that answered."""
    times: int
    """How many times it was asked."""
    confidence: float
    """The mean confidence of those answers."""


@dataclass(frozen=True)
class Report:
    """What visitors asked, from every imported folder."""

    groups: list[VisitorGroup]
    """The unanswered questions grouped by meaning, biggest first."""
    doubtful: list[Doubt]
    """Answers given without much confidence, most asked first."""
    summary: Summary | None = None
    """The whole ``kiosk report`` summary (None when nothing is imported)."""
    folders: list[Path] = field(default_factory=list)
    """The imported folders read."""
    warnings: list[str] = field(default_factory=list)
    """Damaged files or records left out."""


# -- import ------------------------------------------------------------------------------------

def _refused(source: Path, why: str) -> ContentError:
    return ContentError(f"{shown(source)} is refused: {why} — bring the kiosk's insights "
                        "folder (<data dir>/insights) or an archive made of it")


def _archive_members(source: Path) -> Iterator[tuple[str, str, int, int, Any]]:
    """(name, kind, declared size, packed size or -1, handle) of each member."""
    if source.name.lower().endswith(".zip"):
        with zipfile.ZipFile(source) as zf:
            for info in zf.infolist():
                mode = info.external_attr >> 16
                kind = "dir" if info.is_dir() else "link" if stat.S_ISLNK(mode) else \
                    "file" if not stat.S_IFMT(mode) or stat.S_ISREG(mode) else "special"
                if info.flag_bits & 0x1:
                    kind = "encrypted"
                yield info.filename, kind, info.file_size, info.compress_size, (zf, info)
        return
    with tarfile.open(source, "r:*") as tf:
        while (member := tf.next()) is not None:
            kind = "dir" if member.isdir() else "link" if member.issym() or member.islnk() \
                else "file" if member.isfile() and not member.issparse() else "special"
            yield member.name, kind, member.size, -1, (tf, member)


def _open_member(handle: Any) -> IO[bytes]:
    archive, member = handle
    if isinstance(archive, zipfile.ZipFile):
        zipped: IO[bytes] = archive.open(member)
        return zipped
    opened: IO[bytes] | None = archive.extractfile(member)
    if opened is None:
        raise ValueError("not a file")
    return opened


def _copy(src: IO[bytes], dest: Path, declared: int, budget: list[int], source: Path) -> None:
    """Copy at most ``declared`` bytes (and what ``budget`` has left)."""
    written = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > min(declared, MAX_FILE) or budget[0] < 0:
                raise _refused(source, f"{dest.name} holds more bytes than declared or "
                               "allowed (an archive bomb)")
            out.write(chunk)


def _check(source: Path, name: str, kind: str, size: int, packed: int) -> bool:
    """Whether member ``name`` is a day file to copy; refuses the archive for a hostile one."""
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or ".." in parts:
        raise _refused(source, f"member '{shown(name)[:80]}' points outside the archive")
    if kind in ("link", "special", "encrypted"):
        raise _refused(source, f"member '{shown(name)[:80]}' is a {kind} (not a plain file)")
    if kind != "file" or not parts or not DAY_FILE.fullmatch(parts[-1]):
        return False
    if size > MAX_FILE:
        raise _refused(source, f"{parts[-1]} is {size / 2**20:.0f} MB, more than a day file "
                       f"may be ({MAX_FILE // 2**20} MB)")
    if packed >= 0 and size > 2**20 and size > packed * BOMB_RATIO:
        raise _refused(source, f"{parts[-1]} expands {size // max(packed, 1)} times (an "
                       "archive bomb)")
    return True


def _from_archive(source: Path, staged: Path) -> int:
    """Check every member first, then copy the day files (by their names alone)."""
    sizes: dict[str, int] = {}
    for name, kind, size, packed, _ in _archive_members(source):
        if not _check(source, name, kind, size, packed):
            continue
        base = PurePosixPath(name).name
        if base in sizes:
            raise _refused(source, f"{base} appears twice")
        sizes[base] = size
        if len(sizes) > MAX_FILES or sum(sizes.values()) > MAX_TOTAL:
            raise _refused(source, "it holds too many or too large files")
    budget = [MAX_TOTAL]
    for name, kind, size, _, handle in _archive_members(source):
        if kind == "file" and sizes.get(PurePosixPath(name).name) == size \
                and DAY_FILE.fullmatch(PurePosixPath(name).name):
            with _open_member(handle) as src:
                _copy(src, staged / PurePosixPath(name).name, size, budget, source)
    return len(sizes)


def _from_folder(source: Path, staged: Path) -> int:
    folder = source / "insights" if (source / "insights").is_dir() else source
    budget, count = [MAX_TOTAL], 0
    for path in sorted(folder.iterdir()):
        info = path.lstat()
        if not DAY_FILE.fullmatch(path.name) or not stat.S_ISREG(info.st_mode):
            continue  # (links, folders and other files are not day files)
        count += 1
        if count > MAX_FILES or info.st_size > MAX_FILE or info.st_size > budget[0]:
            raise _refused(source, "it holds too many or too large files")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as src:
            _copy(src, staged / path.name, info.st_size, budget, source)
    return count


def import_insights(pack_dir: Path, source: Path) -> Path:
    """Copy a kiosk's insights (its ``insights`` folder, a data folder holding one, or a .zip
    / .tar / .tar.gz of either) into ``<pack>/.studio/insights/<name>``; returns that folder.
    ContentError, with nothing written, for a hostile or empty source."""
    source = Path(source)
    if source.is_symlink() or not (source.is_dir() or (
            source.is_file() and source.name.lower().endswith(ARCHIVES))):
        raise _refused(source, "it is not a folder or a .zip / .tar.gz archive")
    root = Path(pack_dir) / INSIGHTS
    root.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".import-", dir=root))
    try:
        try:
            count = _from_folder(source, staged) if source.is_dir() else \
                _from_archive(source, staged)
        except (OSError, *_BROKEN) as exc:
            raise _refused(source, f"it cannot be read ({type(exc).__name__})") from None
        if not count:
            raise _refused(source, "it holds no day files (YYYY-MM-DD.json)")
        stem = source.name
        for suffix in ARCHIVES:
            stem = stem.removesuffix(suffix)
        name = f"{_slug(stem, 40) or 'kiosk'}-{dt.datetime.now():%Y%m%d-%H%M%S}"
        target = root / name
        n = 1
        while target.exists():
            n += 1
            target = root / f"{name}-{n}"
        os.rename(staged, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return target


def imported(pack_dir: Path) -> list[Path]:
    """The imported folders, oldest first."""
    root = Path(pack_dir) / INSIGHTS
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.is_symlink()
                   and not p.name.startswith(".")), key=lambda p: (p.stat().st_mtime, p.name))


# -- report ------------------------------------------------------------------------------------

def _group(group: Group) -> VisitorGroup:
    texts = sorted(text for text, _, _ in group.examples)
    langs: Counter[str] = Counter()
    for _, lang, times in group.examples:
        if lang:
            langs[lang] += times
    return VisitorGroup(
        key=hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12],
        label=group.representative, count=group.count, phrasings=list(group.examples),
        languages=[lang for lang, _ in langs.most_common()], outcomes=dict(group.outcomes))


def report(pack_dir: Path, encoder: Any) -> Report:
    """The unanswered-question groups and the doubtful answers of every imported folder. Two
    exports of the same kiosk hold the same turns: a turn logged n times in each of several
    folders (same second, same text) counts n times, not once per folder."""
    folders = imported(pack_dir)
    warnings: list[str] = []
    most: dict[str, int] = {}
    first: dict[str, Turn] = {}
    for folder in folders:
        counts: Counter[str] = Counter()
        for turn in read_turns(folder, warn=warnings.append):
            key = json.dumps(asdict(turn), sort_keys=True)
            counts[key] += 1
            first.setdefault(key, turn)
        for key, n in counts.items():
            most[key] = max(most.get(key, 0), n)
    turns = sorted((first[key] for key, n in most.items() for _ in range(n)),
                   key=lambda t: t.time)
    if not turns:
        return Report([], [], None, folders, warnings)
    groups = unanswered_groups(turns, encoder.encode) if any(map(unanswered, turns)) else []
    summary = summarise(turns, groups)
    return Report(groups=[_group(g) for g in summary.groups],
                  doubtful=[Doubt(*d) for d in summary.doubtful], summary=summary,
                  folders=folders, warnings=warnings)


def group_to_qa(group: VisitorGroup, languages: Sequence[str] = ()
                ) -> tuple[dict[str, list[str]], dict[str, str]]:
    """A curated Q&A pre-filled from ``group``: its phrasings per language (the
    ``MAX_PHRASINGS`` most asked), empty answers. With the pack's ``languages``: every one of
    them, in that order (an empty list where visitors asked in none), and no other."""
    questions: dict[str, list[str]] = {lang: [] for lang in languages}
    for text, lang, _ in group.phrasings:
        if not lang or (languages and lang not in languages):
            continue
        said = questions.setdefault(lang, [])
        if len(said) < MAX_PHRASINGS and text.strip() and text.strip() not in said:
            said.append(text.strip())
    return questions, dict.fromkeys(questions, "")


def group_to_faq(group: VisitorGroup, languages: Sequence[str] = (),
                 taken: Collection[str] = ()) -> tuple[str, dict[str, list[str]], dict[str, str]]:
    """An FAQ entry pre-filled from ``group``: an id made from its label (not one of
    ``taken``), its phrasings per language, empty answers (see ``group_to_qa``)."""
    base = _slug(group.label, 40) or "question"
    id, n = base, 1
    while id in taken:
        n += 1
        id = f"{base}-{n}"
    return (id, *group_to_qa(group, languages))


def _slug(text: str, most: int) -> str:
    """Lowercase ASCII words joined by hyphens, cut at a word to ``most`` characters."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", plain)
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > most:
            break
        out = f"{out}-{word}" if out else word
    return out if re.fullmatch(SLUG, out) else ""
