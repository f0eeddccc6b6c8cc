"""Build a bundle from a pack, and check one before use.

A bundle is a directory: ``manifest.json``, ``content.json`` (TinyDB), ``vectors.npy`` (the
encoder's vectors of every unit), ``images/`` and, when signed, ``signature.json``. Its id is
the content hash: a sha256 over the format version, the encoder, and every pack file used — the
same pack always builds the same id. The manifest names its format (``format``,
``format_version``), the encoder, when it was built, and the sha256 of every other file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import numpy as np

from kiosk import limits
from kiosk.atomic import fsync_tree
from kiosk.content import keys
from kiosk.content.loader import read_pack
from kiosk.content.model import Pack
from kiosk.content.schema import LANG_CODE, SLUG
from kiosk.content.store import DB_NAME, VECTORS_NAME, TinyDbStore, write_db
from kiosk.content.yamlfile import LONG_FIELDS
from kiosk.errors import ContentError, shown
from kiosk.models import sha256_file
from kiosk.ports import Encoder, Vectors
from kiosk.qa.index import Unit, build_units, encode_units, units_from_records, units_to_records
from kiosk.qa.vector_cache import VectorCache

MANIFEST = "manifest.json"
SIGNATURE = keys.SIGNATURE
ORIGIN = "origin.json"
"""Where an installed version came from (written by sync, not part of the bundle)."""
UNLISTED = frozenset({MANIFEST, SIGNATURE, ORIGIN})
"""Files a bundle folder may hold that its manifest does not list."""
FORMAT = "kiosk-bundle"
FORMAT_VERSION = 2
"""2: the answers of curated and practical entries are encoded too (the answer scorer reads
them); the encoder may be several, fused."""
ID = re.compile(r"[0-9a-f]{64}")
CREATED = re.compile(r"\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\dZ")
"""A build time as ``kiosk content build`` writes it (UTC)."""
RECORD_CHECKS = 2
"""The version of the record checks ``load`` makes; a sync notes it in ``origin.json``, and a
version installed with these checks is not checked again at every open (its files are still
verified by hash). 2: texts within the ``[limits]``."""
REBUILD = "build it again with `kiosk content build`"


def pack_files(root: Path, pack: Pack) -> list[str]:
    """The pack files a bundle is made of (relative paths, sorted)."""
    files = {"museum.yaml"} | {e.source_file for e in pack.exhibits} | \
        {e.image for e in pack.exhibits if e.image}
    if (root / "faq.yaml").exists():
        files.add("faq.yaml")
    return sorted(files)


def content_hash(root: Path, pack: Pack, encoder_id: str, encoder_sha: str) -> str:
    digest = hashlib.sha256(f"kiosk-content/{FORMAT_VERSION}\n{encoder_id}\n{encoder_sha}\n"
                            .encode())
    for rel in pack_files(root, pack):
        digest.update(f"{rel}\n{sha256_file(root / rel)}\n".encode())
    return digest.hexdigest()


def build(pack_dir: Path, out: Path, encoder: Encoder,
          progress: Callable[[int, int], None] | None = None,
          sign: Path | None = None, cache: VectorCache | None = None) -> dict[str, Any]:
    """Validate the pack, encode it and write the bundle at ``out`` atomically; with ``sign``
    (a private key file from ``kiosk content keygen``) also write ``signature.json``."""
    private = keys.load_private(sign) if sign is not None else None  # fail before encoding
    pack_dir = Path(pack_dir)
    pack = read_pack(pack_dir)
    units = build_units(pack)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(units))

    vectors = encode_units(units, encoder, step, cache=cache)
    out = Path(out)
    if out.exists() and not (out / MANIFEST).exists():
        raise ContentError(f"{out} exists and is not a bundle — choose another output folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tmp.chmod(0o755)
        records = pack.to_records()
        write_db(tmp / DB_NAME, {
            "museum": [records["museum"]], "exhibits": records["exhibits"],
            "faq": records["faq"], "units": units_to_records(units),
        })
        with (tmp / VECTORS_NAME).open("wb") as fh:
            np.save(fh, vectors.astype(np.float32), allow_pickle=False)
        for ex in pack.exhibits:
            if ex.image:
                (tmp / ex.image).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(pack_dir / ex.image, tmp / ex.image)
        files = {
            p.relative_to(tmp).as_posix(): sha256_file(p)
            for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "id": content_hash(pack_dir, pack, encoder.model_id, encoder.sha256),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "museum": pack.museum.name.get(pack.museum.default_language, ""),
            "languages": pack.museum.languages,
            "default_language": pack.museum.default_language,
            "encoder": {"id": encoder.model_id, "sha256": encoder.sha256},
            "counts": {"exhibits": len(pack.exhibits), "faq": len(pack.faq),
                       "texts": len(units)},
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        if private is not None:
            (tmp / SIGNATURE).write_text(json.dumps(keys.sign(manifest, private), indent=2)
                                         + "\n", encoding="utf-8")
        fsync_tree(tmp)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


# -- checks ----------------------------------------------------------------------------------

def parse_manifest(raw: bytes, where: str) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # (also a number of thousands of digits)
        raise ContentError(f"{where}/{MANIFEST} is not valid JSON — the bundle is damaged or "
                           f"still arriving; {REBUILD} or copy it again") from None
    if not isinstance(data, dict):
        raise ContentError(f"{where}/{MANIFEST} is not a manifest — {REBUILD}")
    return data


def read_manifest(bundle: Path) -> dict[str, Any]:
    path = Path(bundle) / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContentError(f"{bundle}: no {MANIFEST} — not a content bundle") from None
    except OSError as exc:
        raise ContentError(f"cannot read {path} ({exc.strerror}) — copy the bundle "
                           "again") from None
    return parse_manifest(raw, str(bundle))


def safe_path(rel: object) -> bool:
    """A relative POSIX path that stays inside the bundle."""
    if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel \
            or shown(rel) != rel:
        return False
    parts = PurePosixPath(rel).parts
    return ".." not in parts and "." not in parts and rel.split("/")[0] not in UNLISTED \
        and "" not in rel.split("/")


def check_manifest(manifest: dict[str, Any], where: str, encoder_id: str | None = None,
                   encoder_sha: str | None = None) -> str:
    """The bundle's id once the manifest is safe to act on: format, id, file list, encoder."""
    if manifest.get("format_version") != FORMAT_VERSION or \
            manifest.get("format", FORMAT) != FORMAT:
        raise ContentError(f"{where}: content format {manifest.get('format', FORMAT)} "
                           f"{manifest.get('format_version')}, this kiosk reads format "
                           f"{FORMAT} {FORMAT_VERSION} — rebuild it with this version")
    bundle_id, listed = manifest.get("id"), manifest.get("files")
    if not isinstance(bundle_id, str) or not ID.fullmatch(bundle_id) \
            or not isinstance(listed, dict) or not isinstance(manifest.get("created"), str) \
            or not CREATED.fullmatch(manifest["created"]):
        raise ContentError(f"{where}/{MANIFEST} has no valid id, build time or file list — not "
                           f"a content bundle; {REBUILD}")
    for rel, digest in listed.items():
        if not safe_path(rel):
            raise ContentError(f"{where}: the manifest lists {rel!r}, a path outside the "
                               f"bundle — refused; {REBUILD}")
        if not isinstance(digest, str) or not ID.fullmatch(digest):
            raise ContentError(f"{where}: the manifest's sha256 of {rel} is not valid — the "
                               f"manifest is damaged; {REBUILD}")
    enc = manifest.get("encoder")
    if encoder_id is not None and (not isinstance(enc, dict) or enc.get("id") != encoder_id
                                   or enc.get("sha256") != encoder_sha):
        got = enc.get("id") if isinstance(enc, dict) else None
        raise ContentError(f"{where} was built with encoder {got}, this kiosk uses "
                           f"{encoder_id} — rebuild it with `kiosk content build` on a machine "
                           "with the kiosk's encoder")
    return bundle_id


