"""Build a bundle from a pack, and check one before use.

A bundle is a directory: ``manifest.json``, ``content.json`` (TinyDB), ``vectors.npy`` (the
encoder's vectors of every unit) and ``images/``. Its id is the content hash: a sha256 over the
format version, the encoder, and every pack file used — the same pack always builds the same id.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.content.loader import read_pack
from kiosk.content.model import Pack
from kiosk.content.schema import FORMAT_VERSION
from kiosk.content.store import DB_NAME, VECTORS_NAME, write_db
from kiosk.errors import ContentError
from kiosk.models import sha256_file
from kiosk.ports import Encoder
from kiosk.qa.index import build_units, encode_units, units_to_records

MANIFEST = "manifest.json"


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
          progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Validate the pack, encode it and write the bundle at ``out`` atomically."""
    pack_dir = Path(pack_dir)
    pack = read_pack(pack_dir)
    units = build_units(pack)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(units))

    vectors = encode_units(units, encoder, step)
    out = Path(out)
    if out.exists() and not (out / MANIFEST).exists():
        raise ContentError(f"{out} exists and is not a bundle — choose another output folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
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
        _fsync_tree(tmp)
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


def _fsync_tree(root: Path) -> None:
    """Flush every file to disk before the bundle is renamed into place."""
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def read_manifest(bundle: Path) -> dict[str, Any]:
    path = Path(bundle) / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(f"{bundle}: no {MANIFEST} — not a content bundle") from None
    except json.JSONDecodeError as exc:
        raise ContentError(f"{path} is not valid JSON ({exc.msg}) — the bundle is damaged") \
            from None
    return data


def verify(bundle: Path, encoder_id: str | None = None,
           encoder_sha: str | None = None) -> dict[str, Any]:
    """Check a bundle's manifest and every file's sha256; return the manifest."""
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ContentError(f"{bundle}: content format {manifest.get('format_version')}, this "
                           f"kiosk reads format {FORMAT_VERSION} — rebuild it with this version")
    listed = manifest.get("files", {})
    for rel, digest in sorted(listed.items()):
        path = bundle / rel
        if not path.is_file():
            raise ContentError(f"{bundle}: {rel} is missing — the bundle is incomplete; "
                               "copy or build it again")
        if sha256_file(path) != digest:
            raise ContentError(f"{bundle}: {rel} does not match its sha256 — the bundle is "
                               "damaged or was changed; build it again")
    present = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    extra = sorted(present - set(listed) - {MANIFEST})
    if extra:
        raise ContentError(f"{bundle}: {extra[0]} is not in the manifest — the bundle was "
                           "changed after it was built; build it again")
    enc = manifest.get("encoder", {})
    if encoder_id and (enc.get("id") != encoder_id or enc.get("sha256") != encoder_sha):
        raise ContentError(f"{bundle} was built with encoder {enc.get('id')}, this kiosk uses "
                           f"{encoder_id} — rebuild it with `kiosk content build`")
    return manifest
