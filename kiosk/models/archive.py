"""Models that come as an official zip a technician brings (``source.kind = "archive"``, the
Vosk models): checked member by member before anything is unpacked, never downloaded. The
sizes and sha256 of the files are recorded at install in the model folder's ``installed.json``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from kiosk.errors import ModelError
from kiosk.models.catalog import MANIFEST, ModelSpec, install_command, safe_relative, sha256_file
from kiosk.models.files import archive_status, read_manifest, swap_in, write_manifest
from kiosk.paths import DataDir

MAX_ARCHIVE_BYTES = 2 << 30
"""Refuse archives that would unpack to more than this (official small Vosk models: ≈70 MB)."""
MAX_ARCHIVE_MEMBERS = 10_000
VOSK_IVECTOR = ("ivector/final.ie", "ivector/final.dubm", "ivector/final.mat",
                "ivector/global_cmvn.stats", "ivector/online_cmvn.conf", "ivector/splice.conf")


def _refuse(archive: Path, spec: ModelSpec, why: str) -> ModelError:
    return ModelError(f"{archive.name} is refused: {why} — bring the official "
                      f"{spec.source['archive']} and run `{install_command(spec)}`")


def _members(zf: zipfile.ZipFile, archive: Path, spec: ModelSpec) -> list[tuple[zipfile.ZipInfo,
                                                                                 str]]:
    """Every file of the archive with its path inside the top folder; hostile archives refused."""
    top = spec.source.get("folder") or spec.source["archive"].removesuffix(".zip")
    infos = zf.infolist()
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        raise _refuse(archive, spec, f"it has {len(infos)} members (at most "
                                     f"{MAX_ARCHIVE_MEMBERS})")
    total = sum(i.file_size for i in infos)
    if total > MAX_ARCHIVE_BYTES:
        raise _refuse(archive, spec, f"it would unpack to {total >> 20} MB (at most "
                                     f"{MAX_ARCHIVE_BYTES >> 20} MB)")
    out: list[tuple[zipfile.ZipInfo, str]] = []
    seen: set[str] = set()
    for info in infos:
        rel = safe_relative(info.filename)
        if rel is None:
            raise _refuse(archive, spec, f"member '{info.filename}' is an absolute path or "
                                         "points outside its folder")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _refuse(archive, spec, f"member '{info.filename}' is a symbolic link")
        if info.is_dir():
            continue
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: zips made without Unix modes
            raise _refuse(archive, spec, f"member '{info.filename}' is not a regular file")
        if info.flag_bits & 0x1:
            raise _refuse(archive, spec, f"member '{info.filename}' is encrypted")
        if rel.parts[0] != top or len(rel.parts) < 2:
            raise _refuse(archive, spec, f"'{info.filename}' is outside the folder {top}/ "
                                         f"(is it {spec.source['archive']}?)")
        name = "/".join(rel.parts[1:])
        if name in seen or name == MANIFEST:
            raise _refuse(archive, spec, f"member '{info.filename}' is duplicated or reserved")
        seen.add(name)
        out.append((info, name))
    return out


def _missing_vosk_part(names: set[str]) -> str | None:
    """The first file a Vosk model folder needs (Vosk's own loading rules) that is absent."""
    for need in ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf"):
        if need not in names:
            return need
    if "graph/HCLG.fst" in names:
        return None if "graph/words.txt" in names else "graph/words.txt"
    if "graph/HCLr.fst" not in names and "graph/Gr.fst" not in names:
        return "graph/HCLG.fst (or graph/HCLr.fst with graph/Gr.fst)"
    for need in ("graph/HCLr.fst", "graph/Gr.fst", "graph/disambig_tid.int"):
        if need not in names:
            return need
    if "ivector/final.ie" in names:  # Vosk then reads the whole i-vector extractor
        return next((need for need in VOSK_IVECTOR if need not in names), None)
    return None


def _copy_hashing(src: IO[bytes], dst: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with dst.open("wb") as out:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def install_archive(data: DataDir, spec: ModelSpec, from_files: list[Path], log: Any) -> Path:
    target, name = data.model_dir(spec.id), spec.source["archive"]
    if not from_files:
        if archive_status(target, full=True) == "ok":
            log(f"{spec.id}: already installed and verified in {target}")
            return target
        raise ModelError(f"{spec.id} is installed from {name}, which the kiosk never downloads "
                         f"— fetch it on another computer ({spec.source.get('url', name)}), "
                         f"bring it, and run `{install_command(spec)}`")
    if len(from_files) != 1:
        raise ModelError(f"{spec.id} is installed from one file, {name} — run "
                         f"`{install_command(spec)}`")
    archive = from_files[0]
    if not archive.is_file():
        raise ModelError(f"{archive}: no such file — bring {name} and run "
                         f"`{install_command(spec)}`")
    digest = sha256_file(archive)
    pinned = spec.source.get("sha256")
    if pinned and digest != pinned:
        raise ModelError(f"{archive} has sha256 {digest[:12]}…, the catalog pins {pinned[:12]}… "
                         f"— this is not the official {name}; bring the right file")
    manifest = read_manifest(target)
    if (manifest and manifest.get("archive_sha256") == digest
            and archive_status(target, full=True) == "ok"):
        log(f"{spec.id}: already installed from this {archive.name} and verified in {target}")
        return target
    log(f"{archive.name}: sha256 {digest}" + (" (matches the catalog)" if pinned else
        " — the catalog pins none: compare it with the checksum of the official download"))
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _members(zf, archive, spec)
            missing = _missing_vosk_part({n for _, n in members})
            if spec.source.get("layout") == "vosk" and missing:
                raise ModelError(f"{archive.name} has no {missing}: it is not a Vosk model "
                                 f"folder or it is damaged — bring the official {name}")
            data.models.mkdir(parents=True, exist_ok=True)
            need, free = sum(i.file_size for i, _ in members), shutil.disk_usage(data.models).free
            if need + (64 << 20) > free:
                raise ModelError(f"{name} needs {need >> 20} MB in {data.models}, only "
                                 f"{free >> 20} MB are free — free some space and try again")
            with tempfile.TemporaryDirectory(dir=data.models, prefix=".install-") as tmp_name:
                staged = Path(tmp_name) / "staged"
                files = _unpack(zf, members, staged)
                write_manifest(staged, spec, {"archive": archive.name,
                                               "archive_sha256": digest}, files)
                swap_in(staged, target, Path(tmp_name))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ModelError(f"{archive.name} is not a readable zip ({exc}) — bring the official "
                         f"{name} again") from exc
    except OSError as exc:
        raise ModelError(f"could not install {spec.id} into {data.models} ({exc}) — check its "
                         "free space and permissions") from exc
    log(f"{spec.id}: installed and verified in {target} ({len(files)} files from "
        f"{archive.name}; sizes and sha256 recorded in {MANIFEST})")
    return target


def _unpack(zf: zipfile.ZipFile, members: list[tuple[zipfile.ZipInfo, str]],
            staged: Path) -> dict[str, dict[str, Any]]:
    """Write every member under ``staged`` (zipfile checks each CRC); their sizes and sha256."""
    files: dict[str, dict[str, Any]] = {}
    for info, rel in members:
        (staged / rel).parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src:
            size, sha = _copy_hashing(src, staged / rel)
        files[rel] = {"size": size, "sha256": sha}
    return files
