"""`kiosk content import-csv`: a collection export → a pack `kiosk content validate` accepts.

The main case is built from real collection metadata (Tate, CC0, read from ../shared/eval —
skipped when absent), written as a collection-management export with the usual mess: a row
without a title, a duplicated accession number, dimensions on two lines (quoted newlines),
curly quotes and dashes in cp1252, a date with no year, images present for some rows only.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.content.loader import load_pack
from tests.packs import PNG_1PX, make_pack

HEADER = ["Accession number", "Title", "Artist", "Date", "Medium", "Dimensions", "Gallery",
          "Image", "Label text", "Keywords"]

TATE_MAPPING = """\
[csv]
encoding = "{encoding}"
delimiter = "auto"
language = "en"

[museum]
name = "Tate sample"
languages = ["en"]

[id]
column = "Accession number"

[fields]
title = "Title"
artist = "Artist"
date = "Date"
medium = "Medium"
dimensions = "Dimensions"
room = "Gallery"
image = "Image"
description = "Label text"
tags = "Keywords"

[images]
folder = "photos"
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def tate_export(works: list[dict[str, object]], delimiter: str) -> tuple[str, dict[str, int]]:
    """A CSV export of ``works`` with messy rows; the first line of each row by accession no."""
    rows: list[list[str]] = []
    for i, w in enumerate(works):
        title = "" if i == 3 else str(w["title"])  # a row somebody left half-filled
        acno = str(works[0]["acno"]) if i == 7 else str(w["acno"])  # a typing slip
        label = "" if i == 5 else (f"{w['title']} was painted by {w['artist']}. "
                                   f"{w['creditLine']}.")
        rows.append([acno, title, str(w["artist"]), str(w["date"]), str(w["medium"]),
                     str(w["dimensions"]).replace("\r\n", "\n"), f"Room {i % 4 + 1}",
                     f"{w['acno']}.png", label, "; ".join(w["subjects"])])  # type: ignore[arg-type]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    first: dict[str, int] = {}
    for row in rows:
        line = out.getvalue().count("\n") + 1
        writer.writerow(row)
        first.setdefault(f"{row[0]}|{row[1]}", line)
    return out.getvalue(), first


@pytest.fixture
def tate(shared_eval: Path) -> list[dict[str, object]]:
    works = json.loads((shared_eval / "collection" / "tate_250_paintings.json").read_text(
        encoding="utf-8"))
    return list(works[:40])


@pytest.mark.parametrize(("encoding", "delimiter", "bom"), [
    ("utf-8", ",", True),   # Excel's "CSV UTF-8": a BOM, commas
    ("cp1252", ";", False),  # Excel on Windows in France: cp1252, semicolons
])
def test_tate_export_imports_and_validates(tmp_path: Path, tate: list[dict[str, object]],
                                           capsys: pytest.CaptureFixture[str], encoding: str,
                                           delimiter: str, bom: bool) -> None:
    text, first = tate_export(tate, delimiter)
    data = text.encode(encoding)
    export = tmp_path / "tate-export.csv"
    export.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(TATE_MAPPING.format(encoding=encoding), encoding="utf-8")
    photos = tmp_path / "photos"
    photos.mkdir()
    for w in tate[::2]:  # photographs of every other work
        (photos / f"{w['acno']}.png").write_bytes(PNG_1PX)
    pack = tmp_path / "pack"

    code, out, err = run(["content", "import-csv", str(export), "--map", str(mapping),
                          "-o", str(pack)], capsys)

    assert code == 0, err
    def line(i: int, acno: int | None = None, title: bool = True) -> int:
        """The first line of the row of work ``i`` (written with work ``acno``'s number)."""
        number = tate[i if acno is None else acno]["acno"]
        return first[f"{number}|{tate[i]['title'] if title else ''}"]

    no_title, duplicate = line(3, title=False), line(7, acno=0)
    assert f"tate-export.csv:{no_title}: skipped: no title — fill in 'Title'" in out
    assert (f"tate-export.csv:{duplicate}: skipped: duplicate id '{str(tate[0]['acno']).lower()}'"
            f" (also line 2)") in out
    assert f"tate-export.csv:{line(1)}: warning: image '{tate[1]['acno']}.png' not found" \
        in out
    assert "warning: date 'date not known' has no year — left out" in out
    assert f"tate-export.csv:{line(5)}: warning: no description" in out
    assert "38 exhibits written" in out and "2 rows skipped" in out

    loaded, issues = load_pack(pack)
    assert loaded is not None, [str(i) for i in issues if i.error]
    assert main(["content", "validate", str(pack)]) == 0
    kept = [w for i, w in enumerate(tate) if i not in (3, 7)]
    assert {e.title["en"] for e in loaded.exhibits} == {str(w["title"]) for w in kept}
    by_id = {e.id: e for e in loaded.exhibits}
    table = by_id[str(tate[1]["acno"]).lower()]  # Bonnard's The Table: a two-line dimension
    assert table.artist["en"] == "Pierre Bonnard"
    assert table.dimensions["en"] == "support: 1029 x 743 mm; frame: 1256 x 965 x 113 mm"
    assert table.image == ""  # its photograph was not in the folder
    assert by_id[str(tate[0]["acno"]).lower()].image == f"images/{str(tate[0]['acno']).lower()}.png"
    curly = next(e for e in loaded.exhibits if "’" in e.title["en"])  # cp1252 read back right
    assert curly.title["en"] in {str(w["title"]) for w in kept}
    source = (pack / "exhibits" / f"{str(tate[2]['acno']).lower()}.yaml").read_text("utf-8")
    assert source.startswith(f"# Imported from tate-export.csv, line {line(2)},")
    assert "# TODO: add the questions visitors ask" in source


