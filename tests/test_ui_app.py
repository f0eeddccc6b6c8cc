"""The real Kivy app in an offscreen window, driven by simulated touches, asserting on what
the screen shows after real pipeline events (real answerer over the demo pack; fakes only for
the microphone, the recognizer and the speakers). Also `kiosk run` itself."""

from __future__ import annotations

import gc
import glob
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kiosk.ui.harness as harness
from kiosk.errors import AsrError
from kiosk.events import Transcript
from kiosk.i18n import translate
from kiosk.pipeline import Pipeline
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from kiosk.session import Session
from kiosk.testing import (
    EnergyVad,
    ManualClock,
    SamplesMicrophone,
    ScriptedRecognizer,
    WordSpeaker,
)
from kiosk.ui.controller import Controller, Screen
from kiosk.ui.launch import display_problem
from kiosk.ui.pictures import CARD_SIDE
from kiosk.ui.widgets import Picture
from tests.conftest import DEMO, ROOT

pytestmark = pytest.mark.models


def burst(seconds: float = 1.0) -> np.ndarray:
    return np.random.default_rng(1).normal(0, 0.2, int(16000 * seconds)).astype(np.float32)


def make_kiosk(demo: Any, encoder: Any, recognizer: Any = None, clock: ManualClock | None = None,
               realtime: bool = False, word_s: float = 0.0) -> harness.OffscreenKiosk:
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    museum = demo.pack.museum
    session = Session(museum.default_language, list(museum.languages))
    pipeline = Pipeline(answerer, session, recognizer or ScriptedRecognizer([]),
                        speaker=WordSpeaker(word_s))

    def listen() -> tuple[SamplesMicrophone, EnergyVad]:
        return SamplesMicrophone(burst(), silence_s=2.0, realtime=realtime), EnergyVad()

    controller = Controller(pipeline, demo.pack, idle_reset_s=90, listen=listen,
                            clock=clock or ManualClock(), content="demo")
    return harness.OffscreenKiosk(controller, images=DEMO)


@pytest.fixture
def kiosks() -> Iterator[list[harness.OffscreenKiosk]]:
    made: list[harness.OffscreenKiosk] = []
    yield made
    for k in made:
        k.close()


def test_a_whole_visit_by_touch(demo: Any, encoder: Any,
                                kiosks: list[harness.OffscreenKiosk]) -> None:
    clock = ManualClock(5000.0)
    k = make_kiosk(demo, encoder, clock=clock)
    kiosks.append(k)
    # attract, in the pack's default language, with the languages named
    assert k.screen.name == "attract"
    texts = k.texts()
    assert "Touchez et parlez" in texts and "Voir les œuvres" in texts
    assert {"Français", "English", "Español"} <= set(texts)
    k.tap("English")
    k.settle()
    assert "Tap and ask" in k.texts() and "Ask me about the works in this room" in k.texts()
    # browse: a card per work on view
    k.tap("Browse the works")
    k.settle()
    assert k.screen.name == "browse"
    cards = k.ids("grid").children
    assert len(cards) == len(demo.pack.exhibits)
    milkmaid = next(c for c in cards if c.exhibit_id == "the-milkmaid")
    assert milkmaid.title == "The Milkmaid" and milkmaid.artist == "Johannes Vermeer"
    assert milkmaid.source.endswith("the-milkmaid.png")
    picture = next(w for w in milkmaid.walk() if isinstance(w, Picture))
    assert picture.texture is not None and max(picture.texture.size) <= CARD_SIDE  # reduced
    k.tap(milkmaid)
    k.settle()
    assert k.screen.name == "exhibit"
    assert k.ids("title").text == "The Milkmaid"
    questions = [b.text for b in k.ids("questions").children]
    assert questions
    asked = questions[-1]  # the first question on the page (children are listed last first)
    # ask by touch
    k.tap(asked)
    k.wait_screen(Screen.ANSWER)
    answer = k.controller.view.answer
    assert answer is not None and answer.exhibit_id == "the-milkmaid"
    assert answer.text[:30] in k.ids("answer").text
    assert k.ids("title").text == "The Milkmaid"
    assert "Johannes Vermeer" in k.ids("meta").text
    k.settle()
    assert k.ids("image").path.endswith("the-milkmaid.png")
    assert tuple(k.ids("image").texture.size) == (800, 600)  # the file's own size: it fits
    assert k.ids("source").text == "From the museum's notes on The Milkmaid"
    assert "[color=" in k.ids("answer").text  # the spoken words are lit (captions)
    # a follow-up, tapped
    follow = [b for b in k.ids("suggestions").children]
    assert 2 <= len(follow) <= 3
    question = follow[-1].text
    k.tap(follow[-1])
    k.wait(lambda: k.controller.view.question == question and not k.controller.busy)
    k.settle()
    assert k.screen.name == "answer"
    assert k.controller.view.answer.exhibit_id == "the-milkmaid"  # type: ignore[union-attr]
    # the visitor walks away: the visit is forgotten
    clock.now += 91
    k.wait(lambda: k.screen.name == "attract" and k.controller.view.answer is None, 5)
    assert "Touchez et parlez" in k.texts()
    assert k.controller.pipeline.session.current_exhibit is None
    assert not k.controller.pipeline.session.history


