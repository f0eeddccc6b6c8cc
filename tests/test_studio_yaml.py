"""The studio's YAML writer (kiosk.studio.yamledit): the pack's files stay the source of truth.

Every demo file comes back byte for byte; a one-field edit is one changed line; a pack written
only through the studio validates and builds like a hand-written one; files changed on disk are
never overwritten; paths never leave the pack; uploads are checked by their bytes."""

from __future__ import annotations

import difflib
import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kiosk.content import bundle
from kiosk.content.loader import load_pack
from kiosk.content.store import TinyDbStore
from kiosk.errors import ContentError
from kiosk.studio.pictures import MAX_SIDE, MAX_UPLOAD_BYTES
from kiosk.studio.yamledit import Conflict, PackFiles
from kiosk.studio.yamltree import add_faq, add_qa, delete_value, merge, set_value
from kiosk.testing import HashingEncoder
from tests.conftest import DEMO

DEMO_FILES = sorted(p.relative_to(DEMO).as_posix() for p in DEMO.rglob("*.yaml"))
DEMO_WORKS = sorted(p.stem for p in (DEMO / "exhibits").glob("*.yaml"))
SCRIPT = "<script>alert('x')</script> & \"quotes\""

ONE_FIELD_EDITS: list[tuple[list[str | int], Any]] = [
    (["title", "en"], "A new title"),
    (["artist"], "Someone Else"),
    (["date", "es"], "hacia 1900"),
    (["medium", "fr"], "huile sur bois"),
    (["room", "en"], "Room 12"),
    (["description", "en"], "A new paragraph about the work.\n"),
    (["qa", 1, "answer", "fr"], "Une nouvelle réponse."),
    (["qa", 0, "questions", "es"], ["¿Una pregunta nueva?", "¿Otra?"]),
    (["priority"], 7),
    (["aliases"], ["One", "Two"]),
    (["title", "de"], "Ein neuer Titel"),  # a new key in a flow mapping
    (["tags"], ["new-tag"]),
]


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    out = tmp_path / "pack"
    shutil.copytree(DEMO, out)
    return out


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def png(size: tuple[int, int], orientation: int | None = None, mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, "red" if mode == "RGB" else 1)
    if mode == "RGB":
        image.paste((0, 0, 255), (0, 0, size[0] // 2, size[1]))  # left half blue
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "PNG", exif=exif.tobytes())
    return out.getvalue()


# -- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", DEMO_FILES)
def test_every_demo_file_comes_back_byte_for_byte(pack: Path, rel: str) -> None:
    files = PackFiles(pack)
    before = (pack / rel).read_bytes()
    doc = files.read(rel)
    again = files.write(doc)
    assert (pack / rel).read_bytes() == before
    assert again.stamp == doc.stamp


@pytest.mark.parametrize("work", DEMO_WORKS)
def test_a_one_field_edit_of_each_demo_work_is_one_line(pack: Path, work: str) -> None:
    files = PackFiles(pack)
    rel = f"exhibits/{work}.yaml"
    path, value = ONE_FIELD_EDITS[DEMO_WORKS.index(work) % len(ONE_FIELD_EDITS)]
    doc = files.read(rel)
    set_value(doc.data, path, value)
    after = files.write(doc)
    lines = changed_lines(doc.text, after.text)
    added = [line for line in lines if line.startswith("+")]
    removed = [line for line in lines if line.startswith("-")]
    assert len(added) == len(removed) == 1, lines
    if path == ["title", "de"]:  # a new language in a flow mapping: still its one line
        assert added[0].startswith("+title: {") and 'de: "Ein neuer Titel"}' in added[0]
    reread = files.read(rel)
    node = reread.data
    for key in path:
        node = node[key]
    assert node == value
    pack_after, issues = load_pack(pack)
    assert pack_after is not None, [str(i) for i in issues if i.error]


def test_each_demo_file_keeps_every_line_but_the_edited_one_in_the_faq(pack: Path) -> None:
    files = PackFiles(pack)
    doc = files.read("faq.yaml")
    set_value(doc.data, [3, "answer", "en"], "Yes, every floor is step-free.")
    after = files.write(doc)
    lines = changed_lines(doc.text, after.text)
    assert len(lines) == 2 and lines[1] == '+    en: "Yes, every floor is step-free."'
    assert after.text.startswith("# Practical information for the fictional demo museum.")


HAND_WRITTEN = """\
# A hand-written file, spaced by hand
title:   {fr: 'Le  titre', en: The title}   # the title
artist:    Somebody
description:
  en: This is a long text
    folded over two lines by hand.
  fr: >
    Texte plié
    sur deux lignes.
tags:
- a
- b
qa:
- questions:
    en:
      - "Why?"
  answer: {en: "Because."}
"""


@pytest.mark.parametrize(("path", "value", "line"), [
    (["artist"], "Other", "+artist: Other"),
    (["qa", 0, "answer", "fr"], "Parce que.",
     '+  answer: {en: "Because.", fr: "Parce que."}'),
    (["description", "fr"], "Court.", "+    Court."),
])
def test_lines_ruamel_would_reformat_stay_as_written(tmp_path: Path, path: list[str | int],
                                                     value: str, line: str) -> None:
    (tmp_path / "exhibits").mkdir()
    (tmp_path / "exhibits" / "odd.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    files = PackFiles(tmp_path)
    doc = files.read("exhibits/odd.yaml")
    set_value(doc.data, path, value)
    after = files.write(doc)
    added = [x for x in changed_lines(HAND_WRITTEN, after.text) if x.startswith("+")]
    assert added == [line]
    assert "title:   {fr: 'Le  titre', en: The title}   # the title" in after.text
    assert "  en: This is a long text\n    folded over two lines by hand.\n" in after.text


def test_new_values_follow_their_neighbours(pack: Path) -> None:
    files = PackFiles(pack)
    doc = files.read("exhibits/the-scream.yaml")
    set_value(doc.data, ["dimensions", "fr"], "91 × 73,5 cm")  # beside medium: flow, quoted
    set_value(doc.data, ["description", "de"], "Ein Absatz.")  # a literal block like the others
    set_value(doc.data, ["on_view", "from"], "2030-01-01")  # an ISO date, written plain
    delete_value(doc.data, ["tags"])
    delete_value(doc.data, ["no-such", "key"])
    text = files.write(doc).text
    assert '\ndimensions: {fr: "91 × 73,5 cm"}\nroom: ' in text  # in the format's order
    assert "\n  de: |\n    Ein Absatz.\n" in text
    assert "on_view: {from: 2030-01-01}" in text
    assert "\ntags:" not in text


def test_script_text_is_stored_verbatim(pack: Path) -> None:
    files = PackFiles(pack)
    doc = files.read("exhibits/the-kiss.yaml")
    paths: list[list[str | int]] = [["title", "en"], ["artist"], ["description", "fr"],
                                     ["qa", 0, "answer", "es"]]
    for path in paths:
        set_value(doc.data, path, SCRIPT)
    add_qa(doc.data, {"fr": [SCRIPT], "en": [SCRIPT], "es": [SCRIPT]},
           {"fr": SCRIPT, "en": SCRIPT, "es": SCRIPT})
    files.write(doc)
    loaded, issues = load_pack(pack)
    assert loaded is not None, [str(i) for i in issues if i.error]
    work = loaded.exhibit("the-kiss")
    assert work is not None
    assert work.title["en"] == work.artist["en"] == work.description["fr"] == SCRIPT
    assert work.qa[0].answer["es"] == work.qa[-1].questions["en"][0] == SCRIPT


@pytest.mark.parametrize("text", [
    "yes", "null", "1.0", "2024-01-01", "a: b # c", "- dash", "'\"", "  leading", "tab\there",
    "two\nlines", "a\u2028line separator (pasted from a word processor)", "é ✓ 🎨", "*alias",
])
def test_any_text_reads_back_as_written(pack: Path, text: str) -> None:
    files = PackFiles(pack)
    paths: list[list[str | int]] = [["artist"], ["title", "en"], ["description", "fr"],
                                     ["qa", 0, "questions", "en", 0]]
    for path in paths:
        doc = files.read("exhibits/the-kiss.yaml")
        set_value(doc.data, path, text)
        node = files.write(doc).data
        for key in path:
            node = node[key]
        assert node.rstrip("\n") == text  # (a literal block keeps its final line break)


# -- a pack written only through the studio ------------------------------------------------------

MUSEUM = """\
name: {fr: "Petit musée", en: "Small Museum"}
languages: [fr, en]
default_language: fr
"""
HAND_WORK = """\
id: the-hay-wain
title: {fr: "La Charrette de foin", en: "The Hay Wain"}
artist: John Constable
date: {fr: "1821", en: "1821"}
medium: {fr: "huile sur toile", en: "oil on canvas"}
room: {fr: "Salle 2", en: "Room 2"}
image: images/the-hay-wain.png
priority: 2
description:
  fr: "Une charrette traverse la rivière."
  en: "A cart crosses the river."
qa:
  - questions:
      fr: ["Où est-ce ?"]
      en: ["Where is it?"]
    answer:
      fr: "Dans le Suffolk."
      en: "In Suffolk."
"""
HAND_FAQ = """\
- id: toilets
  questions:
    fr: ["Où sont les toilettes ?"]
    en: ["Where are the toilets?"]
  answer:
    fr: "Au rez-de-chaussée."
    en: "On the ground floor."
"""


def test_a_pack_written_through_the_studio_builds_like_a_hand_written_one(
        tmp_path: Path) -> None:
    hand, studio = tmp_path / "hand", tmp_path / "studio"
    for root in (hand, studio):
        (root / "exhibits").mkdir(parents=True)
        (root / "museum.yaml").write_text(MUSEUM, encoding="utf-8")
    (hand / "exhibits" / "the-hay-wain.yaml").write_text(HAND_WORK, encoding="utf-8")
    (hand / "faq.yaml").write_text(HAND_FAQ, encoding="utf-8")

    files = PackFiles(studio)
    doc = files.new_exhibit("the-hay-wain", {"fr": "La Charrette de foin", "en": "The Hay Wain"})
    for path, value in [(["artist"], "John Constable"), (["date", "fr"], "1821"),
                        (["date", "en"], "1821"), (["medium", "fr"], "huile sur toile"),
                        (["medium", "en"], "oil on canvas"), (["room", "fr"], "Salle 2"),
                        (["room", "en"], "Room 2"), (["priority"], 2),
                        (["description", "fr"], "Une charrette traverse la rivière."),
                        (["description", "en"], "A cart crosses the river.")]:
        set_value(doc.data, path, value)
    image = files.save_image("the-hay-wain", "hay wain.png", png((60, 40)))
    set_value(doc.data, ["image"], image)
    assert add_qa(doc.data, {"fr": ["Où est-ce ?"], "en": ["Where is it?"]},
                  {"fr": "Dans le Suffolk.", "en": "In Suffolk."}) == 0
    files.write(doc)
    (studio / "faq.yaml").write_text("[]\n", encoding="utf-8")
    faq = files.read("faq.yaml")
    add_faq(faq.data, "toilets", {"fr": ["Où sont les toilettes ?"],
                                  "en": ["Where are the toilets?"]},
            {"fr": "Au rez-de-chaussée.", "en": "On the ground floor."})
    files.write(faq)
    (hand / "images").mkdir()
    shutil.copyfile(studio / image, hand / image)

    built = {}
    for root in (hand, studio):
        loaded, issues = load_pack(root)
        assert loaded is not None, [str(i) for i in issues if i.error]
        assert not [i for i in issues if i.error]
        bundle.build(root, tmp_path / f"{root.name}-bundle", HashingEncoder())
        store = TinyDbStore(tmp_path / f"{root.name}-bundle")
        built[root.name] = (store.museum(), store.exhibits(), store.faq(), store.units(),
                            store.vectors().tolist())
    assert built["studio"] == built["hand"]
    with pytest.raises(ContentError, match="exists already"):
        files.new_exhibit("the-hay-wain", {"en": "Again"})
    with pytest.raises(ContentError, match="faq.yaml has an entry 'toilets'"):
        add_faq(files.read("faq.yaml").data, "toilets", {}, {})


def test_duplicate_copies_the_text_with_a_new_id(pack: Path) -> None:
    files = PackFiles(pack)
    copy = files.duplicate("the-scream", "the-scream-2")
    original = (pack / "exhibits" / "the-scream.yaml").read_text(encoding="utf-8")
    assert changed_lines(original, copy.text) == ["-id: the-scream", "+id: the-scream-2"]
    assert "the-scream-2" in files.exhibit_ids()
    with pytest.raises(ContentError, match="exists already"):
        files.duplicate("the-kiss", "the-scream")


# -- conflicts, atomic writes ----------------------------------------------------------------------

def test_a_file_changed_on_disk_is_not_overwritten(pack: Path) -> None:
    files = PackFiles(pack)
    rel = "exhibits/the-milkmaid.yaml"
    base = files.read(rel)
    mine = files.read(rel)
    set_value(mine.data, ["title", "en"], "Mine")
    set_value(mine.data, ["room", "fr"], "Salle A")
    add_qa(mine.data, {"en": ["Mine?"]}, {"en": "Mine."})
    theirs = files.read(rel)  # someone else's edit, saved first (a text editor, another tab)
    set_value(theirs.data, ["artist"], "Theirs")
    set_value(theirs.data, ["room", "fr"], "Salle B")
    add_qa(theirs.data, {"en": ["Theirs?"]}, {"en": "Theirs."})
    files.write(theirs)
    on_disk = (pack / rel).read_text(encoding="utf-8")

    with pytest.raises(Conflict) as caught:
        files.write(mine)
    assert caught.value.rel == rel and caught.value.disk_text == on_disk
    assert (pack / rel).read_text(encoding="utf-8") == on_disk

    now = files.read(rel)
    merged, conflicts = merge(base.data, mine.data, now.data)
    assert conflicts == [["room", "fr"]]
    now.data = merged
    text = files.write(now).text
    assert 'en: "Mine"' in text and "artist: Theirs" in text and '"Salle B"' in text
    assert text.index('["Theirs?"]') < text.index('["Mine?"]')  # both Q&As kept
    assert len(changed_lines(on_disk, text)) == 1 + 5  # the title; the Q&A added (5 lines)


def test_merge_of_plain_data() -> None:
    base = {"a": 1, "b": {"x": 1, "y": 2}, "l": [1, 2]}
    mine = {"a": 2, "b": {"x": 1, "y": 3}, "l": [1]}
    theirs = {"a": 1, "b": {"x": 5, "y": 2}, "l": [1, 2], "c": 9}
    merged, conflicts = merge(base, mine, theirs)
    assert merged == {"a": 2, "b": {"x": 5, "y": 3}, "l": [1], "c": 9} and conflicts == []
    merged, conflicts = merge(base, {**base, "l": [1]}, {**base, "l": [1, 3]})
    assert merged["l"] == [1, 3] and conflicts == [["l"]]
    merged, conflicts = merge(base, {"b": base["b"], "l": [1, 2]}, base)
    assert merged == {"b": base["b"], "l": [1, 2]} and conflicts == []


def test_a_new_file_may_not_exist_when_written(pack: Path) -> None:
    files = PackFiles(pack)
    doc = files.new_exhibit("fresh", {"en": "Fresh"})
    assert doc.text == 'id: fresh\ntitle: {en: "Fresh"}\n'
    (pack / "exhibits" / "fresh.yaml").unlink()
    set_value(doc.data, ["artist"], "X")
    with pytest.raises(Conflict):
        files.write(doc)  # deleted meanwhile: not silently created again
    assert not (pack / "exhibits" / "fresh.yaml").exists()


def test_writes_are_atomic_and_leave_no_temporary_file(pack: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    files = PackFiles(pack)
    rel = "exhibits/the-kiss.yaml"
    before = (pack / rel).read_bytes()
    doc = files.read(rel)
    set_value(doc.data, ["artist"], "Gustav Klimt (1862-1918)")

    def full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", full)
        with pytest.raises(OSError):
            files.write(doc)
    assert (pack / rel).read_bytes() == before
    files.write(doc)
    files.save_image("the-kiss", "k.png", png((30, 30)))
    for folder in (pack, pack / "exhibits", pack / "images"):
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")
                    or p.name.endswith(".tmp")], folder
    assert load_pack(pack)[0] is not None


# -- paths -------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", [
    "../outside.yaml", "/etc/passwd", "exhibits/../../outside.yaml", "exhibits/x.txt",
    ".studio/tests.yaml", "exhibits\\x.yaml", "", "exhibits/./x.yaml", "exhibits/\nx.yaml",
])
def test_paths_leaving_the_pack_are_refused(pack: Path, rel: str) -> None:
    (pack.parent / "outside.yaml").write_text("secret: 1\n", encoding="utf-8")
    files = PackFiles(pack)
    with pytest.raises(ContentError):
        files.read(rel)


