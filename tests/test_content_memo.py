"""Exhibit files checked once and remembered (``load_pack(root, memo)``, kept on disk by
``kiosk.content.memo``): whatever was remembered, the pack and its problems are exactly what a
check from nothing gives — after an edit, a new or deleted picture, new languages, other limits,
a deleted file, and from a memo file that is damaged or was written by other checks.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk import limits
from kiosk.content import memo
from kiosk.content.loader import FileMemo, load_pack

DEMO = Path(__file__).resolve().parents[1] / "content" / "demo"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEMO, tmp_path / "pack"))


def checked_files(held: FileMemo) -> dict[str, int]:
    return {rel: id(found) for rel, (_, found) in held.items()}


def same_as_fresh(pack: Path, held: FileMemo) -> tuple[object, list[str]]:
    """The pack and its problems through the memo, checked against a fresh check."""
    through, issues = load_pack(pack, held)
    fresh, fresh_issues = load_pack(pack)
    assert through == fresh
    assert [str(i) for i in issues] == [str(i) for i in fresh_issues]
    return through, [str(i) for i in issues]


def first_work(pack: Path) -> Path:
    return sorted((pack / "exhibits").glob("*.yaml"))[0]


def test_only_the_edited_file_is_checked_again(pack: Path) -> None:
    held: FileMemo = {}
    same_as_fresh(pack, held)
    before = checked_files(held)
    assert len(before) == len(list((pack / "exhibits").glob("*.yaml")))
    work = first_work(pack)
    rel = f"exhibits/{work.name}"
    work.write_text(work.read_text(encoding="utf-8").replace("title:", "title: ''\nx_title:", 1),
                    encoding="utf-8")
    result, issues = same_as_fresh(pack, held)
    assert result is None and any(line.startswith(rel) for line in issues)
    after = checked_files(held)
    assert [r for r in after if after[r] != before[r]] == [rel]


def test_a_picture_deleted_or_added_is_seen(pack: Path) -> None:
    held: FileMemo = {}
    same_as_fresh(pack, held)
    work = first_work(pack)
    picture = next(line.split(":", 1)[1].strip() for line in
                   work.read_text(encoding="utf-8").splitlines() if line.startswith("image:"))
    kept = (pack / picture).read_bytes()
    (pack / picture).unlink()
    _, issues = same_as_fresh(pack, held)
    assert any("does not exist" in line and picture in line for line in issues)
    (pack / picture).write_bytes(kept)
    result, issues = same_as_fresh(pack, held)
    assert result is not None and not any(picture in line for line in issues)


def test_new_languages_and_other_limits_check_every_file_again(pack: Path) -> None:
    held: FileMemo = {}
    same_as_fresh(pack, held)
    museum = pack / "museum.yaml"
    text = museum.read_text(encoding="utf-8")
    museum.write_text(text.replace("languages: [fr, en, es]", "languages: [fr, en, es, de]"),
                      encoding="utf-8")
    _, issues = same_as_fresh(pack, held)
    assert sum("has no German text" in line for line in issues) > 20
    before = limits.use(replace(limits.current(), short_text_chars=10))
    try:
        _, issues = same_as_fresh(pack, held)
        assert any("[limits] short_text_chars" in line for line in issues)
    finally:
        limits.use(before)


def test_a_deleted_file_is_forgotten(pack: Path) -> None:
    held: FileMemo = {}
    same_as_fresh(pack, held)
    work = first_work(pack)
    work.unlink()
    same_as_fresh(pack, held)
    assert f"exhibits/{work.name}" not in held


def test_a_memo_kept_on_disk_gives_the_same_pack(pack: Path, tmp_path: Path) -> None:
    work = first_work(pack)
    work.write_text(work.read_text(encoding="utf-8").replace("\nroom:", "\nx_room:", 1),
                    encoding="utf-8")  # one file with a problem: its issues are kept too
    held: FileMemo = {}
    _, issues = same_as_fresh(pack, held)
    assert any(line.startswith(f"exhibits/{work.name}") for line in issues)
    kept = memo.memo_path(tmp_path / "cache", pack)
    memo.save(held, kept)
    again = memo.load(kept)
    assert again.keys() == held.keys()
    before = checked_files(again)
    same_as_fresh(pack, again)
    assert checked_files(again) == before  # nothing was checked again


@pytest.mark.parametrize("damage", ["truncated", "other checks", "not json", "wrong shape"])
def test_a_damaged_memo_is_ignored(pack: Path, tmp_path: Path, damage: str) -> None:
    held: FileMemo = {}
    same_as_fresh(pack, held)
    kept = memo.memo_path(tmp_path / "cache", pack)
    memo.save(held, kept)
    text = kept.read_text(encoding="utf-8")
    if damage == "truncated":
        kept.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "other checks":
        kept.write_text(text.replace(memo.checks_version(), "0" * 16), encoding="utf-8")
    elif damage == "not json":
        kept.write_bytes(os.urandom(256))
    else:
        body = json.loads(text)
        body["files"] = {rel: {"key": 3} for rel in body["files"]}
        kept.write_text(json.dumps(body), encoding="utf-8")
    assert memo.load(kept) == {}


def test_a_memo_that_cannot_be_written_is_let_go(pack: Path, tmp_path: Path) -> None:
    held: FileMemo = {}
    same_as_fresh(pack, held)
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    memo.save(held, memo.memo_path(blocked, pack))  # no exception: the next run checks again
    assert blocked.read_text(encoding="utf-8").startswith("a file")


def test_the_studio_keeps_its_memo_between_runs(pack: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk import settings
    from kiosk.content import loader
    from kiosk.paths import DataDir
    from kiosk.studio.web import Studio
    from kiosk.testing import HashingEncoder

    data = DataDir(tmp_path / "data")
    first = Studio(pack, settings.Settings(), HashingEncoder(), data)
    checked = first.check()
    first.close()  # (waits for the memo's writer)
    kept = first.memo_file()
    assert kept is not None and kept.is_file()

    def read_again(*args: object) -> None:
        raise AssertionError("a file remembered was read again")
    monkeypatch.setattr(loader, "_check_exhibit", read_again)
    second = Studio(pack, settings.Settings(), HashingEncoder(), data)
    assert second.check() == checked
    second.close()
