"""The benchmark's generated packs (bench/packs.py) are valid packs of the expected shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.packs import TATE_FILE, write_passage_packs, write_tate_pack
from kiosk.content.loader import read_pack


@pytest.mark.realdata
def test_tate_pack_is_valid(tmp_path: Path, shared_eval: Path) -> None:
    tate = shared_eval / TATE_FILE
    if not tate.is_file():
        pytest.skip(f"Tate collection file not found at {tate}")
    pack = read_pack(write_tate_pack(tmp_path / "tate", 30, tate))
    ids = [e.id for e in pack.exhibits]
    assert len(ids) == 30
    assert len(set(ids)) == 30
    assert pack.museum.languages == ["en", "fr", "es"]
    assert all(e.image == "images/placeholder.png" for e in pack.exhibits)
    assert all(set(e.description) == {"en", "fr", "es"} and len(e.qa) == 1
               for e in pack.exhibits)
    assert len(pack.faq) == 3


@pytest.mark.realdata
def test_tate_pack_varies_past_the_records(tmp_path: Path, shared_eval: Path) -> None:
    tate = shared_eval / TATE_FILE
    if not tate.is_file():
        pytest.skip(f"Tate collection file not found at {tate}")
    first = write_tate_pack(tmp_path / "a", 260, tate, seed=3)
    again = write_tate_pack(tmp_path / "b", 260, tate, seed=3)
    pack = read_pack(first)
    titles = [e.title["en"] for e in pack.exhibits]
    assert len({e.id for e in pack.exhibits}) == 260
    assert len(set(titles)) > 250  # copies past 250 get their own titles
    for path in sorted((first / "exhibits").glob("*.yaml")):  # deterministic
        assert path.read_text(encoding="utf-8") == \
            (again / "exhibits" / path.name).read_text(encoding="utf-8")


@pytest.mark.realdata
def test_passage_packs_expect_their_own_exhibits(tmp_path: Path, shared_eval: Path) -> None:
    packs = write_passage_packs(tmp_path, shared_eval)
    assert len(packs) == 3
    for root, questions in packs:
        pack = read_pack(root)
        ids = {e.id for e in pack.exhibits}
        assert len(pack.museum.languages) == 1
        assert questions
        assert all(q.expect in ids for q in questions)
        assert all(q.lang == pack.museum.languages[0] and q.tag == "passage"
                   for q in questions)