def test_a_spoken_question_shows_what_is_heard_then_the_answer(
        demo: Any, encoder: Any, kiosks: list[harness.OffscreenKiosk]) -> None:
    k = make_kiosk(demo, encoder, ScriptedRecognizer([("who painted the milkmaid", "en")]),
                   realtime=True)
    kiosks.append(k)
    k.tap("English")
    k.tap("Tap and ask")
    k.wait(lambda: k.screen.name == "listening" and k.ids("partial").text != "")
    assert "I'm listening…" in k.texts()
    assert k.ids("meter").level > 0
    assert k.ids("partial").text.strip("“”") in "who painted the milkmaid"
    k.wait_screen(Screen.ANSWER)
    assert "Vermeer" in k.ids("answer").text
    assert k.ids("asked").text == "You asked: “who painted the milkmaid”"


def test_cancel_while_listening(demo: Any, encoder: Any,
                                kiosks: list[harness.OffscreenKiosk]) -> None:
    k = make_kiosk(demo, encoder, ScriptedRecognizer([("who painted the milkmaid", "en")]),
                   realtime=True)
    kiosks.append(k)
    k.tap("Touchez et parlez")
    k.wait(lambda: k.screen.name == "listening")
    k.tap("Annuler")
    k.settle()
    assert k.screen.name == "attract" and k.controller.view.answer is None


class Broken:
    """A recognizer that always fails, as a crashed stage would."""

    def transcribe(self, audio: Any, lang: str | None = None, hotwords: Any = ()) -> Transcript:
        raise AsrError("the recognizer crashed — it is being restarted")


def test_a_failing_stage_shows_a_calm_message_and_browsing_still_works(
        demo: Any, encoder: Any, kiosks: list[harness.OffscreenKiosk]) -> None:
    k = make_kiosk(demo, encoder, Broken())
    kiosks.append(k)
    k.tap("English")
    k.tap("Tap and ask")
    k.settle()
    assert k.screen.name == "attract"
    notice = k.ids("notice").text
    assert notice.startswith("Sorry, I can't listen right now")
    assert "crashed" not in " ".join(k.texts())  # no technical message for visitors
    k.tap("Browse the works")
    k.settle()
    assert k.screen.name == "browse" and k.ids("grid").children


def test_clarify_choices_are_big_buttons_that_answer(demo: Any, encoder: Any,
                                                     kiosks: list[harness.OffscreenKiosk]) -> None:
    k = make_kiosk(demo, encoder)
    kiosks.append(k)
    k.controller.choose_language("en")
    k.controller.ask("Tell me about the Monet")
    k.wait_screen(Screen.CLARIFY)
    assert "Did you mean…?" in k.texts()
    choices = list(reversed(k.ids("choices").children))
    assert [c.text for c in choices] == [
        "Bridge over a Pond of Water Lilies — Claude Monet", "Impression, Sunrise — Claude Monet"]
    k.tap(choices[1])
    k.wait_screen(Screen.ANSWER)
    assert k.ids("title").text == "Impression, Sunrise"


def test_unknown_is_honest_and_offers_what_it_knows(demo: Any, encoder: Any,
                                                    kiosks: list[harness.OffscreenKiosk]) -> None:
    k = make_kiosk(demo, encoder)
    kiosks.append(k)
    k.controller.choose_language("en")
    k.controller.ask("Who won the world cup?")
    k.wait_screen(Screen.UNKNOWN)
    assert k.controller.view.answer is not None
    assert k.controller.view.answer.text in k.ids("text").text
    assert k.ids("lead").text == "I can tell you about:"
    assert len(k.ids("choices").children) >= 2


