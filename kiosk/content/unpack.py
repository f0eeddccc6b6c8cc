"""Read a bundle from where it arrives — a folder, a ``.tar``/``.tar.gz``/``.zip`` archive, or
a folder (USB stick, Syncthing) holding several — without trusting any of it.

Nothing is written before every member has been checked: only plain files and folders, paths
that stay inside the bundle, no links, devices or fifos, no file over ``max_file`` bytes and no
more than ``max_total`` bytes in all — by the sizes the archive declares, and again by counting
the bytes while copying (an archive may lie), so a small archive cannot fill the disk.
"""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kiosk.atomic import replace_synced
from kiosk.content.bundle import MANIFEST, SIGNATURE, UNLISTED, safe_path
from kiosk.errors import ContentError, shown

ARCHIVES = (".tar", ".tar.gz", ".tgz", ".zip")
IGNORED = (".syncthing.", "~syncthing~", ".stfolder", ".stversions", ".stignore", ".DS_Store")
"""Names in a distribution folder that are never bundles (Syncthing's own files and temps)."""
BOMB_RATIO = 200
"""A zip member that expands more than this many times (and past 1 MB) is refused."""
MAX_MANIFEST_BYTES = 16 * 2**20
"""Largest manifest read: a line per file (about 100 bytes), so some 150,000 files."""
MAX_SIGNATURE_BYTES = 64 * 2**10
"""Largest signature file read: each signature is about 150 bytes."""
MAX_MEMBERS = 100_000
_CHUNK = 1 << 20
_MB = 1 << 20
_BROKEN = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
           NotImplementedError)


@dataclass(frozen=True)
class Limits:
    """How big a bundle may be (``[content] max_file_mb`` and ``max_total_mb``)."""

    max_file: int
    """Largest single file, in bytes."""
    max_total: int
    """Largest total of all files, in bytes."""

    @classmethod
    def mb(cls, max_file_mb: float, max_total_mb: float) -> Limits:
        return cls(int(max_file_mb * _MB), int(max_total_mb * _MB))


DEFAULT_LIMITS = Limits.mb(200, 2000)


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVES)


def candidates(source: Path) -> list[Path]:
    """The bundles ``source`` offers: itself (a bundle folder or an archive), or the bundle
    folders and archives directly inside it."""
    if source.is_symlink():
        raise ContentError(f"{shown(source)} is a symbolic link — give the folder or archive "
                           "itself")
    if source.is_file() and is_archive(source):
        return [source]
    if not source.is_dir():
        raise ContentError(f"{shown(source)} is not a bundle folder, a .tar/.tar.gz/.zip "
                           "archive or a folder holding them — give the output of "
                           "`kiosk content build`")
    if any((source / name).exists() for name in (MANIFEST, "content.json", "vectors.npy")):
        return [source]
    return [p for p in sorted(source.iterdir()) if not p.name.startswith(IGNORED)
            and (p.is_dir() or (p.is_file() and is_archive(p)))]


def _limit(where: str, rel: str, size: int, total: int, limits: Limits) -> None:
    if size > limits.max_file:
        raise ContentError(f"{where}: {shown(rel)} is {size / _MB:.1f} MB, over the "
                           f"{limits.max_file / _MB:g} MB a bundle file may be ([content] "
                           "max_file_mb) — shrink the file or raise the limit")
    if total > limits.max_total:
        raise ContentError(f"{where}: more than {limits.max_total / _MB:g} MB in all ([content] "
                           "max_total_mb) — make the bundle smaller or raise the limit")


