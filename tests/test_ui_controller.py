"""The touchscreen's logic without a window: turns by touch and by voice, what each screen is
given, calm faults and recovery, idle reset forgetting the visit, and new content taken
between conversations only. The real answerer over the demo pack, with the model-free encoder:
the controller is under test here, not the answers (``tests/test_heldout.py`` has those). One
test needs the real encoder's "which one?" over two works by one artist: it is marked ``models``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from kiosk.errors import AsrError
from kiosk.events import AnswerKind, Transcript
from kiosk.pipeline import Pipeline
from kiosk.qa.answerer import KioskAnswerer
from kiosk.runtime import open_content
from kiosk.session import Session
from kiosk.testing import (
    EnergyVad,
    HashingEncoder,
    ManualClock,
    SamplesMicrophone,
    ScriptedRecognizer,
    WordSpeaker,
)
from kiosk.ui.controller import Controller, Screen, View
from tests.conftest import DATA, DEMO


@pytest.fixture(scope="module")
def hashed() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture(scope="module")
def hashed_demo(hashed: HashingEncoder) -> Any:
    return open_content(DEMO, hashed)


def speech_burst() -> np.ndarray:
    """One second of loud noise: the energy VAD hears 'speech', then silence follows."""
    return np.random.default_rng(0).normal(0, 0.2, 16000).astype(np.float32)


def kiosk(demo: Any, encoder: Any, script: list[tuple[str, str]] | None = None,
          recognizer: Any = None, clock: ManualClock | None = None,
          mic_audio: np.ndarray | None = None, word_s: float = 0.0, realtime: bool = False,
          ) -> tuple[Controller, list[View], WordSpeaker]:
    answerer = KioskAnswerer(demo.pack, demo.units, demo.vectors, encoder)
    museum = demo.pack.museum
    session = Session(museum.default_language, list(museum.languages))
    speaker = WordSpeaker(word_s)
    recognizer = recognizer or ScriptedRecognizer(script or [])
    pipeline = Pipeline(answerer, session, recognizer, speaker=speaker)
    audio = speech_burst() if mic_audio is None else mic_audio
    slow: list[bool] = []

    def listen() -> tuple[SamplesMicrophone, EnergyVad]:
        return SamplesMicrophone(audio, silence_s=2.0, realtime=realtime), EnergyVad()

    controller = Controller(pipeline, demo.pack, idle_reset_s=60, clock=clock or ManualClock(),
                            listen=listen, slow_speech=slow.append, content="demo")
    controller.slow = slow  # type: ignore[attr-defined]
    views: list[View] = []
    controller.on_change = views.append
    return controller, views, speaker


def settle(controller: Controller) -> None:
    assert controller.wait_idle(30), "the turn did not finish"


@pytest.fixture
def made() -> Iterator[list[Controller]]:
    made: list[Controller] = []
    yield made
    for controller in made:
        controller.close()


def test_tapped_question_is_answered_shown_and_spoken_word_by_word(hashed_demo: Any, hashed: Any,
                                                                   made: list[Controller]) -> None:
    controller, views, speaker = kiosk(hashed_demo, hashed)
    made.append(controller)
    controller.choose_language("en")
    controller.ask("Who painted the milkmaid?")
    assert controller.view.thinking  # shown at once, before the answer exists
    settle(controller)
    view = controller.view
    assert view.screen is Screen.ANSWER
    assert view.answer is not None and view.answer.exhibit_id == "the-milkmaid"
    assert "Vermeer" in view.answer.text
    assert speaker.said and view.answer.text in speaker.said[-1][0]
    assert view.said == len(view.spoken) and not view.speaking
    caption_steps = [v.said for v in views if v.spoken == view.spoken]
    assert len(set(caption_steps)) > 3  # the caption moved word by word


def test_voice_turn_shows_the_level_and_partial_words_then_the_answer(
        hashed_demo: Any, hashed: Any, made: list[Controller]) -> None:
    controller, views, _ = kiosk(hashed_demo, hashed, script=[("who painted the milkmaid", "en")])
    made.append(controller)
    controller.choose_language("en")
    controller.talk()
    assert controller.view.screen is Screen.LISTENING
    settle(controller)
    assert any(v.screen is Screen.LISTENING and v.level > 0.1 for v in views)
    partials = [v.partial for v in views if v.screen is Screen.LISTENING and v.partial]
    assert partials and partials[0] != partials[-1]  # words appear as they are heard
    assert controller.view.screen is Screen.ANSWER
    assert controller.view.question == "who painted the milkmaid"
    assert controller.view.answer is not None
    assert controller.view.answer.exhibit_id == "the-milkmaid"


@pytest.mark.models
def test_clarify_and_unknown_get_their_screens_and_choices(demo: Any, encoder: Any,
                                                           made: list[Controller]) -> None:
    controller, _, _ = kiosk(demo, encoder)
    made.append(controller)
    controller.choose_language("en")
    controller.ask("Tell me about the Monet")
    settle(controller)
    assert controller.view.screen is Screen.CLARIFY
    choices = controller.view.answer.suggestions  # type: ignore[union-attr]
    assert {c.exhibit_id for c in choices} == {"impression-sunrise",
                                               "bridge-over-a-pond-of-water-lilies"}
    controller.ask(choices[0].question, choices[0].exhibit_id)  # tapping a choice answers it
    settle(controller)
    assert controller.view.screen is Screen.ANSWER
    assert controller.view.answer.exhibit_id == choices[0].exhibit_id  # type: ignore[union-attr]
    controller.ask("Who won the world cup?")
    settle(controller)
    assert controller.view.screen is Screen.UNKNOWN
    assert controller.view.answer.kind is AnswerKind.UNKNOWN  # type: ignore[union-attr]
    assert controller.view.answer.suggestions  # type: ignore[union-attr]


def test_heard_nothing_is_a_calm_notice_on_the_attract_screen(hashed_demo: Any, hashed: Any,
                                                              made: list[Controller]) -> None:
    silence = np.zeros(1600, np.float32)
    controller, _, _ = kiosk(hashed_demo, hashed, mic_audio=silence)
    made.append(controller)
    controller.talk()
    settle(controller)
    assert controller.view.screen is Screen.ATTRACT
    assert controller.view.notice == "heard_nothing"


class FailingOnce:
    """A recognizer whose first transcription fails (a crashed stage), then recovers."""

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, audio: Any, lang: str | None = None, hotwords: Any = ()) -> Transcript:
        self.calls += 1
        if self.calls == 1:
            raise AsrError("Whisper failed: out of memory — restart the kiosk")
        return Transcript("who painted the milkmaid", lang or "en")


def test_a_failing_stage_is_a_calm_notice_logged_for_admin_and_the_next_turn_works(
        hashed_demo: Any, hashed: Any, made: list[Controller]) -> None:
    controller, _, _ = kiosk(hashed_demo, hashed, recognizer=FailingOnce())
    made.append(controller)
    controller.talk()
    settle(controller)
    assert controller.view.screen is Screen.ATTRACT and controller.view.notice == "fault"
    assert "Whisper failed" in controller.errors[-1][1]
    controller.browse()  # touch browsing keeps working
    assert controller.view.screen is Screen.BROWSE and controller.view.notice == ""
    controller.talk()
    settle(controller)
    assert controller.view.screen is Screen.ANSWER


def test_idle_reset_forgets_the_whole_visit(hashed_demo: Any, hashed: Any,
                                            made: list[Controller]) -> None:
    clock = ManualClock(1000.0)
    controller, _, _ = kiosk(hashed_demo, hashed, clock=clock)
    made.append(controller)
    controller.choose_language("es")
    controller.set_preference("large_text", True)
    controller.set_preference("slow_speech", True)
    controller.ask("¿Quién pintó La lechera?")
    settle(controller)
    session = controller.pipeline.session
    assert session.current_exhibit == "the-milkmaid" and session.history
    clock.now += 59
    assert not controller.tick()  # not yet
    clock.now += 2
    assert controller.tick()
    assert controller.view == View(lang="fr", content="demo")
    assert session.language == "fr" and session.current_exhibit is None
    assert not session.history
    assert controller.slow[-1] is False  # type: ignore[attr-defined]
    clock.now += 600
    assert not controller.tick()  # nothing left to forget


def test_a_turn_in_progress_is_not_idle(hashed_demo: Any, hashed: Any,
                                        made: list[Controller]) -> None:
    clock = ManualClock(1000.0)
    controller, _, speaker = kiosk(hashed_demo, hashed, clock=clock, word_s=0.05)
    made.append(controller)
    controller.ask("Who painted the milkmaid?")
    while not speaker.said:
        threading.Event().wait(0.01)
    clock.now += 600
    assert not controller.tick()  # still speaking to somebody
    settle(controller)
    assert controller.view.screen is Screen.ANSWER


def test_new_content_waits_for_the_end_of_the_conversation(hashed_demo: Any, hashed: Any,
                                                           made: list[Controller]) -> None:
    clock = ManualClock(1000.0)
    controller, _, _ = kiosk(hashed_demo, hashed, clock=clock)
    made.append(controller)
    other = open_content(DATA / "packs" / "fr-en-small", hashed)
    new_answerer = KioskAnswerer(other.pack, other.units, other.vectors, hashed)
    controller.choose_language("en")
    controller.ask("Who painted the milkmaid?")
    settle(controller)
    controller.offer_content(new_answerer, other.pack, "v2")
    assert controller.pack is hashed_demo.pack  # mid-conversation: nothing changes
    controller.ask("What is she making?")
    settle(controller)
    assert controller.view.answer.exhibit_id == "the-milkmaid"  # type: ignore[union-attr]
    clock.now += 61
    assert controller.tick()
    assert controller.pack is other.pack and controller.pipeline.answerer is new_answerer
    assert controller.view.content == "v2" and controller.view.generation == 1
    # at rest, a new version is taken at once
    demo = hashed_demo
    controller.offer_content(KioskAnswerer(demo.pack, demo.units, demo.vectors, hashed),
                             demo.pack, "v3")
    assert controller.pack is hashed_demo.pack and controller.view.content == "v3"


def test_cancel_while_listening_returns_to_where_the_visitor_was(
        hashed_demo: Any, hashed: Any, made: list[Controller]) -> None:
    long_speech = np.concatenate([speech_burst()] * 8)
    controller, _, _ = kiosk(hashed_demo, hashed, script=[("who painted the milkmaid", "en")],
                             mic_audio=long_speech, realtime=True)
    made.append(controller)
    controller.talk()
    controller.cancel()
    assert controller.view.screen is Screen.ATTRACT
    settle(controller)
    assert controller.view.screen is Screen.ATTRACT and controller.view.answer is None