def _read_signature(bundle: Path) -> bytes | None:
    try:
        return (bundle / SIGNATURE).read_bytes()
    except FileNotFoundError:
        return None


def verify(bundle: Path, encoder_id: str | None = None, encoder_sha: str | None = None,
           trusted: keys.Trusted | None = None) -> dict[str, Any]:
    """Check a bundle folder's manifest, every file's sha256 and (with ``trusted`` keys) its
    signature; return the manifest."""
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    check_manifest(manifest, str(bundle), encoder_id, encoder_sha)
    listed: dict[str, str] = manifest["files"]
    for rel, digest in sorted(listed.items()):
        path = bundle / rel
        if path.is_symlink() or not path.is_file():
            raise ContentError(f"{bundle}: {rel} is missing — the bundle is incomplete; "
                               "copy or build it again")
        if sha256_file(path) != digest:
            raise ContentError(f"{bundle}: {rel} does not match its sha256 — the bundle is "
                               f"damaged or was changed; {REBUILD}")
    present = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")
               if p.is_file() or p.is_symlink()}
    extra = sorted(present - set(listed) - UNLISTED)
    if extra:
        raise ContentError(f"{bundle}: {extra[0]} is not in the manifest — the bundle was "
                           f"changed after it was built; {REBUILD}")
    if trusted:
        keys.check(str(bundle), manifest, _read_signature(bundle), trusted)
    return manifest


