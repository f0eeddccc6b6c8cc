"""Simulated visitors of the touchscreen app: the real ``KioskApp`` in SDL's offscreen window
over the real answerer on content/demo, with a fake microphone, recognizer, speaker and clock
(``build_rig``), and the visits they play, checking what the screen shows after each step
(``Visits``). Used by ``bench/soak.py`` and the UI tests."""

from __future__ import annotations

import random
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kiosk.ui.harness  # noqa: E402, I001 - first: Kivy's settings for the offscreen window
import numpy as np  # noqa: E402

from kiosk.assembly import assemble  # noqa: E402
from kiosk.audio.wav import RATE  # noqa: E402
from kiosk.events import Transcript  # noqa: E402
from kiosk.paths import DataDir, resolve_data_dir  # noqa: E402
from kiosk.ports import Samples  # noqa: E402
from kiosk.settings import Settings  # noqa: E402
from kiosk.testing import (  # noqa: E402
    EnergyVad,
    ManualClock,
    SamplesMicrophone,
    ScriptedRecognizer,
    WordSpeaker,
)
from kiosk.ui.controller import Controller, Screen  # noqa: E402


DEMO = ROOT / "content" / "demo"
OFF_TOPIC = {
    "fr": ["Quel temps fera-t-il demain ?", "Comment réussir une pâte à crêpes ?",
           "Y a-t-il un tableau avec un chien ?", "Quel est le tableau le plus ancien ici ?"],
    "en": ["What will the weather be like tomorrow?", "How do I cook pasta?",
           "Is there a painting with a dog?", "Which one has a boat?"],
    "es": ["¿Qué tiempo hará mañana?", "¿Cómo se hace una paella?",
           "¿Hay algún cuadro con un perro?", "¿Me recomienda un hotel barato?"],
}
AMBIGUOUS = {  # no work named: the answerer usually asks which one
    "fr": ["Parlez-moi de Monet", "Qui était le modèle ?", "Que signifie ce tableau ?"],
    "en": ["Tell me about Monet", "Who is the woman?", "When was it painted?"],
    "es": ["¿Quién fue la modelo?", "¿Qué significa el cuadro?", "¿Es un lugar real?"],
}
ANSWERED = (Screen.ANSWER, Screen.CLARIFY, Screen.UNKNOWN)


class BatchRecognizer:
    """``ScriptedRecognizer`` without ``stream``: the pipeline hands it the whole utterance
    at the end, as it does Whisper (and its ``delay_s`` sleep happens on the worker)."""

    def __init__(self, scripted: ScriptedRecognizer) -> None:
        self.scripted = scripted
        self.started = threading.Event()
        """Set when a transcription begins (the worker is then asleep in it)."""

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        self.started.set()
        return self.scripted.transcribe(audio, lang, hotwords)


