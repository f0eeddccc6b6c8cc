"""The works' images: decoded off the UI thread, no larger than shown, in a bounded cache —
whatever size or state the curators' files are in."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import kiosk.ui.harness as harness
from kiosk.pipeline import Pipeline
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from kiosk.session import Session
from kiosk.testing import ManualClock, ScriptedRecognizer, WordSpeaker
from kiosk.ui.controller import Controller, Screen
from kiosk.ui.pictures import CARD_SIDE, Pictures, decode
from kiosk.ui.widgets import ExhibitCard, Picture
from tests.conftest import DEMO


def photo(path: Path, size: tuple[int, int], mode: str = "RGB", **save: Any) -> Path:
    """A smooth picture (cheap to encode at any size)."""
    ramp = Image.linear_gradient("L").resize(size)
    bands = {"RGB": (ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp),
             "RGBA": (ramp, ramp, ramp, ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM))}
    Image.merge(mode, bands[mode]).save(path, **save)
    return path


# -- decoding -------------------------------------------------------------------------------


def test_a_camera_sized_jpeg_is_decoded_reduced(tmp_path: Path) -> None:
    big = photo(tmp_path / "big.jpg", (6000, 4000), quality=85)
    decoded = decode(str(big), 800)
    assert decoded.size == (800, 533) and decoded.mode == "rgba"
    assert len(decoded.pixels) == 800 * 533 * 4


def test_small_pictures_keep_their_size_and_transparency(tmp_path: Path) -> None:
    small = photo(tmp_path / "small.png", (301, 200), mode="RGBA")  # (an odd width)
    decoded = decode(str(small), 800)
    assert decoded.size == (301, 200) and decoded.mode == "rgba"
    assert len(decoded.pixels) == 301 * 200 * 4
    assert {decoded.pixels[3], decoded.pixels[-1]} == {0, 255}  # its transparency kept


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show it rotated 90°
    turned = photo(tmp_path / "turned.jpg", (400, 200), exif=exif)
    assert decode(str(turned), 1000).size == (200, 400)


def test_rows_are_bottom_up_for_opengl(tmp_path: Path) -> None:
    image = Image.new("RGB", (2, 2), (0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0))  # top-left red
    image.save(tmp_path / "corner.png")
    pixels = decode(str(tmp_path / "corner.png"), 10).pixels
    assert pixels[8:12] == b"\xff\x00\x00\xff"  # the last row in the buffer is the top one


@pytest.mark.parametrize("content", [b"", b"not a picture at all", b"\x89PNG\r\n\x1a\n\0\0"])
def test_damaged_files_raise(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises((OSError, ValueError)):
        decode(str(tmp_path / "bad.png"), 800)


def test_a_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (18000, 18000)).save(bomb)  # a few kB on disk, 324 Mpixels decoded
    assert bomb.stat().st_size < 200_000
    with pytest.raises(Image.DecompressionBombError):
        decode(str(bomb), 800)


# -- the cache, with real textures in the offscreen window ----------------------------------


class Later:
    """Runs what ``Pictures`` hands to the UI thread when the test says so."""

    def __init__(self) -> None:
        self.calls: list[Callable[[], None]] = []
        self.threads: list[str] = []

    def __call__(self, call: Callable[[], None]) -> None:
        self.threads.append(threading.current_thread().name)
        self.calls.append(call)

    def run(self, pictures: Pictures) -> None:
        deadline = 200
        while pictures.pending and deadline:
            while self.calls:
                self.calls.pop(0)()
            threading.Event().wait(0.05)
            deadline -= 1
        while self.calls:
            self.calls.pop(0)()


@pytest.fixture
def window() -> Iterator[None]:
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    yield


def test_pictures_arrive_from_a_worker_thread(window: None, tmp_path: Path) -> None:
    later = Later()
    pictures = Pictures(budget_mb=8, schedule=later)
    path = str(photo(tmp_path / "a.jpg", (1600, 1200)))
    got: list[Any] = []
    try:
        assert pictures.get(path, 400, got.append) is None  # not yet: being decoded
        assert pictures.get(path, 400, got.append) is None  # asked twice, decoded once
        later.run(pictures)
        assert later.threads == ["kiosk-pictures_0"]
        assert len(got) == 2 and got[0] is got[1] and tuple(got[0].size) == (400, 300)
        assert pictures.get(path, 400, got.append) is got[0]  # now from the cache
        assert pictures.decoded == 1
    finally:
        pictures.close()


def test_the_cache_keeps_to_its_budget(window: None, tmp_path: Path) -> None:
    later = Later()
    pictures = Pictures(budget_mb=2, schedule=later)
    paths = [str(photo(tmp_path / f"{i}.jpg", (800, 600))) for i in range(6)]  # 1.9 MB each
    try:
        for path in paths:
            pictures.get(path, 800, lambda _t: None)
            later.run(pictures)
            assert pictures.cached_bytes <= 2 * 1024 * 1024
        assert len(pictures) == 1 and pictures.decoded == 6
        assert pictures.get(paths[-1], 800, lambda _t: None) is not None  # the newest stays
        assert pictures.get(paths[0], 800, lambda _t: None) is None  # the oldest left
    finally:
        pictures.close()


def test_a_replaced_file_is_decoded_again(window: None, tmp_path: Path) -> None:
    later = Later()
    pictures = Pictures(schedule=later)
    path = tmp_path / "a.png"
    photo(path, (200, 100))
    try:
        pictures.get(str(path), 800, lambda _t: None)
        later.run(pictures)
        photo(path, (100, 200))  # the curators changed it (size and time differ)
        got: list[Any] = []
        assert pictures.get(str(path), 800, got.append) is None
        later.run(pictures)
        assert tuple(got[0].size) == (100, 200)
    finally:
        pictures.close()


def test_a_damaged_file_is_logged_once_and_shows_nothing(
        window: None, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    later = Later()
    pictures = Pictures(schedule=later)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is not a JPEG")
    got: list[Any] = []
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.ui.pictures"):
            pictures.get(str(bad), 800, got.append)
            later.run(pictures)
            assert got == [None]
            assert pictures.get(str(bad), 800, got.append) is None  # not tried again
            later.run(pictures)
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1 and str(bad) in lines[0] and "replace it" in lines[0]
        assert got == [None] and pictures.decoded == 0
        assert pictures.get(str(tmp_path / "missing.png"), 800, got.append) is None
        assert not pictures.pending
    finally:
        pictures.close()


# -- in the app ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.models
def test_the_app_shows_huge_and_damaged_images_within_bounds(
        encoder: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(DEMO, pack)
    photo(pack / "images" / "the-milkmaid.png", (6000, 4000))  # as a camera gives it
    content = open_content(pack, encoder)
    # (validation refuses a damaged image; this one is damaged on the kiosk's disk afterwards)
    (pack / "images" / "the-starry-night.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    answerer = KioskAnswerer(content.pack, content.units, content.vectors, encoder)
    museum = content.pack.museum
    pipeline = Pipeline(answerer, Session("en", list(museum.languages)),
                        ScriptedRecognizer([]), speaker=WordSpeaker())
    controller = Controller(pipeline, content.pack, idle_reset_s=90, listen=None,
                            clock=ManualClock(), content="pack")
    k = harness.OffscreenKiosk(controller, images=pack)
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.ui.pictures"):
            k.tap(k.ids("browse"))
            k.settle()
            assert k.screen.name == Screen.BROWSE.value
            cards = {c.exhibit_id: c for c in k.ids("grid").children
                     if isinstance(c, ExhibitCard)}
            assert len(cards) == len(content.pack.exhibits)  # every work, broken or not
            shown = {i: next(w for w in c.walk() if isinstance(w, Picture)).texture
                     for i, c in cards.items()}
            assert shown["the-starry-night"] is None
            assert tuple(shown["the-milkmaid"].size) == (CARD_SIDE, CARD_SIDE * 2 // 3)
            assert all(t is not None and max(t.size) <= CARD_SIDE
                       for i, t in shown.items() if i != "the-starry-night")
            k.tap(cards["the-milkmaid"])
            k.settle()
            assert k.screen.name == Screen.EXHIBIT.value
            assert tuple(k.ids("image").texture.size) == (800, 533)  # the window's width
        warned = [r.getMessage() for r in caplog.records]
        assert len(warned) == 1 and "the-starry-night.png cannot be shown" in warned[0]
        assert k.app.pictures.cached_bytes <= 64 * 1024 * 1024
    finally:
        k.close()
