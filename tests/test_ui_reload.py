"""Content hot reload as a kiosk sees it: `kiosk content sync` (and rollback) on the kiosk's
data directory while the app runs; the new version is opened in the background and taken
between conversations, never in the middle of one. Real bundles, real encoder, real sync."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.content import bundle
from kiosk.content import sync as versions
from kiosk.paths import DataDir
from kiosk.settings import Settings
from kiosk.ui.controller import Screen
from kiosk.ui.launch import build_kiosk
from tests.conftest import DATA, DEMO

pytestmark = [pytest.mark.models, pytest.mark.slow]


def wait_for(condition: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_synced_version_is_taken_between_conversations_and_rollback_too(
        tmp_path: Path, encoder: Any) -> None:
    data = DataDir(tmp_path / "data")
    small = DATA / "packs" / "fr-en-small"
    for name, pack in (("demo", DEMO), ("small", small)):
        bundle.build(pack, tmp_path / name, encoder)
    versions.sync(data, tmp_path / "demo", encoder.model_id, encoder.sha256)
    running = build_kiosk(Settings(), data, None, voice=False, speak=False, encoder=encoder)
    controller, check = running.controller, running.watch
    assert check is not None
    try:
        assert len(controller.pack.exhibits) == 27 and not check()
        controller.choose_language("en")
        controller.ask("Who painted the milkmaid?")  # a visitor is here
        wait_for(lambda: controller.view.screen is Screen.ANSWER and not controller.busy)
        versions.sync(data, tmp_path / "small", encoder.model_id, encoder.sha256)
        assert check()  # noticed; opened in the background
        wait_for(lambda: controller.content_waiting)
        assert len(controller.pack.exhibits) == 27  # not in the middle of a conversation
        controller.reset()  # the visit ends
        small_count = len(controller.pack.exhibits)
        assert small_count < 27 and controller.root.parent == data.versions
        assert (controller.root / "images").is_dir()
        versions.rollback(data)  # at rest: taken at once
        assert check()
        # the view's generation is bumped last, after the pack is swapped in
        wait_for(lambda: controller.view.generation == 2)
        assert len(controller.pack.exhibits) == 27
    finally:
        controller.close()


def test_a_version_that_cannot_be_opened_keeps_the_current_one(tmp_path: Path,
                                                                encoder: Any) -> None:
    data = DataDir(tmp_path / "data")
    bundle.build(DEMO, tmp_path / "demo", encoder)
    versions.sync(data, tmp_path / "demo", encoder.model_id, encoder.sha256)
    running = build_kiosk(Settings(), data, None, voice=False, speak=False, encoder=encoder)
    controller, check = running.controller, running.watch
    assert check is not None
    try:
        # a version folder damaged after activation (disk error, hand edits)
        bundle.build(DATA / "packs" / "fr-en-small", tmp_path / "small", encoder)
        versions.sync(data, tmp_path / "small", encoder.model_id, encoder.sha256)
        current = data.versions / "current"
        next(p for p in current.resolve().rglob("*.json") if p.name != "manifest.json"
             ).write_text("{}")
        assert check()
        wait_for(lambda: bool(controller.errors))
        assert "new content not loaded" in controller.errors[-1][1]
        assert len(controller.pack.exhibits) == 27 and not controller.content_waiting
    finally:
        controller.close()