EXPORT = ("Inv;Title;Artist;Date;Notes\n"
          'A1;The Harbour;Anne Durand;1874;"Dawn at the pier.\nThe sails are furled."\n'
          "A2;;Paul Marin;1902;Charcoal sketch.\n"
          "A3;The Lighthouse;Anne Durand;about 1890;A lighthouse in the rain.\n")
MAPPING = """\
[csv]
language = "en"
[id]
column = "Inv"
[fields]
title = "Title"
artist = "Artist"
date = "Date"
description = "Notes"
"""


def write(tmp_path: Path, export: bytes | str = EXPORT, mapping: str = MAPPING) -> list[str]:
    (tmp_path / "export.csv").write_bytes(export.encode() if isinstance(export, str) else export)
    (tmp_path / "map.toml").write_text(mapping, encoding="utf-8")
    return ["content", "import-csv", str(tmp_path / "export.csv"), "--map",
            str(tmp_path / "map.toml"), "-o", str(tmp_path / "pack")]


def test_small_export_quoted_newlines_and_report(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(write(tmp_path), capsys)
    assert code == 0
    # the row after a two-line cell starts on line 4, not 3
    assert "export.csv:4: skipped: no title — fill in 'Title' or delete the row" in out
    assert "2 exhibits written" in out
    pack, issues = load_pack(tmp_path / "pack")
    assert pack is not None, [str(i) for i in issues]
    harbour = pack.exhibit("a1")
    assert harbour is not None
    assert harbour.description["en"] == "Dawn at the pier.\nThe sails are furled."
    assert harbour.date == {"en": "1874"}


def test_unknown_column_stops_before_writing(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(write(tmp_path, mapping=MAPPING.replace('"Notes"', '"Note"')), capsys)
    assert code == 2
    assert "[fields] description = 'Note' is not a column of export.csv — did you mean " \
           "'Notes'?" in err
    assert "nothing was written" in err
    assert not (tmp_path / "pack").exists()


def test_unknown_field_is_a_mapping_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(write(tmp_path, mapping=MAPPING + 'medum = "Date"\n'), capsys)
    assert code == 2
    assert "'medum' is not an exhibit field — did you mean 'medium'?" in err


def test_wrong_encoding_says_which_to_use(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    export = EXPORT.replace("Anne Durand;1874", "Anne Durand;1874 – été").encode("cp1252")
    code, _, err = run(write(tmp_path, export), capsys)
    assert code == 2
    assert "export.csv:2: not utf-8-sig text — set [csv] encoding" in err
    assert "cp1252" in err
    code, out, _ = run(write(tmp_path, export, '[csv]\nencoding = "cp1252"\n' +
                             MAPPING.replace("[csv]\n", "")), capsys)
    assert code == 0
    pack, _ = load_pack(tmp_path / "pack")
    assert pack is not None and pack.exhibit("a1").date["en"] == "1874 – été"  # type: ignore


def test_refuses_a_folder_that_is_not_a_pack(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = run(write(tmp_path), capsys)
    assert code == 2
    assert "is not empty and has no museum.yaml" in err
    assert sorted(p.name for p in (tmp_path / "pack").iterdir()) == ["notes.txt"]


def test_into_an_existing_pack_keeps_its_files(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    make_pack(tmp_path / "pack")  # fr, en, es: an English-only export leaves translations
    mine = "# a curator's edits\n" + (tmp_path / "pack/exhibits/the-milkmaid.yaml").read_text()
    (tmp_path / "pack/exhibits/a1.yaml").write_text(mine, encoding="utf-8")
    museum = (tmp_path / "pack/museum.yaml").read_text()
    code, out, _ = run(write(tmp_path), capsys)
    assert code == 0
    assert "export.csv:2: kept exhibits/a1.yaml (already in the pack) — delete it" in out
    assert "no column gives the title in French, Spanish — translate them" in out
    assert (tmp_path / "pack/exhibits/a1.yaml").read_text() == mine
    assert (tmp_path / "pack/museum.yaml").read_text() == museum
    a3 = (tmp_path / "pack/exhibits/a3.yaml").read_text()
    assert "title: {en: The Lighthouse}" in a3
    _, issues = load_pack(tmp_path / "pack")
    assert "exhibits/a3.yaml:5: error: 'title' has no French text — add 'fr: ...' or " \
           "remove 'fr' from 'languages' in museum.yaml" in [str(i) for i in issues]


def test_ids_from_titles_and_messy_cells(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    export = ("\ufeffTitle,Artist,Date,Priority,From,Until\n"
              "Sans titre,Anne Durand,1950,2,2026-05-01,2026-09-30\n"
              "Sans titre,Paul Marin,date unknown,high,1 May,\n"
              "Sans titre,Paul Marin,1960,,2026-09-30,2026-05-01\n")
    mapping = ('[csv]\nlanguage = "fr"\n[museum]\nlanguages = ["fr"]\n[fields]\n'
               'title = "Title"\nartist = "Artist"\ndate = "Date"\npriority = "Priority"\n'
               'on_view_from = "From"\non_view_until = "Until"\n')
    code, out, _ = run(write(tmp_path, export, mapping), capsys)
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "pack/exhibits").iterdir())
    assert names == ["sans-titre-2.yaml", "sans-titre-3.yaml", "sans-titre.yaml"]
    assert "export.csv:3: warning: date 'date unknown' has no year — left out" in out
    assert "export.csv:3: warning: priority 'high' is not a whole number — left out" in out
    assert "export.csv:3: warning: on view from '1 May' is not a date" in out
    assert "export.csv:4: warning: on view ends (2026-05-01) before it starts" in out
    assert "export.csv:2: warning: no description — the file repeats the label" in out
    pack, issues = load_pack(tmp_path / "pack")
    assert pack is not None, [str(i) for i in issues]
    first = pack.exhibit("sans-titre")
    assert first is not None
    assert (first.priority, first.on_view_from, first.on_view_until) == (2, "2026-05-01",
                                                                         "2026-09-30")
    assert first.description["fr"] == "Sans titre, Anne Durand, 1950."


def test_shipped_example_imports_and_validates(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[1] / "content" / "import-example"
    code, out, _ = run(["content", "import-csv", str(example / "collection.csv"), "--map",
                        str(example / "mapping.toml"), "-o", str(tmp_path / "pack")], capsys)
    assert code == 0
    assert "collection.csv:6: skipped: no title" in out
    assert "collection.csv:7: skipped: duplicate id '1998-4-12' (also line 2)" in out
    assert "collection.csv:5: warning: image 'phare.jpg' not found" in out
    assert main(["content", "validate", str(tmp_path / "pack")]) == 0
