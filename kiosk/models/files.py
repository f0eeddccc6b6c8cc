"""An installed model's folder: its files checked against the catalog or against the
``installed.json`` written at install, and how a verified folder replaces the old one."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from kiosk.errors import ModelError
from kiosk.models.catalog import MANIFEST, ModelSpec, install_command, safe_relative, sha256_file
from kiosk.paths import DataDir


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
    state = archive_status(target, full=False)
    if state == "not installed":
        raise ModelError(f"model '{spec.id}' is not installed in {data.models} — bring "
                         f"{spec.source['archive']} and run `{install_command(spec)}`")
    if state != "ok":
        raise ModelError(f"model {target} is damaged ({state}) — run "
                         f"`{install_command(spec)}` again")
    return target


def write_manifest(staged: Path, spec: ModelSpec, source: dict[str, Any],
                    files: dict[str, dict[str, Any]]) -> None:
    staged.mkdir(parents=True, exist_ok=True)
    (staged / MANIFEST).write_text(json.dumps({
        "id": spec.id, "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kind": spec.source.get("kind"), **source, "files": files,
    }, indent=2) + "\n", encoding="utf-8")


def swap_in(staged: Path, target: Path, tmp: Path) -> None:
    """Put the complete, verified ``staged`` folder in place; the old one goes with ``tmp``."""
    if target.exists():
        target.rename(tmp / "old")
    staged.rename(target)


def read_manifest(target: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


def file_ok(path: Path, size: int, sha256: str, full: bool = True) -> bool:
    if not path.is_file() or path.stat().st_size != size:
        return False
    return not full or sha256_file(path) == sha256


def archive_status(target: Path, full: bool) -> str:
    if not target.exists():
        return "not installed"
    manifest = read_manifest(target)
    if manifest is None or not manifest["files"]:
        return f"no readable {MANIFEST}"
    for name, f in manifest["files"].items():
        rel = safe_relative(name)
        if rel is None or not isinstance(f, dict):
            return f"{MANIFEST} is not the kiosk's"
        if not file_ok(target / rel, f.get("size", -1), f.get("sha256", ""), full):
            return f"{name} differs from what was installed"
    return "ok"