# -- the records -------------------------------------------------------------------------------

_LOC = {"type": "object", "additionalProperties": {"type": "string"}}
_QS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
_STRS = {"type": "array", "items": {"type": "string"}}
_DATE = {"type": ["string", "null"]}
RECORDS: dict[str, dict[str, Any]] = {
    "museum": {"type": "object", "additionalProperties": False,
               "required": ["name", "languages", "default_language"],
               "properties": {"name": _LOC, "default_language": {"type": "string"},
                              "languages": {"type": "array", "minItems": 1, "items": {
                                  "type": "string", "pattern": LANG_CODE}},
                              "replies": {"type": "object", "additionalProperties": _LOC}}},
    "exhibits": {"type": "object", "additionalProperties": False,
                 "required": ["id", "title", "artist"],
                 "properties": {
                     "id": {"type": "string", "pattern": SLUG}, "title": _LOC, "artist": _LOC,
                     "date": _LOC, "medium": _LOC, "room": _LOC, "dimensions": _LOC,
                     "description": _LOC, "image": {"type": "string"}, "aliases": _STRS,
                     "tags": _STRS, "priority": {"type": "integer"}, "on_view_from": _DATE,
                     "on_view_until": _DATE, "source_file": {"type": "string"},
                     "qa": {"type": "array", "items": {
                         "type": "object", "additionalProperties": False,
                         "required": ["questions", "answer"],
                         "properties": {"questions": _QS, "answer": _LOC}}}}},
    "faq": {"type": "object", "additionalProperties": False,
            "required": ["id", "questions", "answer"],
            "properties": {"id": {"type": "string", "pattern": SLUG}, "questions": _QS,
                           "answer": _LOC}},
    "units": {"type": "object", "additionalProperties": False,
              "required": ["kind", "ref", "item", "lang", "text"],
              "properties": {"kind": {"enum": ["qa", "faq", "answer", "sentence", "title"]},
                             "ref": {"type": "string"}, "item": {"type": "integer"},
                             "lang": {"type": "string"}, "text": {"type": "string"}}},
}


def failure(exc: BaseException, where: Path | str) -> ContentError:
    """Whatever went wrong while reading or opening the content at ``where``, as the one line
    a person reads (a ContentError stays as it is)."""
    if isinstance(exc, ContentError):
        return exc
    if isinstance(exc, MemoryError):
        return ContentError(f"{shown(where)}: too large to open (out of memory) — {REBUILD} "
                            "with fewer or smaller works")
    if isinstance(exc, OSError):
        return ContentError(f"{shown(where)}: cannot be read or written "
                            f"({exc.strerror or shown(exc)}) — check the disk and copy it again")
    return ContentError(f"{shown(where)}: does not open ({type(exc).__name__}: "
                        f"{shown(exc)[:160]}) — {REBUILD}")


def checked(folder: Path) -> bool:
    """A version this kiosk installed with today's record checks (``origin.json``)."""
    try:
        origin = json.loads((folder / ORIGIN).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(origin, dict) and origin.get("checked") == RECORD_CHECKS


def _check_db_shape(path: Path, where: str) -> None:
    """TinyDB's layout ({table: {doc id: document}}), checked before TinyDB reads it."""
    try:
        db = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        raise ContentError(f"{where} is not valid JSON — {REBUILD}") from None
    good = isinstance(db, dict) and all(
        isinstance(table, dict) and all(
            isinstance(k, str) and k.isdigit() and k.isascii() and isinstance(v, dict)
            for k, v in table.items())
        for table in db.values())
    if not good:
        raise ContentError(f"{where} is not a content database (tables of records) — "
                           f"{REBUILD}")


_VALIDATORS = {table: jsonschema.validators.validator_for(schema)(schema)
               for table, schema in RECORDS.items()}
"""Built once: ``jsonschema.validate`` checks the schema itself at every call, which was 98 %
of opening a bundle of 5,000 works."""


def _check_text_lengths(tables: dict[str, list[Any]], where: str) -> None:
    """Every text of the records within the ``[limits]`` a pack file is read with (a bundle
    made by hand could hold a title of a megabyte, which the answerer would then compare
    with every question)."""
    most = limits.current()

    def walk(value: Any, table: str, n: int, path: tuple[str, ...]) -> None:
        if isinstance(value, str):
            long = any(step in LONG_FIELDS for step in path)
            limit, name = ((most.long_text_chars, "long_text_chars") if long
                           else (most.short_text_chars, "short_text_chars"))
            if len(value) > limit:
                raise ContentError(f"{where}: {table}[{n}] {shown('.'.join(path))[:80]} is "
                                   f"{len(value):,} characters long, more than the {limit:,} "
                                   f"allowed ([limits] {name}) — {REBUILD}")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, table, n, (*path, str(key)))
        elif isinstance(value, list):
            for item in value:
                walk(item, table, n, path)

    for table, rows in tables.items():
        if table != "units":  # (units are compared with the texts the records give)
            for n, row in enumerate(rows):
                walk(row, table, n, ())