class Source:
    """One candidate bundle: its manifest and signature bytes, and its files with their sizes.

    Opening it checks every entry (type, path, size); ``copy_to`` then copies the files into a
    fresh folder, counting bytes."""

    def __init__(self, path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.where = shown(path)
        self.limits = limits
        self.files: dict[str, int] = {}
        """Every file of the bundle (relative path → declared size)."""
        self._prefix = ""
        self.archive = is_archive(path) and path.is_file()
        try:
            self._scan_archive() if self.archive else self._scan_folder()
        except ContentError:
            raise
        except _BROKEN as exc:
            raise ContentError(f"{self.where} is incomplete or damaged ({_why(exc)}) — wait "
                               "until it has arrived, or copy it again") from None
        if MANIFEST not in self.files:
            raise ContentError(f"{self.where}: no {MANIFEST} — not a content bundle (or not "
                               "arrived yet); give the output of `kiosk content build`")
        for name, most in ((MANIFEST, MAX_MANIFEST_BYTES), (SIGNATURE, MAX_SIGNATURE_BYTES)):
            if self.files.get(name, 0) > most:
                raise ContentError(f"{self.where}: {name} is {self.files[name]:,} bytes, more "
                                   f"than the {most:,} a bundle's {name} may hold — not made "
                                   "by `kiosk content build`; build it again")
        self.manifest_bytes = self.read(MANIFEST)
        self.signature_bytes = self.read(SIGNATURE) if SIGNATURE in self.files else None

    # -- scanning ------------------------------------------------------------------------------

    def _add(self, rel: str, size: int) -> None:
        if rel in self.files:
            raise ContentError(f"{self.where}: {shown(rel)} appears twice — refused; build the "
                               "bundle again")
        if not safe_path(rel) and rel not in UNLISTED:
            raise ContentError(f"{self.where}: {rel!r} is a path outside the bundle — refused; "
                               "build the bundle again with `kiosk content build`")
        if len(self.files) >= MAX_MEMBERS:
            raise ContentError(f"{self.where}: more than {MAX_MEMBERS} files — not a bundle")
        self.files[rel] = size
        _limit(self.where, rel, size, sum(self.files.values()), self.limits)

    def _scan_folder(self) -> None:
        for top, dirs, names in os.walk(self.path, followlinks=False):
            dirs.sort()
            for name in sorted([*dirs, *names]):
                path = Path(top) / name
                rel = path.relative_to(self.path).as_posix()
                mode = path.lstat().st_mode
                if stat.S_ISLNK(mode):
                    raise ContentError(f"{self.where}: {shown(rel)} is a symbolic link — a bundle "
                                       "holds only plain files; build it again with "
                                       "`kiosk content build`")
                if stat.S_ISREG(mode):
                    self._add(rel, path.lstat().st_size)
                elif not stat.S_ISDIR(mode):
                    raise ContentError(f"{self.where}: {shown(rel)} is not a plain file (a device, "
                                       "fifo or socket) — refused; build the bundle again")

    def _members(self) -> Iterator[tuple[str, str, int, int]]:
        """(name, kind, declared size, compressed size or -1) of each archive member."""
        if self.path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(self.path) as zf:
                for info in zf.infolist():
                    mode = info.external_attr >> 16
                    kind = "dir" if info.is_dir() else "link" if stat.S_ISLNK(mode) else \
                        "file" if not stat.S_IFMT(mode) or stat.S_ISREG(mode) else "special"
                    yield info.filename, kind, info.file_size, info.compress_size
            return
        with tarfile.open(self.path, "r:*") as tf:
            while (member := tf.next()) is not None:  # header by header: refuse early
                kind = "dir" if member.isdir() else "link" if member.issym() or \
                    member.islnk() else "file" if member.isfile() and not member.issparse() \
                    else "special"
                yield member.name, kind, member.size, -1

    def _scan_archive(self) -> None:
        names: list[tuple[str, str, int, int]] = []
        for name, kind, size, packed in self._members():
            if name.startswith("/") or ".." in name.split("/") or "\\" in name:
                raise ContentError(f"{self.where}: member {name!r} points outside the bundle "
                                   "(absolute or ../ path) — refused; build the archive with "
                                   "`kiosk content build --archive`")
            if kind == "link":
                raise ContentError(f"{self.where}: member {shown(name)} is a link — a bundle holds "
                                   "only plain files; build the archive again")
            if kind == "special":
                raise ContentError(f"{self.where}: member {shown(name)} is not a plain file (a "
                                   "device, fifo or sparse file) — refused; build the archive "
                                   "again")
            if kind == "file" and packed >= 0 and size > _MB and size > packed * BOMB_RATIO:
                raise ContentError(f"{self.where}: member {shown(name)} expands "
                                   f"{size // max(packed, 1)} times (an archive bomb) — "
                                   "refused; build the archive again")
            if kind == "file":
                _limit(self.where, name, size, size, self.limits)
            names.append((name.removeprefix("./"), kind, size, packed))
            if len(names) > MAX_MEMBERS:
                raise ContentError(f"{self.where}: more than {MAX_MEMBERS} members — not a "
                                   "bundle")
        tops = {n.split("/")[0] for n, _, _, _ in names if n}
        if MANIFEST not in tops and len(tops) == 1:  # a zipped folder: strip its name
            self._prefix = f"{tops.pop()}/"
        for name, kind, size, _ in names:
            rel = name.removeprefix(self._prefix).rstrip("/")
            if kind == "file":
                self._add(rel, size)

    # -- reading -------------------------------------------------------------------------------

    def read(self, rel: str) -> bytes:
        """One small file (the manifest, the signature), at most ``max_file`` bytes."""
        out = bytearray()
        for chunk in self._chunks([rel]):
            out += chunk[1]
        return bytes(out)

    def _chunks(self, wanted: list[str]) -> Iterator[tuple[str, bytes]]:
        """(file, chunk) for each file in ``wanted``, counting bytes against the limits."""
        want = set(wanted)
        total = 0
        counted: dict[str, int] = {}

        def count(rel: str, chunk: bytes) -> tuple[str, bytes]:
            nonlocal total
            counted[rel] = counted.get(rel, 0) + len(chunk)
            total += len(chunk)
            if counted[rel] > self.files[rel]:
                raise ContentError(f"{self.where}: {shown(rel)} holds more bytes than the archive "
                                   "declares (an archive bomb) — refused; build it again")
            _limit(self.where, rel, counted[rel], total, self.limits)
            return rel, chunk

        try:
            if not self.archive:
                for rel in wanted:
                    fd = os.open(self.path / rel, os.O_RDONLY | os.O_NOFOLLOW)
                    with os.fdopen(fd, "rb") as fh:
                        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                            raise ContentError(f"{self.where}: {shown(rel)} is not a plain file — "
                                               "refused")
                        while chunk := fh.read(_CHUNK):
                            yield count(rel, chunk)
            elif self.path.name.lower().endswith(".zip"):
                with zipfile.ZipFile(self.path) as zf:
                    for info in zf.infolist():
                        rel = info.filename.removeprefix("./").removeprefix(self._prefix)
                        if rel in want and not info.is_dir():
                            with zf.open(info) as zfh:
                                while chunk := zfh.read(_CHUNK):
                                    yield count(rel, chunk)
            else:
                with tarfile.open(self.path, "r:*") as tf:
                    while (member := tf.next()) is not None:
                        rel = member.name.removeprefix("./").removeprefix(self._prefix)
                        if rel in want and member.isfile():
                            tfh = tf.extractfile(member)
                            assert tfh is not None
                            while chunk := tfh.read(_CHUNK):
                                yield count(rel, chunk)
        except ContentError:
            raise
        except _BROKEN as exc:
            raise ContentError(f"{self.where} is incomplete or damaged ({_why(exc)}) — wait "
                               "until it has arrived, or copy it again") from None
        short = [rel for rel in wanted if counted.get(rel, 0) != self.files[rel]]
        if short:
            raise ContentError(f"{self.where}: {short[0]} changed or was cut short while "
                               "being read — wait until it has arrived, or copy it again")

    def copy_to(self, dest: Path, wanted: list[str]) -> None:
        """Write the ``wanted`` files into the empty folder ``dest``."""
        out: IO[bytes] | None = None
        current = None
        try:
            for rel, chunk in self._chunks(wanted):
                if rel != current:
                    if out is not None:
                        out.close()
                    target = dest / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                                 0o644)
                    out, current = os.fdopen(fd, "wb"), rel
                assert out is not None
                out.write(chunk)
            for rel in wanted:  # empty files yield no chunk
                if not (dest / rel).exists():
                    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                    (dest / rel).touch()
        finally:
            if out is not None:
                out.close()


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:80] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def write_archive(bundle: Path, out: Path) -> Path:
    """Pack a bundle folder into ``out`` (.tar, .tar.gz/.tgz or .zip), manifest first,
    written to a temporary file and renamed into place."""
    out = Path(out)
    if not is_archive(out):
        out = out.with_name(out.name + ".tar.gz")
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    files.sort(key=lambda rel: (rel != MANIFEST, rel != SIGNATURE, rel))
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if out.name.lower().endswith(".zip"):
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for rel in files:
                    zf.write(bundle / rel, rel)
        else:
            mode = "w" if out.name.lower().endswith(".tar") else "w:gz"
            with tarfile.open(tmp, mode) as tf:  # type: ignore[call-overload]
                for rel in files:
                    tf.add(bundle / rel, rel, recursive=False)
        replace_synced(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
