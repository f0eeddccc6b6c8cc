"""Content versions on the kiosk: install a bundle, switch to it atomically, roll back.

Layout inside ``data.versions``::

    <bundle id>/          one verified bundle per id (never changed once in place), with
                          origin.json: where and when it was synced from
    current -> <id>       the version the kiosk serves (a relative symlink)
    previous -> <id>      the one ``rollback`` goes back to
    .lock                 one sync or rollback at a time

``sync`` takes a bundle folder, an archive, or a folder holding several (a USB stick, a
Syncthing folder) and picks the newest valid one by build time. Every check comes before
anything changes: the entries (no links, devices or paths leaving the bundle, sizes within
``[content]`` limits), the manifest (format, id, file list, encoder), the signature when keys
are trusted; then the files are copied or unpacked into a hidden staging folder, where every
sha256 and the records' schema are checked on the copy, flushed to disk and renamed into place.
Only then is ``current`` switched, by ``os.replace`` of a fresh symlink, so there is never a
moment without a complete ``current``. A bundle that fails any check changes nothing.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.atomic import fsync_dir, fsync_tree, write_text_atomic
from kiosk.content import bundle as bundles
from kiosk.content import keys
from kiosk.content.unpack import DEFAULT_LIMITS, Limits, Source, candidates
from kiosk.errors import ContentError, shown
from kiosk.paths import DataDir

CURRENT = "current"
PREVIOUS = "previous"
KEEP = 3
"""Old versions kept on disk besides the current one (the previous one is always kept)."""

_ID = re.compile(r"[0-9a-f]{64}")


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
    source: str = ""
    """Where it was synced from (a folder or archive), if recorded."""
    synced: str = ""
    """When it was synced from there (UTC, ISO), if recorded."""
    signed_by: str = ""
    """The id of the trusted key that signed it, if any."""


WITHDRAWN = "withdrawn.json"
"""In ``versions/``: the ids rolled back from (see ``rollback``)."""


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
        origin = _read_json(path / bundles.ORIGIN)
        counts = manifest.get("counts")
        exhibits = counts.get("exhibits", 0) if isinstance(counts, dict) else 0
        out.append(Version(
            id=path.name, path=path, built=str(manifest.get("created", "?")),
            installed=_utc(path.stat().st_mtime), museum=str(manifest.get("museum", "?")),
            exhibits=exhibits if isinstance(exhibits, int) else 0,
            current=path.name == cur, previous=path.name == prev,
            source=str(origin.get("source", "")), synced=str(origin.get("synced", "")),
            signed_by=str(origin.get("signed_by") or "")))
    return sorted(out, key=lambda v: (v.current, v.installed, v.id), reverse=True)


def sync(data: DataDir, source: Path, encoder_id: str, encoder_sha256: str,
         keep: int = KEEP, *, trusted: keys.Trusted | None = None,
         limits: Limits = DEFAULT_LIMITS, report: Callable[[str], None] | None = None,
         seen: Collection[str] = (), probe: Callable[[Path], None] | None = None,
         now: dt.datetime | None = None) -> str:
    """Install the newest valid bundle ``source`` offers and make it current; one line saying
    what happened.

    ``source`` is a bundle folder, an archive, or a folder holding several: candidates that
    fail a check are skipped, each with one line to ``report``, and the newest valid one is
    installed (never one built before the current version). A single bundle that fails raises
    ContentError, as does a folder with no valid one; either way nothing changes. ``seen``:
    ids not to install again (``--watch`` passes what it already installed). ``probe``: opens
    a staged copy as the kiosk will (``runtime.probe_content``: store, vectors, answerer, one
    question) and raises if it cannot; a bundle it fails is refused like any other.

    Which bundle is newest is decided by build times, which bundles only claim: a build time
    more than a day ahead of this kiosk's clock is refused when the clock is plausible (a
    Raspberry Pi has no battery clock: before ``CLOCK_FLOOR`` it is not), and a current version
    whose own build time is in that future never blocks newer ones.
    """
    now = now or dt.datetime.now(dt.UTC)
    source = Path(source)
    found = candidates(source)
    single = len(found) == 1 and found[0] == source
    for folder in (data.root, data.versions):
        if folder.exists() and not folder.is_dir():
            raise ContentError(f"{shown(folder)} is a file, not a folder — move it away (the "
                               "kiosk keeps its content versions there) and sync again")
    data.versions.mkdir(parents=True, exist_ok=True)
    with _locked(data):
        _clean_leftovers(data)
        opened: list[tuple[Source, dict[str, Any], str]] = []
        for path in found:
            try:
                opened.append(_precheck(path, encoder_id, encoder_sha256, trusted, limits, now))
            except Exception as exc:  # noqa: BLE001 — one bad bundle never stops the others
                error = bundles.failure(exc, path)
                if single:
                    raise error from None
                if report:
                    report(f"skipped: {error}")
        opened.sort(key=lambda o: (str(o[1]["created"]), o[0].where), reverse=True)
        cur = current_version(data)
        cur_built = _built(data, cur) if not single else ""
        if cur_built and _ahead(cur_built, now):  # a date from the future blocks nothing
            cur_built = ""
        withdrawn = _withdrawn(data)
        for src, manifest, bundle_id in opened:
            if bundle_id == cur:
                return (f"bundle {bundle_id[:12]} is already the current content — nothing to "
                        f"do ({_describe(manifest)})")
            if bundle_id in withdrawn and not single:
                if report:
                    report(f"skipped: {src.where}: bundle {bundle_id[:12]} was rolled back on "
                           "this kiosk — sync it by its own path to install it again")
                continue
            if bundle_id in seen or str(manifest["created"]) < cur_built:
                return (f"nothing newer than the current content in {shown(source)} — nothing "
                        "to do")
            try:
                signer = _install(data, src, manifest, bundle_id, encoder_id, encoder_sha256,
                                  trusted, probe)
            except OSError as exc:
                if exc.errno in DISK_ERRORS:  # the kiosk's disk, not the bundle: stop here
                    raise disk_error(data, exc, f"install {shown(src.where)}") from None
                error = bundles.failure(exc, src.path)
                if single:
                    raise error from None
                if report:
                    report(f"skipped: {error}")
                continue
            except Exception as exc:  # noqa: BLE001 — one bad bundle never stops the others
                error = bundles.failure(exc, src.path)
                if single:
                    raise error from None
                if report:
                    report(f"skipped: {error}")
                continue
            try:
                if bundle_id in withdrawn:  # a person chose it again
                    _write_json(data, data.versions / WITHDRAWN,
                                {"ids": sorted(withdrawn - {bundle_id})})
                _activate(data, bundle_id)
            except OSError as exc:
                raise disk_error(data, exc, f"switch to bundle {bundle_id[:12]}") from None
            _prune(data, keep)
            was = f"; previous: {cur[:12]}" if cur else ""
            by = f", signed by {signer}" if signer else ""
            return f"now serving bundle {bundle_id[:12]} ({_describe(manifest)}{by}){was}"
    raise ContentError(f"{source}: no valid bundle ({len(found)} looked at, see above) — copy "
                       "a bundle made by `kiosk content build` there")


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
        listed = data.versions / WITHDRAWN
        kept = listed.read_text(encoding="utf-8", errors="replace") if listed.is_file() else None
        try:
            if cur is not None:  # remembered, so a folder sync (--watch) does not bring it back
                _write_json(data, listed, {"ids": sorted(_withdrawn(data) | {cur})})
            _activate(data, prev)
        except (OSError, ContentError) as exc:
            try:  # the switch failed: the list goes back to what it was
                if kept is None:
                    listed.unlink(missing_ok=True)
                else:
                    write_text_atomic(listed, kept, tmp_dir=data.versions)
            except OSError:
                pass
            if isinstance(exc, ContentError):
                raise
            raise disk_error(data, exc, f"roll back to {prev[:12]}") from None
    was = f"; previous: {cur[:12]}" if cur else ""
    return f"rolled back: now serving bundle {prev[:12]} ({_describe(manifest)}){was}"


def _withdrawn(data: DataDir) -> set[str]:
    """Versions rolled back from on this kiosk: a folder sync does not install them again."""
    path = data.versions / WITHDRAWN
    if not path.is_file():
        return set()
    return {str(i) for i in _read_json(path).get("ids", [])}


# -- checks and installing -----------------------------------------------------------------------

CLOCK_FLOOR = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""A kiosk clock before this (this release's year) has not been set: build times are then not
compared with it."""
AHEAD = dt.timedelta(days=1)