def test_links_out_of_the_pack_and_bad_ids_are_refused(pack: Path) -> None:
    outside = pack.parent / "outside.yaml"
    outside.write_text("title: {en: x}\n", encoding="utf-8")
    (pack / "exhibits" / "link.yaml").symlink_to(outside)
    files = PackFiles(pack)
    with pytest.raises(ContentError, match="outside the pack"):
        files.read("exhibits/link.yaml")
    for bad in ("../evil", "Evil", "a/b", "", "-x", "x" * 200):
        with pytest.raises(ContentError, match="not a valid id"):
            files.new_exhibit(bad, {"en": "x"})
        with pytest.raises(ContentError, match="not a valid id"):
            files.save_image(bad, "x.png", png((4, 4)))
    for token in ("../../museum.yaml", "20250101T000000000000Z-../x.yaml", "nothing"):
        with pytest.raises(ContentError, match="nothing to put back"):
            files.undelete(token)
    assert outside.read_text(encoding="utf-8") == "title: {en: x}\n"


# -- images ------------------------------------------------------------------------------------

def test_an_image_with_exif_rotation_is_turned_upright(pack: Path) -> None:
    files = PackFiles(pack)
    rel = files.save_image("the-scream", "../../photo.png", png((40, 20), orientation=6))
    assert rel == "images/the-scream.png"
    with Image.open(pack / rel) as image:
        assert image.size == (20, 40)
        assert image.getexif().get(0x0112) in (None, 1)
        assert image.getpixel((10, 2)) == (0, 0, 255)  # the left (blue) half is now on top
        assert image.getpixel((10, 38)) == (255, 0, 0)


