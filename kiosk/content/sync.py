"""Content versions on the kiosk: install a bundle, switch to it atomically, roll back.

Layout inside ``data.versions``::

    <bundle id>/          one verified bundle per id (never changed once in place)
    current -> <id>       the version the kiosk serves (a relative symlink)
    previous -> <id>      the one ``rollback`` goes back to
    .lock                 one sync or rollback at a time

A bundle is copied into a hidden staging folder, checked there (no symlinks, no path leaving
the bundle, the manifest, every file's sha256, the encoder) and renamed into place; only then
is ``current`` switched, by ``os.replace`` of a fresh symlink, so there is never a moment
without a complete, verified ``current``. A bundle that fails any check changes nothing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kiosk.content import bundle as bundles
from kiosk.errors import ContentError
from kiosk.paths import DataDir

CURRENT = "current"
PREVIOUS = "previous"
KEEP = 3
"""Old versions kept on disk besides the current one (the previous one is always kept)."""

_ID = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Version:
    """One installed content version."""

    id: str
    """The bundle's id (its content hash)."""
    path: Path
    """Its folder, ``versions/<id>``."""
    built: str
    """When the bundle was built (UTC, from its manifest)."""
    installed: dt.datetime
    """When it was last synced or made current here (UTC)."""
    museum: str
    """The museum's name in its default language."""
    exhibits: int
    """How many exhibits it holds."""
    current: bool
    """It is the version being served."""
    previous: bool
    """It is the one ``rollback`` would go back to."""


def current_version(data: DataDir) -> str | None:
    """The id of the version being served, or None when none is installed."""
    return _link(data, CURRENT)


def previous_version(data: DataDir) -> str | None:
    """The id ``rollback`` would make current, or None."""
    return _link(data, PREVIOUS)


def list_versions(data: DataDir) -> list[Version]:
    """Every installed version, the most recently installed first."""
    if not data.versions.is_dir():
        return []
    cur, prev = current_version(data), previous_version(data)
    out = []
    for path in data.versions.iterdir():
        if not _ID.fullmatch(path.name) or path.is_symlink() or not path.is_dir():
            continue
        try:
            manifest = bundles.read_manifest(path)
        except ContentError:
            manifest = {}
        out.append(Version(
            id=path.name, path=path, built=str(manifest.get("created", "?")),
            installed=_utc(path.stat().st_mtime), museum=str(manifest.get("museum", "?")),
            exhibits=int(manifest.get("counts", {}).get("exhibits", 0)),
            current=path.name == cur, previous=path.name == prev))
    return sorted(out, key=lambda v: (v.current, v.installed, v.id), reverse=True)


def sync(data: DataDir, source: Path, encoder_id: str, encoder_sha256: str,
         keep: int = KEEP) -> str:
    """Install the bundle at ``source`` and make it current; one line saying what happened.

    Raises ContentError (and changes nothing) when the bundle is unsafe, damaged, incomplete or
    built with another encoder than the kiosk's.
    """
    source = Path(source)
    if not source.is_dir() or source.is_symlink():
        raise ContentError(f"{source} is not a folder — give the bundle folder made by "
                           "`kiosk content build`")
    data.versions.mkdir(parents=True, exist_ok=True)
    with _locked(data):
        _clean_leftovers(data)
        files = _plain_files(source)
        if bundles.MANIFEST not in files:
            raise ContentError(f"{source}: no {bundles.MANIFEST} — not a content bundle; give "
                               "the folder made by `kiosk content build`")
        manifest = bundles.read_manifest(source)
        bundle_id = _check_manifest(source, manifest, files, encoder_id, encoder_sha256)
        if bundle_id == current_version(data):
            return (f"bundle {bundle_id[:12]} is already the current content — nothing to do "
                    f"({_describe(manifest)})")
        target = data.versions / bundle_id
        if _intact(target):  # installed before: check the source all the same, keep our copy
            bundles.verify(source, encoder_id, encoder_sha256)
        else:
            _install(data, source, sorted(files), target)
        old = current_version(data)
        _activate(data, bundle_id)
        _prune(data, keep)
    was = f"; previous: {old[:12]}" if old else ""
    return f"now serving bundle {bundle_id[:12]} ({_describe(manifest)}){was}"


def rollback(data: DataDir) -> str:
    """Make the previous version current again (and the current one previous)."""
    with _locked(data):
        cur, prev = current_version(data), previous_version(data)
        if prev is None or prev == cur:
            raise ContentError("there is no previous content version to roll back to — "
                               "sync a bundle with `kiosk content sync SRC`")
        try:
            manifest = bundles.verify(data.versions / prev)
        except ContentError as exc:
            raise ContentError(f"the previous version {prev[:12]} is damaged ({exc}) — "
                               "sync that bundle again instead") from None
        _activate(data, prev)
    was = f"; previous: {cur[:12]}" if cur else ""
    return f"rolled back: now serving bundle {prev[:12]} ({_describe(manifest)}){was}"


# -- checks ----------------------------------------------------------------------------------

def _plain_files(source: Path) -> set[str]:
    """Every file under ``source`` (relative POSIX paths); refuses symlinks and oddities."""
    found = set()
    for top, dirs, names in os.walk(source, followlinks=False):
        for name in [*dirs, *names]:
            path = Path(top) / name
            rel = path.relative_to(source).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise ContentError(f"{source}: {rel} is a symbolic link — a bundle holds only "
                                   "plain files; build it again with `kiosk content build`")
            if stat.S_ISREG(mode):
                found.add(rel)
            elif not stat.S_ISDIR(mode):
                raise ContentError(f"{source}: {rel} is not a plain file — build the bundle "
                                   "again with `kiosk content build`")
    return found