def load(bundle: Path, manifest: dict[str, Any],
         checked: bool = False) -> tuple[Pack, list[Unit], Vectors]:
    """The pack, units and vectors of a verified bundle, after checking its records: against
    the content schema, and with each other (ContentError naming the first bad record
    otherwise). ``checked``: a version this kiosk installed, whose files (verified by hash
    since) passed these checks when it was synced: only the cheap ones are made again."""
    where = f"{bundle}/{DB_NAME}"
    if not checked:
        _check_db_shape(bundle / DB_NAME, where)
    try:
        store = TinyDbStore(bundle)
        tables = {"museum": [store.museum()], "exhibits": store.exhibits(),
                  "faq": store.faq(), "units": store.units()}
        vectors = store.vectors()
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        raise ContentError(f"{where} is not a content database ({type(exc).__name__}) — "
                           f"{REBUILD}") from None
    for table, rows in tables.items() if not checked else ():
        if table == "units":  # (each is compared below with the text the works give)
            continue
        for n, row in enumerate(rows):
            error = jsonschema.exceptions.best_match(_VALIDATORS[table].iter_errors(row))
            if error is not None:
                at = shown(".".join(str(p) for p in error.absolute_path)) or "the record"
                raise ContentError(f"{where}: {table}[{n}] {at}: {shown(error.message)[:120]} "
                                   f"— the records do not match the content schema; {REBUILD}")
    if not checked:
        _check_text_lengths(tables, where)
    museum = tables["museum"][0]
    if museum["default_language"] not in museum["languages"]:
        raise ContentError(f"{where}: the default language is not one of the languages — "
                           f"{REBUILD}")
    ids = [r["id"] for r in tables["exhibits"]] + [r["id"] for r in tables["faq"]]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{where}: two works or FAQ entries share an id — {REBUILD}")
    for row in tables["exhibits"]:
        if row.get("image") and row["image"] not in manifest["files"]:
            raise ContentError(f"{where}: the image of {row['id']} ({row['image']}) is not in "
                               f"the bundle — {REBUILD}")
    known = set(ids)
    for row in tables["units"]:
        ref = row.get("ref")
        if not isinstance(ref, str) or ref not in known:
            raise ContentError(f"{where}: a text refers to {shown(ref)[:60]!r}, which is not in "
                               f"the bundle — {REBUILD}")
    if vectors.ndim != 2 or len(vectors) != len(tables["units"]) \
            or not np.isfinite(vectors).all():
        raise ContentError(f"{bundle}/{VECTORS_NAME} is not a table of numbers — {REBUILD}")
    try:
        pack = Pack.from_records(museum, tables["exhibits"], tables["faq"])
    except (ValueError, TypeError, KeyError) as exc:
        raise ContentError(f"{where}: the records do not make a pack ({type(exc).__name__}) — "
                           f"{REBUILD}") from None
    try:
        units = units_from_records(tables["units"])
    except TypeError:
        raise ContentError(f"{where}: a text record has the wrong fields — {REBUILD}") from None
    if not checked and units != build_units(pack):  # every text is derived from the works
        first = next((i for i, (a, b) in enumerate(zip(units, build_units(pack), strict=False))
                      if a != b), min(len(units), len(build_units(pack))))
        raise ContentError(f"{where}: units[{first}] is not the text the records give (a text "
                           f"pointing past its work's Q&A, or naming the wrong entry) — {REBUILD}")
    return pack, units, vectors
