"""Exhibit files already checked, kept on disk between runs (the studio's): opening a pack of
a thousand works reads each file's bytes and its sha256, and checks again only the files that
changed since the last run, or that this version of the checks has never seen.

The file is JSON in the data folder's cache (``cache/studio/<pack>.json``), written whole and
atomically; one that cannot be read, or was written by other checks, is ignored: every file is
then checked again, as with no memo at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kiosk.content import loader
from kiosk.content.checks import Issue
from kiosk.content.loader import FileCheck, FileMemo
from kiosk.content.model import Exhibit, QaPair

FORMAT = 1
CHECKS = ("loader.py", "checks.py", "schema.py", "yamlfile.py", "images.py", "model.py")
"""The modules whose code decides what a check gives: a memo from other code is not used."""


def checks_version() -> str:
    """A digest of the checks' code."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for name in CHECKS:
        digest.update((Path(loader.__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


def memo_path(cache_dir: Path, pack_dir: Path) -> Path:
    """Where the memo of ``pack_dir`` is kept."""
    name = hashlib.sha256(str(Path(pack_dir).resolve()).encode()).hexdigest()[:16]
    return cache_dir / "studio" / f"{name}.json"


def save(memo: FileMemo, path: Path) -> None:
    """Write ``memo`` to ``path`` (atomically; a cache that cannot be written is let go)."""
    files = {}
    for rel, ((key, picture), found) in memo.items():
        if key[0] is None:
            continue
        files[rel] = {"key": [key[0], list(key[1]), key[2]],
                      "picture": list(picture) if picture else None,
                      "check": _check_json(found)}
    body = json.dumps({"format": FORMAT, "checks": checks_version(), "files": files},
                      ensure_ascii=False, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".memo-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only or full disk: the next run checks every file again


def load(path: Path) -> FileMemo:
    """The memo kept at ``path``; empty when there is none, it is damaged, or other checks
    wrote it."""
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
        if held.get("format") != FORMAT or held.get("checks") != checks_version():
            return {}
        memo: FileMemo = {}
        for rel, entry in held["files"].items():
            digest, langs, lim = entry["key"]
            picture = tuple(entry["picture"]) if entry["picture"] else None
            memo[str(rel)] = (((str(digest), tuple(langs), str(lim)), picture),
                              _check_of(entry["check"]))
        return memo
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _check_json(found: FileCheck) -> dict[str, Any]:
    return {"issues": [[i.file, i.line, i.message, i.error] for i in found.issues],
            "id": found.id, "id_line": found.id_line,
            "exhibit": asdict(found.exhibit) if found.exhibit is not None else None,
            "data": found.data, "image": found.image}


def _check_of(held: dict[str, Any]) -> FileCheck:
    exhibit = held["exhibit"]
    if exhibit is not None:
        exhibit = Exhibit(**{**exhibit, "qa": [QaPair(**qa) for qa in exhibit["qa"]]})
    return FileCheck(
        issues=tuple(Issue(str(f), line, str(m), bool(e)) for f, line, m, e in held["issues"]),
        id=held["id"], id_line=held["id_line"], exhibit=exhibit, data=held["data"],
        image=str(held["image"]))
