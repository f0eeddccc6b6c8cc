"""Every screen of the real app, in the offscreen window, at the smallest and largest sizes and
in both orientations (and with larger text): text fits its widget and no word is cut in two,
buttons are at least 9 mm tall and never overlap, nothing visible leaves the window.

The app runs over content/demo with the real answerer (hence ``models``); the microphone,
recognizer and speaker are the fakes of ``kiosk.testing``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import kiosk.ui.harness as harness  # before anything imports Kivy (Kivy is imported in the tests)
from kiosk.audio.wav import RATE
from kiosk.paths import DataDir
from kiosk.settings import InsightsSettings, Settings
from kiosk.testing import EnergyVad, SamplesMicrophone, ScriptedRecognizer, WordSpeaker
from kiosk.ui.controller import Screen
from kiosk.ui.launch import build_kiosk

from .conftest import DEMO

pytestmark = pytest.mark.models

SIZES = [(800, 480, False, "en"), (480, 800, False, "en"), (1920, 1080, False, "en"),
         (800, 480, False, "fr"), (480, 800, False, "fr"), (1920, 1080, False, "fr"),
         (800, 480, True, "en"), (800, 480, True, "fr"), (480, 800, True, "fr")]
SCREENS = ["attract", "listening", "answer", "clarify", "unknown", "browse", "exhibit"]
QUESTIONS = {"en": {"answer": "tell me about the starry night",
                    "clarify": "tell me about the Monet",
                    "unknown": "what is the wifi password"},
             "fr": {"answer": "parlez-moi de la nuit étoilée",
                    "clarify": "parle-moi de Monet",
                    "unknown": "quel est le mot de passe du wifi"}}
TAGS = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")
SLACK = 1.0
"""Pixels of rounding allowed."""


@pytest.fixture(scope="module")
def kiosk(data_dir: DataDir, encoder: Any) -> Iterator[harness.OffscreenKiosk]:
    quiet = Settings(insights=InsightsSettings(enabled=False))  # no turns logged
    running = build_kiosk(quiet, data_dir, DEMO, voice=False, speak=False)
    controller = running.controller
    controller.pipeline.speaker = WordSpeaker()
    controller.pipeline.recognizer = ScriptedRecognizer([])
    speech = np.random.default_rng(0).normal(0, 0.12, 60 * RATE).astype(np.float32)
    controller.listen = lambda: (SamplesMicrophone(speech, realtime=True), EnergyVad())
    k = harness.OffscreenKiosk(controller, images=running.kiosk.root)
    k.app.voice = True
    yield k
    controller.cancel()
    k.settle()
    k.close()


def show(k: harness.OffscreenKiosk, screen: str, size: tuple[int, int], large: bool,
         lang: str = "en") -> None:
    """A new visit in ``lang`` on a ``size`` window, taken to ``screen``."""
    c = k.controller
    k.resize(*size)
    c.cancel()
    k.settle()
    c.reset()
    c.choose_language(lang)
    c.set_preference("large_text", large)
    k.settle()
    if screen == "listening":
        c.pipeline.recognizer.script.append((QUESTIONS[lang]["answer"], lang))
        k.tap(k.ids("talk"))
        k.wait(lambda: len(c.view.partial.split()) >= 2 and k.screen.name == "listening")
    elif screen in QUESTIONS[lang]:
        c.ask(QUESTIONS[lang][screen])
        k.settle()
    elif screen in ("browse", "exhibit"):
        k.tap(k.ids("browse"))
        k.settle()
        if screen == "exhibit":
            c.open_exhibit("the-starry-night")
            k.settle()
    k.frames(3)
    assert k.screen.name == screen, (k.screen.name, c.view)


def shown(widget: Any) -> bool:
    node = widget
    while node is not None and node is not node.parent:
        if node.opacity == 0:
            return False
        node = node.parent
    return not widget.disabled and widget.width > 1 and widget.height > 1


def rect(widget: Any) -> tuple[float, float, float, float] | None:
    """The part of ``widget`` one can see, in window coordinates (scroll views clip their
    content); None when it is scrolled out of sight."""
    from kivy.uix.scrollview import ScrollView

    x, y = widget.to_window(widget.x, widget.y)
    box = (x, y, x + widget.width, y + widget.height)
    node = widget.parent
    while node is not None and node is not node.parent:
        if isinstance(node, ScrollView):
            sx, sy = node.to_window(node.x, node.y)
            box = (max(box[0], sx), max(box[1], sy), min(box[2], sx + node.width),
                   min(box[3], sy + node.height))
            if box[2] - box[0] <= SLACK or box[3] - box[1] <= SLACK:
                return None
        node = node.parent
    return box


def problems(k: harness.OffscreenKiosk) -> list[str]:
    """What is wrong with the screen on show, in words."""
    from kivy.core.window import Window
    from kivy.metrics import mm
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    width, height = Window.size
    found: list[str] = []
    widgets = [w for w in k.screen.walk() if shown(w)]
    for w in widgets:
        name = f"{type(w).__name__} {getattr(w, 'text', '')[:40]!r}"
        if isinstance(w, Label) and w.text:
            tw, th = w.texture_size
            if tw > w.width + SLACK or th > w.height + SLACK:
                found.append(f"{name}: text {tw}×{th} in a {w.width:.0f}×{w.height:.0f} widget")
            wrap = w.text_size[0]
            if wrap:
                for word in set(TAGS.sub("", w.text).split()):
                    if w._label.get_extents(word)[0] > wrap + SLACK:
                        found.append(f"{name}: the word {word!r} is cut (wider than {wrap:.0f})")
        box = rect(w)
        if box is not None:
            x0, y0, x1, y1 = box
            if x0 < -SLACK or y0 < -SLACK or x1 > width + SLACK or y1 > height + SLACK:
                found.append(f"{name}: at {x0:.0f},{y0:.0f}-{x1:.0f},{y1:.0f}, outside the "
                             f"{width}×{height} window")
    buttons = [w for w in widgets if isinstance(w, Button) and w.text and rect(w) is not None]
    for b in buttons:
        if b.height < mm(9) - SLACK:
            found.append(f"button {b.text!r}: {b.height:.0f} px tall, under 9 mm ({mm(9):.0f})")
    for i, a in enumerate(buttons):
        for b in buttons[i + 1:]:
            ax0, ay0, ax1, ay1 = rect(a) or (0, 0, 0, 0)
            bx0, by0, bx1, by1 = rect(b) or (0, 0, 0, 0)
            if min(ax1, bx1) - max(ax0, bx0) > SLACK and min(ay1, by1) - max(ay0, by0) > SLACK:
                found.append(f"buttons {a.text!r} and {b.text!r} overlap")
    return found


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}-{lang}{'-large' if big else ''}"
                                             for w, h, big, lang in SIZES])
def test_screen_fits(kiosk: harness.OffscreenKiosk, screen: str,
                     size: tuple[int, int, bool, str]) -> None:
    width, height, large, lang = size
    show(kiosk, screen, (width, height), large, lang)
    assert problems(kiosk) == []


def test_checks_catch_a_crowded_screen(kiosk: harness.OffscreenKiosk) -> None:
    """The checks above can fail: a word wider than its button and two buttons on top of
    each other are reported."""
    show(kiosk, "attract", (800, 480), False)
    talk, browse = kiosk.ids("talk"), kiosk.ids("browse")
    saved = browse.pos_hint, talk.text
    try:
        talk.text = "Unbreakablewordthatnobuttoncouldeverholdinoneline " * 2
        kiosk.frames(3)
        browse.parent.do_layout()
        browse.pos = talk.pos
        found = problems(kiosk)
        assert any("is cut" in p for p in found), found
        assert any("overlap" in p for p in found), found
    finally:
        browse.pos_hint, talk.text = saved
        browse.parent.do_layout()
        kiosk.frames(3)


def test_screen_names_cover_the_app() -> None:
    """Every screen but admin (its own tests) is checked here."""
    assert set(SCREENS) == {s.value for s in Screen} - {"admin"}

