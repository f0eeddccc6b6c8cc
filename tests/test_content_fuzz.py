"""Malformed content never crashes the kiosk: YAML through the pack loader, manifests and
records through bundle verification and sync — only KioskError with a message comes out."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.content import bundle
from kiosk.content.loader import load_pack, read_pack
from kiosk.content.sync import sync
from kiosk.errors import KioskError
from kiosk.paths import DataDir
from kiosk.testing import HashingEncoder
from tests.packs import MILKMAID, MUSEUM, make_pack

ENC = HashingEncoder()
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def mangle(text: str, data: st.DataObject) -> str:
    """Cut, splice or insert junk into a valid file."""
    at = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(alphabet=":-[]{}&*!|>'\"#%@`\t\n ?,0x.é", max_size=12))
    cut = data.draw(st.integers(0, 40))
    return text[:at] + junk + text[at + cut:]


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    bundle.build(make_pack(root / "pack"), root / "bundle", ENC)
    return root / "bundle"


def check_pack(files: dict[str, str | None]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_pack(Path(tmp) / "pack", files)
        try:
            pack, issues = load_pack(root)
            assert all(str(i) for i in issues)
            read_pack(root)
        except KioskError as exc:
            assert str(exc)


@FUZZ
@given(data=st.data(), which=st.sampled_from(["museum.yaml", "exhibits/the-milkmaid.yaml",
                                              "faq.yaml"]))
def test_malformed_yaml_gives_content_errors(data: st.DataObject, which: str) -> None:
    base = {"museum.yaml": MUSEUM, "exhibits/the-milkmaid.yaml": MILKMAID}.get(which)
    text = mangle(base or "- id: x\n  questions: {en: [a]}\n  answer: {en: b}\n", data)
    check_pack({which: text})


@FUZZ
@given(value=json_values, which=st.sampled_from(["museum.yaml", "exhibits/the-milkmaid.yaml",
                                                 "faq.yaml"]))
def test_yaml_of_the_wrong_shape_gives_content_errors(value: Any, which: str) -> None:
    check_pack({which: json.dumps(value)})  # JSON is YAML


def test_a_null_museum_yaml_gives_a_content_error() -> None:
    """(Found by the fuzz: an empty museum.yaml used to crash the loader.)"""
    check_pack({"museum.yaml": "null\n"})


def try_sync(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = DataDir(Path(tmp))
        try:
            bundle.verify(folder, ENC.model_id, ENC.sha256)
        except KioskError as exc:
            assert str(exc)
        try:
            sync(data, folder, ENC.model_id, ENC.sha256)
        except KioskError as exc:
            assert str(exc) and "\n" not in str(exc)


@FUZZ
@given(data=st.data(), key=st.sampled_from(["format", "format_version", "id", "created",
                                            "encoder", "files", "counts", "museum"]))
def test_malformed_manifests_give_content_errors(good: Path, tmp_path: Path,
                                                 data: st.DataObject, key: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.rmtree(folder)
    shutil.copytree(good, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    if data.draw(st.booleans()):
        manifest[key] = data.draw(json_values)
        (folder / "manifest.json").write_text(json.dumps(manifest))
    else:
        (folder / "manifest.json").write_text(mangle(json.dumps(manifest), data))
    try_sync(folder)


@FUZZ
@given(data=st.data(), table=st.sampled_from(["museum", "exhibits", "faq", "units"]))
def test_malformed_records_give_content_errors(good: Path, tmp_path: Path,
                                               data: st.DataObject, table: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.rmtree(folder)
    shutil.copytree(good, folder)
    db = json.loads((folder / "content.json").read_text())
    how = data.draw(st.sampled_from(["value", "field", "table", "text"]))
    if how == "value":
        doc = db[table]["1"]
        doc[data.draw(st.sampled_from(sorted(doc)))] = data.draw(json_values)
    elif how == "field":
        db[table]["1"][data.draw(st.text(max_size=6))] = data.draw(json_values)
    elif how == "table":
        db[table] = data.draw(json_values)
    raw = json.dumps(db) if how != "text" else mangle(json.dumps(db), data)
    (folder / "content.json").write_text(raw)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["content.json"] = bundle.sha256_file(folder / "content.json")
    (folder / "manifest.json").write_text(json.dumps(manifest))  # a consistent, wrong bundle
    try_sync(folder)
