"""Open what the kiosk serves: the encoder and one content version (a pack or a bundle)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.content import bundle as bundles
from kiosk.content.loader import read_pack
from kiosk.content.model import Pack
from kiosk.errors import ContentError
from kiosk.paths import DataDir
from kiosk.ports import Encoder, Vectors
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.encoder import load_encoders
from kiosk.qa.index import Unit, build_units, encode_units
from kiosk.qa.vector_cache import VectorCache
from kiosk.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Content:
    """One content version, ready to answer from."""

    pack: Pack
    """The curated content."""
    units: list[Unit]
    """Matchable texts."""
    vectors: Vectors
    """Their vectors."""
    label: str
    """Where it came from (a pack folder, or a bundle and its id)."""
    manifest: dict[str, Any] | None = None
    """The bundle's manifest (None for a pack opened directly)."""


def open_content(path: Path, encoder: Encoder,
                 progress: Callable[[int], None] | None = None,
                 cache: VectorCache | None = None) -> Content:
    """Open a pack folder (validated and encoded now, taking what ``cache`` holds) or a bundle
    (verified)."""
    path = Path(path)
    if (path / bundles.MANIFEST).is_file():
        manifest = bundles.verify(path, encoder.model_id, encoder.sha256)
        pack, units, vectors = bundles.load(path, manifest)
        return Content(pack, units, vectors, f"bundle {manifest['id'][:12]} ({path})",
                       manifest)
    if (path / "museum.yaml").is_file():
        pack = read_pack(path)
        units = build_units(pack)
        return Content(pack, units, encode_units(units, encoder, progress, cache=cache),
                       f"pack {path}")
    raise ContentError(f"{path} is neither a content pack (museum.yaml) nor a bundle "
                       "(manifest.json) — give the pack folder or the built bundle")


def default_content(data: DataDir) -> Path:
    """The installed version to serve, verified on boot: the folder ``current`` names when it
    is complete and every file matches its manifest, else ``previous`` (said in one line), so
    a power cut during a sync never leaves the kiosk serving a half-written or mixed version.
    Returns the version's own folder (not the link), so a sync cannot switch it under us."""
    problems = []
    for role in ("current", "previous"):
        link = data.versions / role
        if not link.is_symlink() and not link.exists():
            continue
        try:
            folder = link.resolve(strict=True)
            bundles.verify(folder)
        except (OSError, RuntimeError):
            problems.append(f"{role} ({link}) points to nothing")
            continue
        except ContentError as exc:
            problems.append(f"{role} is damaged: {exc}")
            continue
        if problems:
            log.warning("content: %s — serving the previous version %s instead; sync the "
                        "bundle again", problems[0], folder.name[:12])
        return folder
    if problems:
        raise ContentError(f"no complete content version in {data.versions} ({problems[0]}) — "
                           "sync a bundle again with `kiosk content sync SRC`")
    raise ContentError(f"no content installed in {data.root} — pass --content PACK_OR_BUNDLE "
                       "or sync a bundle")


def open_answerer(settings: Settings, data: DataDir, content: Path | None,
                  today: dt.date | None = None,
                  encoder: Encoder | None = None) -> tuple[KioskAnswerer, Content]:
    """The encoder (installed model) and the answerer over ``content``."""
    encoder = encoder or load_encoders(data, settings.models.encoder, settings.models.threads)
    opened = open_content(content or default_content(data), encoder,
                          cache=VectorCache(data.vector_cache))
    answerer = KioskAnswerer(opened.pack, opened.units, opened.vectors, encoder, settings.qa,
                             today=today, room=settings.kiosk.room)
    return answerer, opened
