"""`make screenshots` still works: the real app, offscreen, taken through every screen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENS = ("attract", "listening", "answer", "answer-access", "clarify", "unknown", "browse",
           "exhibit")
pytestmark = [pytest.mark.models, pytest.mark.slow]


def test_the_screenshot_tour_writes_every_screen(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--out",
                           str(tmp_path), "--langs", "en"], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == sorted(f"{s}-en-{o}.png" for s in SCREENS
                             for o in ("landscape", "portrait"))
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
