"""Hostile and broken input to `kiosk report` (the visitor-insights log) and to `kiosk content
import-csv`: the work stays bounded (a subprocess timeout, never a clock), the answer is one line
saying what to do, never a traceback, and nothing the visitor or curator gave is lost quietly.

Every input is made here, in tmp_path.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.content.importer import MAX_LINE_CHARS
from kiosk.insights.command import run_report
from kiosk.insights.log import Turn
from kiosk.insights.render import MAX_BARS, render_html
from kiosk.insights.report import in_span, summarise, write_csv
from kiosk.paths import DataDir
from kiosk.settings import LimitSettings, Settings
from kiosk.testing import HashingEncoder

MAX_ROWS = LimitSettings().import_rows
MAX_DAYS = LimitSettings().report_days

TZ = timezone(timedelta(hours=1))
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)


def kiosk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: a hang fails the test at ``timeout``."""
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The only line on stderr (and no traceback anywhere)."""
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def turn(time: str, text: str = "Who painted the kiss?", outcome: str = "answer",
         lang: str = "en", timings: dict[str, float] | None = None) -> Turn:
    return Turn(time, lang, text, outcome, False, "the-kiss", "fact", 0.97,
                {"answer": 11.0} if timings is None else timings)


def write_log(data: Path, day: str, records: Sequence[dict[str, object]]) -> Path:
    folder = data / "insights"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day}.json"
    path.write_text(json.dumps({"turns": {str(i + 1): r for i, r in enumerate(records)}}))
    return path


def good_days(data: Path) -> None:
    """Three ordinary days: turns that are answered (no encoder is needed for the report)."""
    for day in ("2025-03-01", "2025-03-02", "2025-03-03"):
        write_log(data, day, [asdict(turn(f"{day}T11:00:00+01:00"))] * 2)


# -- the insights report ---------------------------------------------------------------------

@pytest.mark.parametrize("when", ["0001-01-01T10:00:00", "9999-12-31T23:59:59+01:00"])
def test_a_turn_dated_year_1_or_9999_is_left_out_in_one_line(tmp_path: Path, when: str) -> None:
    good_days(tmp_path)
    write_log(tmp_path, "2025-03-02", [asdict(turn("2025-03-02T12:00:00+01:00")),
                                       asdict(turn(when, "a wrong clock"))])
    table = tmp_path / "turns.csv"
    result = kiosk("--data-dir", str(tmp_path), "report", "-o", str(tmp_path / "report.html"),
                   "--csv", str(table), timeout=120)
    assert result.returncode == 0
    assert one_line(result) == (
        "insights: 1 turn(s) dated outside 2025-03-01 → 2025-03-03 left out of the figures "
        "(--csv lists them) — was the kiosk's clock wrong? `kiosk doctor` checks it")
    assert result.stdout.startswith("2025-03-01 → 2025-03-03: 5 question(s), answered 100 %")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "1 turn(s) dated outside 2025-03-01 → 2025-03-03 left out" in page
    assert "<h2>Questions per day</h2>" in page
    rows = list(csv.DictReader(table.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 6 and "a wrong clock" in {r["text"] for r in rows}  # nothing lost


def test_a_turn_whose_time_is_not_a_date_is_left_out_in_one_line(tmp_path: Path) -> None:
    good_days(tmp_path)
    path = write_log(tmp_path, "2025-03-02", [asdict(turn("2025-03-02T12:00:00+01:00")),
                                              {**asdict(turn("x")), "time": "not a date"}])
    result = kiosk("--data-dir", str(tmp_path), "report", timeout=120)
    assert result.returncode == 0
    assert one_line(result) == f"insights: {path}: 1 malformed record(s) left out"


def test_the_span_is_where_most_turns_are_not_the_newest_or_oldest() -> None:
    real = [turn(f"2025-03-0{d}T11:00:00") for d in (1, 2, 3)]
    for stray in ("0001-01-01T00:00:00", "9999-12-31T00:00:00", "1970-01-01T00:00:00"):
        kept, left_out = in_span([*real, turn(stray)])
        assert (kept, left_out) == (real, 1)
    offline = [turn("1970-01-01T10:00:00"), turn("1970-01-02T10:00:00")]  # never set: kept
    assert in_span(offline) == (offline, 0)
    apart = [turn("2015-01-01T10:00:00"), turn("2025-03-01T10:00:00")]  # a tie: the newest
    assert in_span(apart) == ([apart[1]], 1)
    s = summarise([*real, turn("0001-01-01T00:00:00")])
    assert len(s.per_day) == 3 and s.left_out == 1 and s.questions == 3


def test_a_long_span_is_charted_a_bar_per_several_days_and_long_lists_are_cut(
        tmp_path: Path) -> None:
    first = datetime(2016, 1, 1, 10, tzinfo=TZ)
    turns = [turn((first + timedelta(days=d)).isoformat(), lang=f"l{d}",
                  timings={f"stage {d}": 1.0}) for d in range(0, MAX_DAYS, 9)]
    s = summarise(turns)
    assert len(s.per_day) == 3655 and s.left_out == 0  # 2016-01-01 → its 3,655th day
    page = render_html(s, {}, "in the log", NOW, 90)
    assert f"<h2>Questions per {-(-len(s.per_day) // MAX_BARS)} days</h2>" in page
    assert f"… and {len(turns) - 12} more language(s)." in page
    assert f"… and {len(turns) - 12} more stage(s)." in page


def test_csv_cells_that_could_start_a_formula_get_a_quote(tmp_path: Path) -> None:
    at = "2025-03-01T11:00:00+01:00"
    texts = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "Who painted it?", " =1"]
    table = tmp_path / "turns.csv"
    write_csv([turn(at, text, timings={"=cmd|' /C calc'!A0": 1.0}) for text in texts], table)
    with table.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert header[-1] == "'=cmd|' /C calc'!A0_ms"
    assert [r[2] for r in rows] == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\t=1+1", "'\r=1+1",
                                    "Who painted it?", " =1"]


def test_report_into_a_folder_says_to_give_a_file(tmp_path: Path) -> None:
    good_days(tmp_path)
    result = kiosk("--data-dir", str(tmp_path), "report", "-o", str(tmp_path), timeout=120)
    assert result.returncode == 2
    assert one_line(result) == (f"kiosk: -o {tmp_path} is a folder — give a file name, e.g. "
                                f"-o {tmp_path / 'report.html'}")


def test_report_into_a_missing_folder_or_a_failing_file_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good_days(tmp_path)
    missing = tmp_path / "no-such-folder" / "turns.csv"
    assert main(["--data-dir", str(tmp_path), "report", "--csv", str(missing)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"kiosk: --csv {missing}: there is no folder {missing.parent} — create it or give a "
        "path in an existing folder"]
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full to fail a write")
    assert main(["--data-dir", str(tmp_path), "report", "--csv", "/dev/full"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "kiosk: --csv /dev/full: cannot write it (No space left on device) — give a path in a "
        "folder you can write to, on a disk with room"]


def test_a_normal_report_is_unchanged(tmp_path: Path) -> None:
    good_days(tmp_path)
    code = run_report(Settings(), DataDir(tmp_path), None, tmp_path / "r.html", None,
                      encode=HashingEncoder().encode, now=NOW)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert code == 0 and "left out" not in page and "<h2>Questions per day</h2>" in page


# -- the CSV importer ------------------------------------------------------------------------

MAPPING = """\
[csv]
language = "en"
[museum]
languages = ["en"]
[fields]
title = "Title"
artist = "Artist"
image = "Image"
[images]
folder = "photos"
"""


def export(tmp_path: Path, body: str, name: str = "export.csv") -> list[str]:
    """Write the export (header Title,Artist,Image) and the mapping; the command's arguments."""
    (tmp_path / name).write_text("Title,Artist,Image\n" + body, encoding="utf-8")
    (tmp_path / "map.toml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "photos").mkdir(exist_ok=True)
    return ["content", "import-csv", str(tmp_path / name), "--map", str(tmp_path / "map.toml"),
            "-o", str(tmp_path / "pack")]


def test_a_million_rows_are_refused_at_once_and_nothing_is_written(tmp_path: Path) -> None:
    args = export(tmp_path, "".join(f"Work {i},Anne Durand,\n" for i in range(1_000_000)))
    result = kiosk(*args, timeout=60)
    assert result.returncode == 2
    assert one_line(result) == (
        f"{tmp_path / 'export.csv'}: more than {MAX_ROWS:,} rows — nothing was written; split "
        f"it into files of at most {MAX_ROWS:,} rows and import each into the same pack (the "
        "files already there are kept), or raise [limits] import_rows")
    assert not (tmp_path / "pack").exists()


def test_a_huge_cell_names_its_row_and_nothing_is_written(tmp_path: Path) -> None:
    args = export(tmp_path, 'The Harbour,Anne Durand,\nThe Pier,"' + "x" * 140_000 + '",\n')
    result = kiosk(*args, timeout=60)
    assert result.returncode == 2
    assert one_line(result) == (
        f"{tmp_path / 'export.csv'}:3: a cell is longer than 131,072 characters (a quote left "
        "open?) — nothing was written; close the quote or shorten the cell")
    assert not (tmp_path / "pack").exists()


def test_a_line_without_end_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    args = export(tmp_path, "The Harbour,Anne Durand,\n" + ";" * (MAX_LINE_CHARS + 10))
    result = kiosk(*args, timeout=60)
    assert result.returncode == 2
    assert one_line(result) == (
        f"{tmp_path / 'export.csv'}:3: a line longer than {MAX_LINE_CHARS:,} characters — "
        "nothing was written; is it a CSV export?")


def test_images_from_outside_the_images_folder_are_refused_naming_the_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not yours")
    args = export(tmp_path, f"A,Anne,../secret.png\nB,Anne,{secret}\nC,Anne,link.png\n"
                            "D,Anne,sub/../../secret.png\nE,Anne,Harbour.PNG\nF,Anne,LINK.PNG\n")
    (tmp_path / "photos" / "link.png").symlink_to(secret)
    (tmp_path / "photos" / "harbour.png").write_bytes(b"a picture")
    assert main(args) == 0
    out = capsys.readouterr().out
    refused = [line for line in out.splitlines() if "outside the images folder" in line]
    photos = tmp_path / "photos"
    assert refused == [
        f"export.csv:{n}: warning: image '{name}' is outside the images folder {photos} — "
        "refused; give the name of a file in that folder"
        for n, name in ((2, "../secret.png"), (3, secret), (4, "link.png"),
                        (5, "sub/../../secret.png"), (7, "LINK.PNG"))]
    assert sorted(p.name for p in (tmp_path / "pack" / "images").iterdir()) == ["e.png"]
    assert (tmp_path / "pack" / "images" / "e.png").read_bytes() == b"a picture"


def test_same_title_rows_each_get_a_file_and_progress_is_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = export(tmp_path, "Sans titre 2,Paul,\n" + "Sans titre,Anne,\n" * 1_099)
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == ["export.csv: 1,000 of 1,100 rows imported…"]
    assert "1100 exhibits written" in out and "0 kept as they were" in out
    names = {p.stem for p in (tmp_path / "pack" / "exhibits").iterdir()}
    assert names == {"sans-titre", *(f"sans-titre-{n}" for n in range(2, 1_101))}
    assert "artist: Paul" in (tmp_path / "pack/exhibits/sans-titre-2.yaml").read_text()
    assert main(args) == 1  # once more: each row finds its own file, kept
    out = capsys.readouterr().out
    assert "0 exhibits written" in out and "1100 kept as they were" in out
