"""The validator's messages on broken packs: file:line, what is wrong, what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.content.loader import load_pack, read_pack
from kiosk.errors import ContentError
from tests.packs import MILKMAID, MUSEUM, PNG_1PX, make_pack


def errors_of(root: Path) -> list[str]:
    pack, issues = load_pack(root)
    errors = [str(i) for i in issues if i.error]
    assert (pack is None) == bool(errors)
    return errors


def test_valid_pack_loads(tmp_path: Path) -> None:
    pack = read_pack(make_pack(tmp_path))
    assert [e.id for e in pack.exhibits] == ["the-great-wave", "the-milkmaid"]
    wave = pack.exhibit("the-great-wave")
    assert wave is not None
    assert wave.date == {"fr": "about 1831", "en": "about 1831", "es": "about 1831"}
    assert pack.faq[0].answer["es"].startswith("En la planta baja")


def test_warning_does_not_fail(tmp_path: Path) -> None:
    pack, issues = load_pack(make_pack(tmp_path))
    assert pack is not None
    warnings = [str(i) for i in issues if not i.error]
    assert any("the-great-wave.yaml" in w and "no curated 'qa'" in w for w in warnings)


CASES = [
    ("unknown field", {"exhibits/the-milkmaid.yaml": MILKMAID.replace("medium:", "medum:")},
     "exhibits/the-milkmaid.yaml:4: error: unknown field 'medum' — did you mean 'medium'?"),
    ("missing translation", {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        ', es: "Sala 3"', "")},
     "exhibits/the-milkmaid.yaml:5: error: 'room' has no Spanish text — add 'es: ...'"),
    ("empty answer", {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        '"Probablemente un pudín de pan."', '""')},
     "exhibits/the-milkmaid.yaml:20: error: 'qa[0].answer.es' is empty — write the Spanish"),
    ("image missing", {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        "the-milkmaid.png", "milkmaid.png")},
     "exhibits/the-milkmaid.yaml:6: error: image 'images/milkmaid.png' does not exist"),
    ("image not a picture", {"images/the-milkmaid.png": "Vermeer, The Milkmaid (notes)\n"},
     "exhibits/the-milkmaid.yaml:6: error: image 'images/the-milkmaid.png' cannot be read "
     "(cannot identify image file) — export it again as PNG or JPEG"),
    ("duplicate id", {"exhibits/zz-copy.yaml": "id: the-milkmaid\n" + MILKMAID},
     "exhibits/zz-copy.yaml:1: error: duplicate id 'the-milkmaid' (also in "
     "exhibits/the-milkmaid.yaml)"),
    ("bad on_view date", {"exhibits/the-milkmaid.yaml": MILKMAID + "on_view: {from: 2026-02-30}\n"},
     "exhibits/the-milkmaid.yaml:21: error: 'on_view.from' '2026-02-30' is not a real date"),
    ("date without a year", {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        '"vers 1658"', '"vers le milieu du siècle"')},
     "exhibits/the-milkmaid.yaml:3: error: 'date' (fr) 'vers le milieu du siècle' has no year"),
    ("YAML syntax error", {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        "artist: Johannes Vermeer", "artist: Vermeer: the master")},
     "exhibits/the-milkmaid.yaml:2: error: YAML syntax error"),
    ("default language not declared", {"museum.yaml": MUSEUM.replace(
        "default_language: fr", "default_language: de")},
     "museum.yaml:3: error: default_language 'de' is not in languages"),
    ("wrong type", {"exhibits/the-milkmaid.yaml": MILKMAID.replace("priority: 1",
                                                                    "priority: high")},
     "exhibits/the-milkmaid.yaml:7: error: 'priority' must be a whole number, not 'high'"),
    ("missing required field", {"exhibits/the-milkmaid.yaml": MILKMAID.replace(
        "artist: Johannes Vermeer\n", "")},
     "exhibits/the-milkmaid.yaml:1: error: 'artist' is missing — add who made the work"),
    ("empty exhibit file", {"exhibits/empty.yaml": ""},
     "exhibits/empty.yaml: error: the file is empty"),
]


@pytest.mark.parametrize(("name", "files", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_pack_message(tmp_path: Path, name: str, files: dict[str, str],
                             expected: str) -> None:
    errors = errors_of(make_pack(tmp_path, files))
    assert any(e.startswith(expected) for e in errors), "\n".join(errors)


def test_read_pack_raises_one_line(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"exhibits/the-milkmaid.yaml": MILKMAID.replace("medium:",
                                                                                "medum:")})
    with pytest.raises(ContentError) as info:
        read_pack(root)
    assert "\n" not in str(info.value)
    assert "the-milkmaid.yaml:4" in str(info.value)


def test_cli_exit_codes(tmp_path: Path) -> None:
    good = make_pack(tmp_path / "good")
    bad = make_pack(tmp_path / "bad", {"faq.yaml": "- id: toilets\n  questions: [oops\n"})
    run = lambda p: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "kiosk.cli", "content", "validate", str(p)],
        capture_output=True, text=True, timeout=300)
    ok, ko = run(good), run(bad)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "valid — 2 exhibits, 1 FAQ entries" in ok.stdout
    assert ko.returncode == 1
    assert "faq.yaml:" in ko.stdout and "YAML syntax error" in ko.stdout


def test_a_huge_image_is_a_warning_and_a_bomb_an_error(tmp_path: Path) -> None:
    from PIL import Image

    root = make_pack(tmp_path)
    Image.new("RGB", (6000, 4000), (200, 180, 150)).save(root / "images" / "the-milkmaid.png")
    Image.new("1", (18000, 18000)).save(root / "images" / "the-great-wave.png")
    (root / "images" / "cut.png").write_bytes(PNG_1PX[:40])  # a copy that stopped half-way
    root.joinpath("exhibits/the-milkmaid.yaml").write_text(
        MILKMAID.replace("images/the-milkmaid.png", "images/cut.png"), encoding="utf-8")
    assert any("image 'images/cut.png' cannot be read (" in e for e in errors_of(root))
    root.joinpath("exhibits/the-milkmaid.yaml").write_text(MILKMAID, encoding="utf-8")
    pack, issues = load_pack(root)
    lines = [str(i) for i in issues]
    assert "exhibits/the-milkmaid.yaml:6: warning: image 'images/the-milkmaid.png' is " \
           "6000×4000 pixels — the kiosk shows it no larger than its screen; a copy about " \
           "2000 pixels wide syncs faster" in lines, lines
    assert any("the-great-wave.png' cannot be read (too many pixels to decode safely)" in line
               and ": error: " in line for line in lines), lines