def test_accessibility_toggles_change_the_theme_and_are_forgotten_after_the_visit(
        demo: Any, encoder: Any, kiosks: list[harness.OffscreenKiosk]) -> None:
    clock = ManualClock(5000.0)
    k = make_kiosk(demo, encoder, clock=clock)
    kiosks.append(k)
    body = k.app.theme.body
    k.tap("Texte plus grand")
    k.tap("Contraste élevé")
    k.settle()
    assert k.app.theme.body > body
    assert list(k.app.theme.bg) == [0, 0, 0, 1]
    clock.now += 91
    k.wait(lambda: k.app.theme.body == body, 5)
    assert list(k.app.theme.bg) != [0, 0, 0, 1]


def test_new_content_reaches_the_screen_between_conversations(
        demo: Any, encoder: Any, kiosks: list[harness.OffscreenKiosk]) -> None:
    k = make_kiosk(demo, encoder)
    kiosks.append(k)
    smaller = open_content(ROOT / "tests" / "data" / "packs" / "fr-en-small", encoder)
    k.tap("Voir les œuvres")
    k.settle()
    k.controller.offer_content(
        KioskAnswerer(smaller.pack, smaller.units, smaller.vectors, encoder), smaller.pack, "v2")
    k.frames(3)
    assert len(k.ids("grid").children) == len(demo.pack.exhibits)  # not mid-visit
    k.controller.reset()
    k.settle()
    k.controller.browse()
    k.settle()
    assert len(k.ids("grid").children) == len(smaller.pack.exhibits)


# -- `kiosk run` ---------------------------------------------------------------------------------

def test_no_display_is_one_line_saying_what_to_do() -> None:
    assert display_problem({}, dri="/nonexistent/card*") is not None
    assert display_problem({"SDL_VIDEODRIVER": "offscreen"}, dri="/nonexistent/card*") is None
    assert display_problem({"DISPLAY": ":0"}, dri="/nonexistent/card*") is None
    if glob.glob("/dev/dri/card*"):
        pytest.skip("this machine has a DRM device: `kiosk run` would open a screen")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "run", "--content", str(DEMO)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "kiosk run --headless" in lines[0]


@pytest.mark.slow
def test_kiosk_run_opens_the_real_app_offscreen(tmp_path: Path) -> None:
    """The real command, real models, offscreen: a smoke check a technician can run too."""
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen"}
    command = [sys.executable, "-m", "kiosk.cli", "--set", "insights.enabled=false", "run",
               "--content", str(DEMO), "--windowed", "--size", "800x480", "--exit-after", "2"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    frames = int(line.split(": ")[2].split(" frames")[0])
    assert frames > 10 and "screen 'attract'" in line


def test_a_kiosk_without_a_microphone_invites_to_browse(
        demo: Any, encoder: Any, kiosks: list[harness.OffscreenKiosk]) -> None:
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    pipeline = Pipeline(answerer, Session("en", list(demo.pack.museum.languages)),
                        ScriptedRecognizer([]), speaker=WordSpeaker())
    controller = Controller(pipeline, demo.pack, idle_reset_s=90, listen=None,
                            clock=ManualClock(), content="demo")
    k = harness.OffscreenKiosk(controller, images=DEMO)
    kiosks.append(k)
    for size in ((800, 480), (480, 800)):
        gc.collect()  # the button out of the tree is still held (kv's ids are weak)
        k.resize(*size)
        k.settle()
        assert k.ids("talk").parent is None  # not hidden in place: gone, no gap
        browse = k.ids("browse")
        assert browse.parent.height == browse.height
        invitations = {translate(lang, "Discover the works in this room")
                       for lang in ("en", "fr", "es")}
        assert k.ids("invite").text in invitations  # (they take turns, in each language)
        assert "Tap and ask" not in k.texts()
    k.tap("Browse the works")
    k.settle()
    assert k.screen.name == "browse"


def test_each_new_app_is_the_one_its_kv_rules_see(demo: Any, encoder: Any,
                                                  kiosks: list[harness.OffscreenKiosk]) -> None:
    """Kivy's kv ``app`` proxy may catch a closed app again (a rule evaluated in the frame after
    its ``on_stop``, as happens under load); the next app's texts must still follow its own
    language, not the old app's."""
    from kivy.lang.parser import global_idmap

    old = make_kiosk(demo, encoder)
    old.tap("English")
    old.settle()
    old.close()
    object.__setattr__(global_idmap["app"], "_obj", old.app)  # the race, made certain
    new = make_kiosk(demo, encoder)
    kiosks.append(new)
    assert new.app.lang == "fr" and "Touchez et parlez" in new.texts()