def _ahead(created: str, now: dt.datetime) -> bool:
    """A build time more than a day ahead of a plausible clock."""
    try:
        built = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return True
    return now >= CLOCK_FLOOR and built > now + AHEAD


def _precheck(path: Path, encoder_id: str, encoder_sha256: str, trusted: keys.Trusted | None,
              limits: Limits, now: dt.datetime) -> tuple[Source, dict[str, Any], str]:
    """Everything that can be checked before copying a byte: entries, manifest, signature."""
    src = Source(path, limits)
    manifest = bundles.parse_manifest(src.manifest_bytes, src.where)
    bundle_id = bundles.check_manifest(manifest, src.where, encoder_id, encoder_sha256)
    if _ahead(manifest["created"], now):
        raise ContentError(f"{src.where}: built {manifest['created']}, more than a day after "
                           f"this kiosk's clock ({now:%Y-%m-%d %H:%M} UTC) — set the clock of "
                           "the machine that built it, or of this kiosk, and build it again")
    listed = set(manifest["files"])
    present = set(src.files) - bundles.UNLISTED
    missing = sorted(listed - present)
    if missing:
        raise ContentError(f"{src.where}: {missing[0]} is missing — the bundle is incomplete; "
                           "wait until it has arrived, or copy or build it again")
    extra = sorted(present - listed)
    if extra:
        raise ContentError(f"{src.where}: {extra[0]} is not in the manifest — the bundle was "
                           f"changed after it was built; {bundles.REBUILD}")
    keys.check(src.where, manifest, src.signature_bytes, trusted or {})
    return src, manifest, bundle_id