def noise(seconds: float, seed: int = 0) -> Samples:
    """A loud burst EnergyVad calls speech."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.1, int(seconds * RATE)).astype(np.float32)


@dataclass
class Rig:
    """The app in the offscreen window and the fakes it runs on."""

    kiosk: kiosk.ui.harness.OffscreenKiosk
    controller: Controller
    recognizer: ScriptedRecognizer
    speaker: WordSpeaker
    clock: ManualClock
    audio: Samples = field(default_factory=lambda: noise(1.0))
    """What the microphone hears on the next turn (then silence)."""
    realtime: bool = False
    """The microphone delivers at the pace of speech."""

    def listen(self) -> tuple[SamplesMicrophone, EnergyVad]:
        return SamplesMicrophone(self.audio, realtime=self.realtime), EnergyVad()

    def close(self) -> None:
        self.kiosk.close()


def build_rig(recognizer: ScriptedRecognizer | None = None,
              speaker: WordSpeaker | None = None, batch: bool = False) -> Rig:
    """The real app over the real answerer on content/demo, with a fake microphone,
    recognizer, speaker and clock (``batch``: the recognizer gets whole utterances)."""
    settings = Settings()
    parts = assemble(settings, DataDir(resolve_data_dir()), DEMO)
    recognizer = recognizer or ScriptedRecognizer([])
    parts.recognizer = BatchRecognizer(recognizer) if batch else recognizer  # the fakes
    parts.speaker = words = speaker or WordSpeaker()
    pipeline = parts.pipeline()
    clock = ManualClock()
    holder: list[Rig] = []
    controller = Controller(pipeline, parts.content.pack,
                            idle_reset_s=settings.session.idle_reset_s,
                            listen=lambda: holder[0].listen(), clock=clock,
                            content=parts.content.label)
    app = kiosk.ui.harness.OffscreenKiosk(controller, images=parts.root)
    rig = Rig(app, controller, recognizer, words, clock)
    holder.append(rig)
    return rig


# -- a visitor -------------------------------------------------------------------------------


class Visits:
    """Plays visits on a rig, checking what the screen shows after each step."""

    KINDS = ("talk", "browse", "ambiguous", "off_topic", "cancel", "stop", "silent", "batch")
    WEIGHTS = (34, 24, 8, 8, 8, 8, 4, 6)

    def __init__(self, rig: Rig, seed: int = 0) -> None:
        self.rig = rig
        self.k = rig.kiosk
        self.c = rig.controller
        self.rng = random.Random(seed)
        self.burst = noise(1.0, seed)
        self.curated: dict[str, list[str]] = {lang: [] for lang in ("fr", "en", "es")}
        pack = self.c.pack
        for pairs in [e.qa for e in pack.exhibits] + [pack.faq]:
            for pair in pairs:
                for lang, asked in pair.questions.items():
                    self.curated.setdefault(lang, []).extend(asked)
        self.steps: Counter[str] = Counter()
        """What was done, by kind (visits, taps, turns...)."""
        self.failed: list[str] = []
        """Checks that failed: what the screen showed instead."""
        self.faults: list[str] = []
        """Faults the controller recorded (its ``errors``)."""
        self.crashes: list[str] = []
        """Visits that raised, with their traceback's last line."""

    # -- one visit ------------------------------------------------------------------------
    def visit(self) -> None:
        self.steps["visits"] += 1
        try:
            if self.rng.random() < 0.3:
                self.choose_language(self.rng.choice(self.c.languages))
            kind = self.rng.choices(self.KINDS, self.WEIGHTS)[0]
            self.steps[kind] += 1
            getattr(self, kind)()
            for _ in range(self.rng.choice((0, 0, 1, 1, 2))):
                self.follow_up()
            self.end()
        except Exception as exc:  # noqa: BLE001 - counted and shown; the soak goes on
            self.crashes.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:200])
            if len(self.crashes) <= 3:
                traceback.print_exc()
            self.recover()
        self.collect_faults()

    def collect_faults(self) -> None:
        while self.c.errors:
            self.faults.append(self.c.errors.popleft()[1])
        self.rig.recognizer.heard.clear()  # the fakes' own records: not the app's memory
        self.rig.speaker.said.clear()

    def recover(self) -> None:
        self.rig.speaker.word_s, self.rig.realtime = 0.0, False
        self.c.reset()
        self.k.settle()

    def check(self, what: str, ok: bool) -> None:
        if not ok:
            view = self.c.view
            self.failed.append(f"{what}: screen {self.k.screen.name}, view {view.screen}, "
                               f"notice {view.notice!r}, question {view.question!r}")

    # -- what a visitor does ----------------------------------------------------------------
    def choose_language(self, lang: str) -> None:
        if self.k.screen.name != Screen.ATTRACT.value:
            self.k.tap(self.k.ids("home"))
            self.k.settle()
        from kiosk.i18n import language_name

        self.k.tap(language_name(lang))
        self.k.settle()
        self.steps["language taps"] += 1
        self.check(f"language {lang}", self.c.view.lang == lang)

    def voice_turn(self, question: str, lang: str, audio: Samples | None = None) -> None:
        """Tap to talk; the microphone hears ``audio``, the recognizer ``question``."""
        self.rig.recognizer.script[:] = [(question, lang)]
        self.rig.audio = self.burst if audio is None else audio
        ids = self.k.screen.ids
        self.k.tap(ids["talk"] if "talk" in ids else ids["another"])
        self.steps["voice turns"] += 1

    def question(self, kind: str = "curated") -> str:
        lang = self.c.view.lang
        pool = {"curated": self.curated, "off_topic": OFF_TOPIC, "ambiguous": AMBIGUOUS}[kind]
        return self.rng.choice(pool[lang])

    def talk(self) -> None:
        self.voice_turn(self.question(), self.c.view.lang)
        self.k.settle()
        self.check("voice turn", self.c.view.screen in ANSWERED and not self.c.view.notice)

    def ambiguous(self) -> None:
        self.voice_turn(self.question("ambiguous"), self.c.view.lang)
        self.k.settle()
        self.check("ambiguous turn", self.c.view.screen in ANSWERED)
        if self.c.view.screen is Screen.CLARIFY:
            self.steps["clarify screens"] += 1
            self.follow_up()

    def off_topic(self) -> None:
        self.voice_turn(self.question("off_topic"), self.c.view.lang)
        self.k.settle()
        self.check("off-topic turn", self.c.view.screen in (Screen.UNKNOWN, Screen.ANSWER))

    def batch(self) -> None:
        """A turn with a whole-utterance recognizer (like Whisper) instead of a streaming one."""
        pipeline = self.c.pipeline
        pipeline.recognizer = BatchRecognizer(self.rig.recognizer)
        try:
            self.talk()
        finally:
            pipeline.recognizer = self.rig.recognizer

    def browse(self) -> None:
        self.k.tap(self.k.ids("browse"))
        self.k.settle()
        self.check("browse", self.k.screen.name == Screen.BROWSE.value)
        cards = list(self.k.ids("grid").children)
        self.k.tap(self.rng.choice(cards))
        self.k.settle()
        self.check("exhibit page", self.k.screen.name == Screen.EXHIBIT.value)
        questions = list(self.k.ids("questions").children)
        if questions:
            self.k.tap(self.rng.choice(questions))
            self.k.settle()
            self.steps["tapped questions"] += 1
            self.check("tapped question", self.c.view.screen in ANSWERED)

    def cancel(self) -> None:
        """Cancel while the kiosk listens (the microphone at the pace of speech)."""
        before = self.c.view.answer
        self.rig.realtime = True
        try:
            self.voice_turn(self.question(), self.c.view.lang, noise(3.0))
            self.k.wait(lambda: self.c.view.screen is Screen.LISTENING and self.c.view.level > 0)
            self.k.tap(self.k.ids("cancel"))
            self.k.settle()
        finally:
            self.rig.realtime = False
        expected = Screen.ATTRACT if before is None else self.c.view.screen
        self.steps["cancels"] += 1
        self.check("cancel", self.c.view.screen is expected and self.c.view.screen
                   is not Screen.LISTENING and self.c.view.answer is before)

    def stop(self) -> None:
        """Stop the answer while it is said."""
        self.rig.speaker.word_s = 0.02
        try:
            self.voice_turn(self.question(), self.c.view.lang)
            self.k.wait(lambda: self.c.view.speaking and self.k.screen.name == "answer"
                        or not self.c.busy)
            if self.c.view.speaking:
                self.k.tap(self.k.ids("speech"))
                self.steps["stops"] += 1
            self.k.settle()
        finally:
            self.rig.speaker.word_s = 0.0
        self.check("stop", not self.c.view.speaking and self.c.view.screen in ANSWERED)

    def silent(self) -> None:
        """The visitor taps and says nothing."""
        self.voice_turn("", self.c.view.lang, np.zeros(RATE // 10, np.float32))
        self.k.settle()
        self.check("heard nothing", self.c.view.notice == "heard_nothing")

    def follow_up(self) -> None:
        """Tap a suggestion, a follow-up or a clarify choice, if the screen offers one."""
        box = {"answer": "suggestions", "clarify": "choices", "unknown": "choices"}.get(
            self.k.screen.name)
        buttons = list(self.k.ids(box).children) if box else []
        if not buttons:
            return
        self.k.tap(self.rng.choice(buttons))
        self.k.settle()
        self.steps["follow-up taps"] += 1
        self.check("follow-up", self.c.view.screen in ANSWERED)

    def end(self) -> None:
        """'Start again' sometimes; then the visitor leaves and the idle reset comes."""
        if self.rng.random() < 0.5 and "home" in self.k.screen.ids:
            self.k.tap(self.k.ids("home"))
            self.k.settle()
            self.check("start again", self.c.view.screen is Screen.ATTRACT)
        self.rig.clock.now += self.c.idle_reset_s + 1
        if self.rng.random() < 0.01:  # the app's own once-a-second tick (real time passes)
            self.k.wait(lambda: self.c.view.screen is Screen.ATTRACT and self.c.view.answer
                        is None and self.c.view.lang == self.c.pipeline.session.default_language)
        else:
            self.c.tick()  # what that tick calls, without waiting up to a second for it
        self.k.settle()
        self.steps["idle resets"] += 1
        view = self.c.view
        self.check("idle reset", view.screen is Screen.ATTRACT and view.answer is None
                   and not view.question and not view.large_text
                   and view.lang == self.c.pipeline.session.default_language)

    def answers_left_on_screen(self, count: int, seconds: float = 1.2) -> None:
        """``count`` answers, each left on screen for ``seconds`` of real time (drawn at the
        app's pace) before the visitor leaves."""
        for _ in range(count):
            self.talk()
            self.k.settle()
            self.k.linger(seconds)
            self.end()
        self.collect_faults()

    def closing_visit(self) -> None:
        """The same visit every time, so every screen holds the same widgets before a probe."""
        self.c.reset()
        self.k.settle()
        self.k.tap(self.k.ids("browse"))
        self.k.settle()
        self.k.tap(self.k.ids("grid").children[-1])
        self.k.settle()
        self.k.tap(self.k.ids("questions").children[-1])
        self.k.settle()
        # the "which one?" screen keeps its last choices: the same ones before each probe,
        # from the first of these questions that the answerer does not know the work of
        for lang, question in [(lang, q) for lang, qs in AMBIGUOUS.items() for q in qs]:
            self.voice_turn(question, lang)
            self.k.settle()
            if self.c.view.screen is Screen.CLARIFY:
                break
        self.voice_turn(OFF_TOPIC["fr"][0], "fr")
        self.k.settle()
        self.c.reset()
        self.k.settle()
        self.collect_faults()
        self.k.linger(1.0)  # scroll bars fade, textures' triggers fire
