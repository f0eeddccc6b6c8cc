"""Publish a pack: validate, build, sign, write the bundle to a folder (an output folder, a USB
stick, a Syncthing send folder), and say what changed since the last published version.

Each publication is a new folder ``<museum>-<built>-<id12>`` beside the earlier ones (the name
holds no ``:``, which USB sticks' FAT file systems refuse), so ``kiosk content sync`` of that
folder picks the newest. The signing key is only ever opened by ``keys.load_private`` (inside
``bundle.build``); the key id recorded is read back from the bundle's signature.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kiosk.atomic import fsync_dir, write_text_atomic
from kiosk.content import bundle, keys
from kiosk.content.loader import read_pack
from kiosk.content.model import FACT_FIELDS, Pack
from kiosk.content.store import TinyDbStore
from kiosk.errors import ContentError, shown

Progress = Callable[[str, int, int], None]
"""(stage, done, total): stage is ``validate``, ``encode`` or ``write``."""

PUBLISHED = ".studio/published.json"
"""The pack's list of publications."""
MEDIA = (Path("/media"), Path("/run/media"))
"""Where desktops mount USB sticks: ``<root>/<user>/<label>``."""
_TEXT_FIELDS = (*FACT_FIELDS, "description")


@dataclass(frozen=True)
class Change:
    """What a pack changes compared with a published bundle."""

    added: list[str] = field(default_factory=list)
    """Works new in the pack."""
    removed: list[str] = field(default_factory=list)
    """Works no longer in it."""
    edited: list[str] = field(default_factory=list)
    """Works in both, changed."""
    translations_completed: list[tuple[str, str]] = field(default_factory=list)
    """(work id, language): the work is now complete in that language, and was not."""


def _complete(record: dict[str, Any], lang: str) -> bool:
    """Every text of a work (its facts, description and curated Q&A) is written in ``lang``."""
    for name in _TEXT_FIELDS:
        texts = record.get(name) or {}
        if any(texts.values()) and not texts.get(lang):
            return False
    return all(item["answer"].get(lang) and item["questions"].get(lang)
               for item in record.get("qa") or [])


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "source_file"}


def changes(old_bundle: Path | None, pack: Pack) -> Change:
    """Compare ``pack`` with the records of a bundle (None: nothing published, all added)."""
    new = {r["id"]: r for r in pack.to_records()["exhibits"]}
    if old_bundle is None:
        return Change(added=sorted(new))
    try:
        old = {r["id"]: r for r in TinyDbStore(Path(old_bundle)).exhibits()}
    except (KeyError, TypeError) as exc:
        raise bundle.failure(exc, old_bundle) from None
    both = sorted(set(old) & set(new))
    return Change(
        added=sorted(set(new) - set(old)), removed=sorted(set(old) - set(new)),
        edited=[i for i in both if _comparable(old[i]) != _comparable(new[i])],
        translations_completed=[(i, lang) for i in both for lang in pack.museum.languages
                                if _complete(new[i], lang) and not _complete(old[i], lang)])


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40].strip("-") or "museum"


def bundles_in(out_dir: Path) -> list[tuple[dict[str, Any], Path]]:
    """The bundles directly inside ``out_dir`` (manifest, folder), newest build first."""
    found = []
    if Path(out_dir).is_dir():
        for folder in Path(out_dir).iterdir():
            if folder.name.startswith(".") or folder.is_symlink() or not folder.is_dir():
                continue
            try:
                manifest = bundle.read_manifest(folder)
            except ContentError:
                continue
            if isinstance(manifest.get("created"), str):
                found.append((manifest, folder))
    return sorted(found, key=lambda mf: (mf[0]["created"], mf[1].name), reverse=True)


def publish(pack_dir: Path, out_dir: Path, encoder: Any, sign_key: Path | None,
            progress: Progress | None = None) -> dict[str, Any]:
    """Validate and build the pack into ``out_dir/<museum>-<built>-<id12>`` (atomically),
    signed with ``sign_key`` when given; record it in ``<pack>/.studio/published.json``.
    Returns the manifest plus ``folder`` and ``change`` (vs the newest bundle in ``out_dir``).
    ContentError (the first validation error, a bad key, a full disk...) changes nothing."""
    pack_dir, out_dir = Path(pack_dir), Path(out_dir)
    say = progress or (lambda stage, done, total: None)
    say("validate", 0, 1)
    pack = read_pack(pack_dir)
    say("validate", 1, 1)
    previous = bundles_in(out_dir)
    change = changes(previous[0][1] if previous else None, pack)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".publishing-", dir=out_dir))
    except OSError as exc:
        raise ContentError(f"cannot write to {shown(out_dir)} ({exc.strerror}) — choose a "
                           "folder you can write to, or check that the stick is not "
                           "read-only or full") from None
    try:
        manifest = bundle.build(pack_dir, staging / "bundle", encoder,
                                progress=lambda done, total: say("encode", done, total),
                                sign=sign_key)
        say("write", 0, 1)
        name = f"{_slug(str(manifest['museum']))}-" \
            f"{manifest['created'].replace('-', '').replace(':', '')}-{manifest['id'][:12]}"
        folder = out_dir / name
        if folder.exists():
            raise ContentError(f"{shown(folder)} exists already — publish again in a second")
        os.rename(staging / "bundle", folder)
        fsync_dir(out_dir)
    except OSError as exc:
        raise bundle.failure(exc, out_dir) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    signed_by = _signer(folder)
    _record(pack_dir, {"id": manifest["id"], "created": manifest["created"],
                       "folder": str(folder), "signed_by": signed_by,
                       "counts": manifest["counts"]})
    say("write", 1, 1)
    return {**manifest, "folder": str(folder), "signed_by": signed_by, "change": asdict(change)}


def _signer(folder: Path) -> str | None:
    """The key id of the bundle's signature, as written (None when unsigned)."""
    try:
        entries = json.loads((folder / keys.SIGNATURE).read_text(encoding="utf-8"))
        return str(entries["signatures"][0]["key_id"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _record(pack_dir: Path, entry: dict[str, Any]) -> None:
    path = pack_dir / PUBLISHED
    path.parent.mkdir(parents=True, exist_ok=True)
    history = list(reversed(published(pack_dir)))
    write_text_atomic(path, json.dumps([*history, entry], indent=2, ensure_ascii=False) + "\n")


def published(pack_dir: Path) -> list[dict[str, Any]]:
    """The pack's publications, newest first: {id, created, folder, signed_by, counts}
    ([] when none, or when the list is unreadable)."""
    try:
        history = json.loads((Path(pack_dir) / PUBLISHED).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    if not isinstance(history, list):
        return []
    return [e for e in reversed(history) if isinstance(e, dict)]


def targets(syncthing: Path | None = None,
            media: Sequence[Path] = MEDIA) -> list[tuple[str, Path]]:
    """Likely destinations as (label, folder): mounted USB sticks (``/media/*/*``,
    ``/run/media/*/*``) that can be written, and the Syncthing send folder when given."""
    out: list[tuple[str, Path]] = []
    for root in media:
        for user in _folders(root):
            for stick in _folders(user):
                if os.access(stick, os.W_OK):
                    out.append((f"USB stick {stick.name}", stick))
    if syncthing is not None and Path(syncthing).is_dir():
        out.append(("Syncthing send folder", Path(syncthing)))
    return out


def _folders(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
