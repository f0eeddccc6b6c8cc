"""The house's rules that a script can check: no private name crosses a module, no import
cycle (scripts/imports.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def imports_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kiosk_imports", ROOT / "scripts" / "imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_no_private_name_crosses_a_module_and_no_import_cycle() -> None:
    found = imports_script().survey()
    assert found["private"] == []
    assert found["cycles"] == []
    assert found["modules"] > 90  # it did read the package


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_survey_finds_private_names_and_cycles(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "from pkg.a import public\n")
    write(tmp_path, "pkg/a.py", "from pkg.b import _helper\n\ndef public(): return _helper()\n")
    write(tmp_path, "pkg/b.py", "def _helper():\n    from pkg import c\n    return c.VALUE\n")
    write(tmp_path, "pkg/c.py", "from . import a\nimport pkg.b as bee\nVALUE = bee._helper\n")
    write(tmp_path, "pkg/d.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                "    from pkg.a import _hidden\n")
    found = imports_script().survey(tmp_path, "pkg")
    private = {(p["file"], p["from"], p["name"]) for p in found["private"]}
    assert private == {("pkg/a.py", "pkg.b", "_helper"), ("pkg/c.py", "pkg.b", "_helper")}
    assert found["cycles"] == [["pkg.a", "pkg.b", "pkg.c"]]
