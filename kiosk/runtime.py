"""Open what the kiosk serves: the encoder and one content version (a pack or a bundle)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.content import bundle as bundles
from kiosk.content.loader import read_pack
from kiosk.content.model import Pack
from kiosk.content.store import TinyDbStore
from kiosk.errors import ContentError
from kiosk.paths import DataDir
from kiosk.ports import Encoder, Vectors
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.encoder import load_encoder
from kiosk.qa.index import Unit, build_units, encode_units, units_from_records
from kiosk.settings import Settings


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
                 progress: Callable[[int], None] | None = None) -> Content:
    """Open a pack folder (validated and encoded now) or a bundle (verified)."""
    path = Path(path)
    if (path / bundles.MANIFEST).is_file():
        manifest = bundles.verify(path, encoder.model_id, encoder.sha256)
        store = TinyDbStore(path)
        pack = Pack.from_records(store.museum(), store.exhibits(), store.faq())
        return Content(pack, units_from_records(store.units()), store.vectors(),
                       f"bundle {manifest['id'][:12]} ({path})", manifest)
    if (path / "museum.yaml").is_file():
        pack = read_pack(path)
        units = build_units(pack)
        return Content(pack, units, encode_units(units, encoder, progress), f"pack {path}")
    raise ContentError(f"{path} is neither a content pack (museum.yaml) nor a bundle "
                       "(manifest.json) — give the pack folder or the built bundle")


def default_content(data: DataDir) -> Path:
    current = data.versions / "current"
    if current.exists():
        return current
    raise ContentError(f"no content installed in {data.root} — pass --content PACK_OR_BUNDLE "
                       "or sync a bundle")


def open_answerer(settings: Settings, data: DataDir, content: Path | None,
                  today: dt.date | None = None,
                  encoder: Encoder | None = None) -> tuple[KioskAnswerer, Content]:
    """The encoder (installed model) and the answerer over ``content``."""
    encoder = encoder or load_encoder(data, settings.models.encoder, settings.models.threads)
    opened = open_content(content or default_content(data), encoder)
    answerer = KioskAnswerer(opened.pack, opened.units, opened.vectors, encoder, settings.qa,
                             today=today)
    return answerer, opened
