"""The UI thread never waits on the turn: the real app keeps drawing frames while a fake
recognizer sleeps or a fake speaker talks slowly, and a tap still lands meanwhile.

Counted in frames the app drew (``KioskApp.frames``), never in seconds: were a turn run on the
UI thread, the app would draw no frame until it ended, however long it took.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import kiosk.ui.harness  # noqa: F401, I001 - first: Kivy's settings for the offscreen window
from bench.visitors import BatchRecognizer, Rig, build_rig
from kiosk.testing import ScriptedRecognizer, WordSpeaker
from kiosk.ui.controller import Screen

pytestmark = pytest.mark.models

QUESTION = ("Qui a peint La Jeune Fille à la perle ?", "fr")
LIMIT = 5_000
"""Frames drawn at most while waiting for something (a hung turn fails, it does not hang)."""


def frames_while(rig: Rig, condition: Callable[[], bool], at_most: int = LIMIT) -> int:
    """Draw frames while ``condition`` holds; how many the app drew."""
    start = rig.kiosk.app.frames
    drawn = 0
    while condition() and drawn < at_most:
        rig.kiosk.frames(1)
        drawn += 1
    return rig.kiosk.app.frames - start


@pytest.fixture
def sleepy() -> Iterator[Rig]:
    """The app with a whole-utterance recognizer that takes 2 s per question."""
    rig = build_rig(ScriptedRecognizer([QUESTION], delay_s=2.0), batch=True)
    yield rig
    rig.close()


def test_frames_keep_coming_while_the_recognizer_sleeps(sleepy: Rig) -> None:
    recognizer = sleepy.controller.pipeline.recognizer
    assert isinstance(recognizer, BatchRecognizer)
    sleepy.kiosk.tap(sleepy.kiosk.ids("talk"))
    frames_while(sleepy, lambda: not recognizer.started.is_set())
    assert recognizer.started.is_set(), "the recognizer was never called"

    asleep = frames_while(sleepy, lambda: not sleepy.recognizer.heard)

    assert asleep >= 20, f"only {asleep} frames drawn while the recognizer slept"
    sleepy.kiosk.settle()
    assert sleepy.controller.view.screen is Screen.ANSWER
    assert sleepy.speaker.said, "the answer was not said"


def test_a_tap_lands_while_the_recognizer_sleeps(sleepy: Rig) -> None:
    recognizer = sleepy.controller.pipeline.recognizer
    assert isinstance(recognizer, BatchRecognizer)
    sleepy.kiosk.tap(sleepy.kiosk.ids("talk"))
    frames_while(sleepy, lambda: not recognizer.started.is_set())
    assert sleepy.kiosk.screen.name == Screen.LISTENING.value

    sleepy.kiosk.tap(sleepy.kiosk.ids("cancel"))

    assert sleepy.controller.busy and not sleepy.recognizer.heard, "the turn ended already"
    assert sleepy.kiosk.screen.name == Screen.ATTRACT.value


def test_a_turn_cancelled_while_recognizing_stays_cancelled(sleepy: Rig) -> None:
    recognizer = sleepy.controller.pipeline.recognizer
    assert isinstance(recognizer, BatchRecognizer)
    sleepy.kiosk.tap(sleepy.kiosk.ids("talk"))
    frames_while(sleepy, lambda: not recognizer.started.is_set())
    sleepy.kiosk.tap(sleepy.kiosk.ids("cancel"))

    sleepy.kiosk.settle()  # the recognizer wakes up and the turn ends, unseen

    assert sleepy.recognizer.heard, "the recognizer did not finish"
    assert sleepy.controller.view.screen is Screen.ATTRACT
    assert sleepy.controller.view.answer is None
    assert not sleepy.speaker.said


def test_frames_keep_coming_while_the_speaker_talks_slowly() -> None:
    rig = build_rig(ScriptedRecognizer([QUESTION]), WordSpeaker(word_s=0.25))
    try:
        rig.kiosk.tap(rig.kiosk.ids("talk"))
        frames_while(rig, lambda: not rig.controller.view.speaking)
        rig.kiosk.frames(2)
        assert rig.controller.view.speaking and rig.kiosk.screen.name == Screen.ANSWER.value

        drawn = frames_while(rig, lambda: rig.controller.view.speaking, at_most=40)
        said = rig.controller.view.said

        assert drawn >= 20 and rig.controller.view.speaking, \
            f"{drawn} frames drawn; speaking {rig.controller.view.speaking}"
        rig.kiosk.tap(rig.kiosk.ids("speech"))  # "Stop", while the answer is being said
        rig.kiosk.settle()
        view = rig.controller.view
        assert not view.speaking and said <= view.said < len(view.spoken)
    finally:
        rig.close()