def _install(data: DataDir, src: Source, manifest: dict[str, Any], bundle_id: str,
             encoder_id: str, encoder_sha256: str, trusted: keys.Trusted | None,
             probe: Callable[[Path], None] | None = None) -> str | None:
    """Copy into a staging folder, verify the copy (hashes, signature, records), record where
    it came from, flush, rename it to ``versions/<id>``; the signer's key id."""
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=data.versions))
    target = data.versions / bundle_id
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide it from the kiosk's service user
        wanted = sorted(manifest["files"]) + [bundles.MANIFEST] + (
            [bundles.SIGNATURE] if src.signature_bytes is not None else [])
        src.copy_to(staging, wanted)
        try:
            copied = bundles.verify(staging, encoder_id, encoder_sha256, trusted)
            bundles.load(staging, copied)
            signer = keys.check(src.where, copied, src.signature_bytes, trusted or {})
            if probe is not None:
                probe(staging)
        except Exception as exc:  # noqa: BLE001 — name the source, not our staging folder
            said = str(bundles.failure(exc, src.path))
            raise ContentError(said.replace(str(staging), src.where)) from None
        origin = {"source": str(src.path.absolute()), "signed_by": signer,
                  "synced": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "checked": bundles.RECORD_CHECKS}
        if _intact(target):  # installed before: keep our copy, note where it came from again
            _write_json(data, target / bundles.ORIGIN, origin)
            shutil.rmtree(staging, ignore_errors=True)
            return signer
        (staging / bundles.ORIGIN).write_text(json.dumps(origin, indent=2) + "\n",
                                              encoding="utf-8")
        fsync_tree(staging)
        trash = None
        if target.exists() or target.is_symlink():  # a damaged copy of the same id
            trash = Path(tempfile.mkdtemp(prefix=".trash-", dir=data.versions))
            target.rename(trash / "v")
        staging.rename(target)
        fsync_dir(data.versions)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
        return signer
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _intact(path: Path) -> bool:
    if not path.is_dir() or path.is_symlink():
        return False
    try:
        bundles.verify(path)
    except ContentError:
        return False
    return True