def _check_manifest(source: Path, manifest: dict[str, Any], files: set[str],
                    encoder_id: str, encoder_sha256: str) -> str:
    """The bundle's id, once its manifest is safe to act on (before any file is copied)."""
    bundle_id = manifest.get("id") if isinstance(manifest, dict) else None
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(bundle_id, str) or not _ID.fullmatch(bundle_id) \
            or not isinstance(listed, dict):
        raise ContentError(f"{source}/{bundles.MANIFEST} has no valid id or file list — not a "
                           "content bundle; build it again with `kiosk content build`")
    for rel in listed:
        parts = PurePosixPath(rel).parts
        if not rel or rel.startswith("/") or "\\" in rel or ".." in parts or "." in parts \
                or rel == bundles.MANIFEST:
            raise ContentError(f"{source}: the manifest lists {rel!r}, a path outside the "
                               "bundle — refused; build it again with `kiosk content build`")
    missing = sorted(set(listed) - files)
    if missing:
        raise ContentError(f"{source}: {missing[0]} is missing — the bundle is incomplete; "
                           "copy or build it again")
    extra = sorted(files - set(listed) - {bundles.MANIFEST})
    if extra:
        raise ContentError(f"{source}: {extra[0]} is not in the manifest — the bundle was "
                           "changed after it was built; build it again")
    enc = manifest.get("encoder") or {}
    if not isinstance(enc, dict) or enc.get("id") != encoder_id \
            or enc.get("sha256") != encoder_sha256:
        got = enc.get("id") if isinstance(enc, dict) else None
        raise ContentError(f"{source} was built with encoder {got}, this kiosk uses "
                           f"{encoder_id} — rebuild it with `kiosk content build` on a machine "
                           "with the kiosk's encoder")
    return bundle_id


def _intact(path: Path) -> bool:
    if not path.is_dir() or path.is_symlink():
        return False
    try:
        bundles.verify(path)
    except ContentError:
        return False
    return True


# -- installing and switching --------------------------------------------------------------

def _install(data: DataDir, source: Path, files: list[str], target: Path) -> None:
    """Copy into a staging folder, verify the copy, rename it to ``target``."""
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=data.versions))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide it from the kiosk's service user
        for rel in files:
            _copy_plain(source / rel, staging / rel)
        try:
            bundles.verify(staging)
        except ContentError as exc:  # name the source, not our staging folder
            raise ContentError(str(exc).replace(str(staging), str(source))) from None
        _fsync_tree(staging)
        trash = None
        if target.exists():  # a damaged copy of the same id: move it away first
            trash = Path(tempfile.mkdtemp(prefix=".trash-", dir=data.versions))
            target.rename(trash / "v")
        staging.rename(target)
        _fsync_dir(data.versions)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _copy_plain(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ContentError(f"cannot read {src} ({exc.strerror}) — check the bundle folder "
                           "and copy it again") from None
    with os.fdopen(fd, "rb") as fin, dst.open("xb") as fout:
        if not stat.S_ISREG(os.fstat(fin.fileno()).st_mode):
            raise ContentError(f"{src} is not a plain file — build the bundle again")
        shutil.copyfileobj(fin, fout, _CHUNK)


def _activate(data: DataDir, bundle_id: str) -> None:
    """Point ``previous`` at the old current, then ``current`` at ``bundle_id``.

    Each link is swapped by ``os.replace``: at every instant ``current`` names a complete
    version (after a power cut between the two steps, both name the old one)."""
    old = current_version(data)
    if old == bundle_id:
        return
    if old is not None:
        _point(data, PREVIOUS, old)
    _point(data, CURRENT, bundle_id)
    os.utime(data.versions / bundle_id)  # "installed" = last made current; pruning keeps it
    _fsync_dir(data.versions)


def _point(data: DataDir, name: str, bundle_id: str) -> None:
    link = data.versions / name
    if link.exists() and not link.is_symlink():
        raise ContentError(f"{link} is a folder, not a link — move it out of {data.versions} "
                           "and sync the bundle again")
    tmp = data.versions / f".{name}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(bundle_id, tmp)
    os.replace(tmp, link)


def _link(data: DataDir, name: str) -> str | None:
    link = data.versions / name
    try:
        target = os.readlink(link)
    except OSError:
        return None
    name = Path(target).name
    if not _ID.fullmatch(name) or not (data.versions / name).is_dir():
        return None
    return name


def _prune(data: DataDir, keep: int) -> None:
    """Remove old versions beyond ``keep``; never the current or the previous one."""
    spare = [v for v in list_versions(data) if not v.current and not v.previous]
    room = max(keep - (1 if previous_version(data) else 0), 0)
    for version in spare[room:]:
        trash = Path(tempfile.mkdtemp(prefix=".trash-", dir=data.versions))
        version.path.rename(trash / "v")  # gone from the list at once, deleted after
        shutil.rmtree(trash, ignore_errors=True)


def _clean_leftovers(data: DataDir) -> None:
    """Staging folders, trash and temporary links left by an interrupted sync."""
    for path in data.versions.glob(".*"):
        if path.name.startswith((".staging-", ".trash-")) and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith((f".{CURRENT}.", f".{PREVIOUS}.")) and path.is_symlink():
            path.unlink(missing_ok=True)


@contextmanager
def _locked(data: DataDir) -> Iterator[None]:
    data.versions.mkdir(parents=True, exist_ok=True)
    with (data.versions / ".lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ContentError(f"another sync or rollback is running in {data.versions} — "
                               "wait for it to finish and try again") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe(manifest: dict[str, Any]) -> str:
    counts = manifest.get("counts", {})
    built = str(manifest.get("created", "?"))[:16].replace("T", " ")
    return (f"{manifest.get('museum', '?')}, {counts.get('exhibits', '?')} exhibits, "
            f"built {built} UTC")


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)