def test_uploads_are_checked_by_their_bytes(pack: Path) -> None:
    files = PackFiles(pack)
    before = (pack / "images" / "the-scream.png").read_bytes()
    with pytest.raises(ContentError, match="not a PNG, JPEG or WebP"):
        files.save_image("the-scream", "x.png", b"just some text, named x.png\n")
    with pytest.raises(ContentError, match="cannot be read"):
        files.save_image("the-scream", "x.png", png((10, 10))[:60])
    with pytest.raises(ContentError, match="MB"):
        files.save_image("the-scream", "x.png", b"\x89PNG\r\n\x1a\n" + bytes(MAX_UPLOAD_BYTES))
    with pytest.raises(ContentError, match="too many pixels"):
        files.save_image("the-scream", "huge.png", png((12000, 12000), mode="1"))
    assert (pack / "images" / "the-scream.png").read_bytes() == before


def test_a_large_image_is_reduced_and_keeps_its_type(pack: Path) -> None:
    files = PackFiles(pack)
    out = io.BytesIO()
    Image.new("RGB", (3000, 1200), "green").save(out, "JPEG")
    rel = files.save_image("the-scream", "big.jpeg", out.getvalue())
    assert rel == "images/the-scream.jpg"
    with Image.open(pack / rel) as image:
        assert image.format == "JPEG" and image.size == (MAX_SIDE, 800)
    webp = io.BytesIO()
    Image.new("RGB", (50, 50), "green").save(webp, "WEBP")
    assert files.save_image("the-kiss", "k", webp.getvalue()) == "images/the-kiss.webp"


# -- delete and undo ---------------------------------------------------------------------------

def test_delete_moves_the_file_only_and_undo_puts_it_back(pack: Path) -> None:
    files = PackFiles(pack)
    before = (pack / "exhibits" / "the-gleaners.yaml").read_bytes()
    token = files.delete("the-gleaners")
    assert "the-gleaners" not in files.exhibit_ids()
    assert (pack / "images" / "the-gleaners.png").exists()  # the image stays
    assert (pack / ".studio" / "trash" / token).read_bytes() == before
    loaded, _ = load_pack(pack)
    assert loaded is not None and loaded.exhibit("the-gleaners") is None
    assert files.undelete(token) == "the-gleaners"
    assert (pack / "exhibits" / "the-gleaners.yaml").read_bytes() == before
    with pytest.raises(ContentError, match="nothing to put back"):
        files.undelete(token)

    token = files.delete("the-gleaners")
    files.new_exhibit("the-gleaners", {"en": "Another work"})
    with pytest.raises(ContentError, match="exists already"):
        files.undelete(token)
    with pytest.raises(ContentError, match="no work"):
        files.delete("no-such-work")