def _write_json(data: DataDir, path: Path, value: dict[str, Any]) -> None:
    """``value`` as indented JSON, written atomically (through the versions folder, so that a
    power cut leaves no stray file inside a bundle)."""
    write_text_atomic(path, json.dumps(value, indent=2) + "\n", tmp_dir=data.versions)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _built(data: DataDir, version: str | None) -> str:
    if version is None:
        return ""
    return str(_read_json(data.versions / version / bundles.MANIFEST).get("created", ""))


# -- switching ---------------------------------------------------------------------------------

def _activate(data: DataDir, bundle_id: str) -> None:
    """Point ``previous`` at the old current, then ``current`` at ``bundle_id``.

    Each link is swapped by ``os.replace``: at every instant ``current`` names a complete
    version (after a power cut between the two steps, both name the old one)."""
    old = current_version(data)
    if old == bundle_id:
        return
    if old is not None:
        _point(data, PREVIOUS, old)
    fsync_dir(data.versions)
    _point(data, CURRENT, bundle_id)
    os.utime(data.versions / bundle_id)  # "installed" = last made current; pruning keeps it
    fsync_dir(data.versions)


DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
"""What the kiosk's own disk says when it cannot take a version (full or read-only)."""


def disk_error(data: DataDir, exc: OSError, doing: str) -> ContentError:
    """One line for a data folder that cannot be written, with its free space: nothing was
    changed, and the same bundle may be synced again once there is room."""
    try:
        free = f", {shutil.disk_usage(data.versions).free / 2**20:.1f} MB free"
    except OSError:
        free = ""
    return ContentError(f"cannot {doing}: {shown(data.versions)} cannot be written "
                        f"({exc.strerror or shown(exc)}{free}) — nothing was changed; free "
                        "space or make the data folder writable by the kiosk's user, then "
                        "try again")


def _point(data: DataDir, name: str, bundle_id: str) -> None:
    link = data.versions / name
    if link.exists() and not link.is_symlink():
        raise ContentError(f"{link} is a folder, not a link — move it out of {data.versions} "
                           "and sync the bundle again")
    tmp = data.versions / f".{name}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(bundle_id, tmp)
        os.replace(tmp, link)
    except OSError as exc:  # a full or read-only disk: nothing switched, nothing left behind
        tmp.unlink(missing_ok=True)
        raise ContentError(f"cannot switch {name} in {data.versions} ({exc.strerror}) — free "
                           "space or make the data folder writable, then try again") from None


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
    try:
        data.versions.mkdir(parents=True, exist_ok=True)
        fh = (data.versions / ".lock").open("a")
    except OSError as exc:
        raise disk_error(data, exc, "change the content versions") from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ContentError(f"another sync or rollback is running in {data.versions} — "
                               "wait for it to finish and try again") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _describe(manifest: dict[str, Any]) -> str:
    counts = manifest.get("counts")
    exhibits = counts.get("exhibits", "?") if isinstance(counts, dict) else "?"
    built = str(manifest.get("created", "?"))[:16].replace("T", " ")
    museum = shown(manifest.get("museum", "?"))[:80]
    return f"{museum}, {shown(exhibits)[:12]} exhibits, built {shown(built)} UTC"


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)

