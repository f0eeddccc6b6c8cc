"""Bundles: deterministic build, manifest, verification, same answers as the pack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tinydb import TinyDB

from kiosk.content import bundle
from kiosk.errors import ContentError
from kiosk.events import Question
from kiosk.runtime import open_content
from kiosk.testing import HashingEncoder
from tests.packs import make_pack


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    pack = make_pack(tmp_path / "pack")
    out = tmp_path / "bundle"
    bundle.build(pack, out, HashingEncoder())
    return pack, out


def test_manifest_and_files(built: tuple[Path, Path]) -> None:
    _, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    assert len(manifest["id"]) == 64
    assert manifest["languages"] == ["fr", "en", "es"]
    assert manifest["encoder"] == {"id": "hashing-test-encoder", "sha256": "0" * 64}
    assert set(manifest["files"]) == {"content.json", "vectors.npy",
                                      "images/the-milkmaid.png", "images/the-great-wave.png"}
    db = TinyDB(out / "content.json", access_mode="r")
    assert {e["id"] for e in db.table("exhibits").all()} == {"the-milkmaid", "the-great-wave"}
    assert db.table("museum").all()[0]["default_language"] == "fr"
    db.close()


def test_same_pack_same_id_and_bytes(built: tuple[Path, Path], tmp_path: Path) -> None:
    pack, out = built
    again = tmp_path / "again"
    bundle.build(pack, again, HashingEncoder())
    first = json.loads((out / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert first["id"] == second["id"]
    assert first["files"] == second["files"]
    (pack / "faq.yaml").write_text((pack / "faq.yaml").read_text().replace("ground", "first"))
    bundle.build(pack, again, HashingEncoder())
    assert json.loads((again / "manifest.json").read_text())["id"] != first["id"]


@pytest.mark.parametrize("damage", ["tamper", "missing", "extra", "format"])
def test_verify_refuses_a_damaged_bundle(built: tuple[Path, Path], damage: str) -> None:
    _, out = built
    if damage == "tamper":
        (out / "content.json").write_text((out / "content.json").read_text().replace(
            "ground floor", "roof"))
        expected = "content.json does not match its sha256"
    elif damage == "missing":
        (out / "images" / "the-milkmaid.png").unlink()
        expected = "images/the-milkmaid.png is missing"
    elif damage == "extra":
        (out / "images" / "evil.png").write_bytes(b"x")
        expected = "images/evil.png is not in the manifest"
    else:
        manifest = json.loads((out / "manifest.json").read_text())
        manifest["format_version"] = 99
        (out / "manifest.json").write_text(json.dumps(manifest))
        expected = "content format kiosk-bundle 99"
    with pytest.raises(ContentError, match=expected):
        bundle.verify(out)


def test_bundle_answers_like_the_pack(built: tuple[Path, Path]) -> None:
    from kiosk.qa.answerer import KioskAnswerer

    pack, out = built
    enc = HashingEncoder()
    answers = []
    for path in (pack, out):
        content = open_content(path, enc)
        a = KioskAnswerer(content.pack, content.units, content.vectors, enc)
        answers.append([a.answer(Question(q, "en")) for q in
                        ("who painted the milkmaid", "where are the toilets")])
    assert answers[0] == answers[1]
    assert answers[1][0].exhibit_id == "the-milkmaid"


def test_bundle_built_with_another_encoder_is_refused(built: tuple[Path, Path]) -> None:
    _, out = built
    with pytest.raises(ContentError, match="was built with encoder hashing-test-encoder"):
        bundle.verify(out, "use-multilingual-v3-int8", "f" * 64)


def test_build_refuses_to_overwrite_a_non_bundle(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("keep me")
    with pytest.raises(ContentError, match="exists and is not a bundle"):
        bundle.build(pack, tmp_path / "docs", HashingEncoder())
    assert (tmp_path / "docs" / "notes.txt").read_text() == "keep me"
    shutil.rmtree(tmp_path / "pack")
