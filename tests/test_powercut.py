"""Power cuts during a sync (kill -9 at seeded random instants): the next boot always loads a
complete, verified version, old or new, never a mix. ``bench/powercut.py`` runs 200."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.powercut import run


@pytest.mark.slow
def test_a_killed_sync_never_leaves_a_broken_or_mixed_version(tmp_path: Path) -> None:
    tally, failures = run(20, seed=7, work=tmp_path)
    assert failures == []
    assert tally["old loaded"] + tally["new loaded"] == 20
    assert tally["old loaded"] > 0 and tally["killed"] > 0  # the cuts did land mid-sync
