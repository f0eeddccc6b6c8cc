"""Open what the kiosk serves: the encoder and one content version (a pack or a bundle)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kiosk.content import bundle as bundles
from kiosk.content.loader import read_pack
from kiosk.content.model import Pack
from kiosk.errors import ContentError, KioskError, shown
from kiosk.events import Question
from kiosk.paths import DataDir
from kiosk.ports import Encoder, Vectors
from kiosk.qa.answerer import KioskAnswerer
from kiosk.qa.encoder import load_encoders
from kiosk.qa.index import Unit, build_units, encode_units
from kiosk.qa.vector_cache import VectorCache
from kiosk.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


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
                 cache: VectorCache | None = None, checked: bool | None = None,
                 verified: bool = False) -> Content:
    """Open a pack folder (validated and encoded now, taking what ``cache`` holds) or a bundle
    (verified, unless ``verified`` says it just was). ``checked``: its records were checked
    when it was installed (default: what its ``origin.json`` says)."""
    path = Path(path)
    if (path / bundles.MANIFEST).is_file():
        if verified:  # (its files' hashes were checked a moment ago: ``default_content``)
            manifest = bundles.read_manifest(path)
            bundles.check_manifest(manifest, str(path), encoder.model_id, encoder.sha256)
        else:
            manifest = bundles.verify(path, encoder.model_id, encoder.sha256)
        pack, units, vectors = bundles.load(
            path, manifest, checked=bundles.checked(path) if checked is None else checked)
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
        folder, problem = _installed(data, role)
        if folder is None:
            problems += [problem] if problem else []
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


def try_question(answerer: KioskAnswerer, pack: Pack) -> None:
    """Ask one question as a visitor would (a work's title in the museum's language): raises
    whatever a content that cannot answer raises."""
    lang = pack.museum.default_language
    title = next((e.title.get(lang) or next(iter(e.title.values()), "")
                  for e in pack.exhibits), "")
    answerer.answer(Question(title or "?", lang))


def probe_content(path: Path, encoder: Encoder, settings: Settings) -> None:
    """Open ``path`` exactly as the kiosk will (store, vectors, answerer) and ask one question;
    ``kiosk content sync`` refuses a bundle this fails on."""
    opened = open_content(path, encoder, checked=True)  # (as a sync installs it: checked)
    try_question(KioskAnswerer(opened.pack, opened.units, opened.vectors, encoder, settings.qa,
                               room=settings.kiosk.room), opened.pack)


def open_answerer(settings: Settings, data: DataDir, content: Path | None,
                  today: dt.date | None = None,
                  encoder: Encoder | None = None) -> tuple[KioskAnswerer, Content, Path]:
    """The encoder (installed model) and the answerer over ``content``, and the folder it
    came from. With no ``content``: the installed version — ``current``, or when that cannot
    be opened or cannot answer, ``previous`` (said in one line), so that a kiosk always boots
    on content that works."""
    encoder = encoder or load_encoders(data, settings.models.encoder, settings.models.threads)
    cache = VectorCache(data.vector_cache)

    def answerer_over(path: Path, verified: bool = False) -> tuple[KioskAnswerer, Content]:
        opened = open_content(path, encoder, cache=cache, verified=verified)
        answerer = KioskAnswerer(opened.pack, opened.units, opened.vectors, encoder,
                                 settings.qa, today=today, room=settings.kiosk.room)
        return answerer, opened

    if content is not None:
        return (*_one_line(answerer_over, content), content)
    first = default_content(data)
    try:
        answerer, opened = _one_line(lambda f: answerer_over(f, verified=True), first)
        try_question(answerer, opened.pack)
        return answerer, opened, first
    except Exception as exc:  # noqa: BLE001 — any fault of the content: try the previous one
        problem = f"{first.name[:12]} does not open ({shown(exc)})"
    # (previous is hashed only now: a kiosk whose current version works never reads it)
    for folder in (f for f in previous_folder(data) if f != first):
        try:
            answerer, opened = _one_line(lambda f: answerer_over(f, verified=True), folder)
            try_question(answerer, opened.pack)
        except Exception:  # noqa: BLE001
            break
        log.warning("content: %s — serving the previous version %s instead; sync a good "
                    "bundle again", problem, folder.name[:12])
        return answerer, opened, folder
    raise ContentError(f"no content version here opens: {problem} — sync a good bundle "
                       "with `kiosk content sync SRC`, or give --content PACK")


def previous_folder(data: DataDir) -> list[Path]:
    """The ``previous`` version's folder, when it is complete (checked as ``default_content``
    checks it)."""
    folder, _ = _installed(data, "previous")
    return [folder] if folder is not None else []


def _installed(data: DataDir, role: str) -> tuple[Path | None, str]:
    """The folder ``versions/<role>`` names, when it is a version inside ``versions/`` whose
    files all match its manifest; else None and why ('' when there is no such link)."""
    link = data.versions / role
    if not link.is_symlink() and not link.exists():
        return None, ""
    try:
        folder = link.resolve(strict=True)
        if folder.parent != data.versions.resolve() or not bundles.ID.fullmatch(folder.name):
            return None, f"{role} ({link}) points outside {data.versions}"
        bundles.verify(folder)
    except (OSError, RuntimeError):
        return None, f"{role} ({link}) points to nothing"
    except ContentError as exc:
        return None, f"{role} is damaged: {exc}"
    return folder, ""


def _one_line(open_fn: Callable[[Path], T], path: Path) -> T:
    """``open_fn(path)``, anything unexpected it raises turned into one ContentError line
    (``bundle.failure``)."""
    try:
        return open_fn(path)
    except KioskError:
        raise
    except Exception as exc:  # noqa: BLE001
        log.debug("opening %s", path, exc_info=True)
        raise bundles.failure(exc, path) from None
