"""Soak: thousands of simulated visits through the real touchscreen app; then frame times while
turns run, and the cold start to the first frame. Prints tables.

    .venv/bin/python bench/soak.py                       # 10,000 visits, frames, cold start
    .venv/bin/python bench/soak.py --conversations 300   # a shorter soak
    .venv/bin/python bench/soak.py --only frames,cold    # some sections (soak, frames, cold)

The real ``KioskApp`` in SDL's offscreen window (``kiosk.ui.harness``), driven by simulated
taps, over the real answerer (ONNX encoder) on content/demo. The microphone is fake (a noise
burst, then silence, through ``EnergyVad``); ``ScriptedRecognizer`` hears the pack's curated
questions in fr/en/es and some unknown or out-of-scope ones; ``WordSpeaker`` says the answers.
Each visit mixes tap-to-talk, tapped follow-ups, browse → a work → one of its questions,
clarify choices, cancel while listening, stop while speaking, a turn that hears nothing and
language changes, and ends with "Start again" and/or the idle reset (a fake clock, ticked).

The soak draws frames uncapped (Kivy's maxfps 0: the same loop, more frames per second, so
10,000 visits take about 40 minutes on 2 cores); the frames section keeps the app's 60.
RSS is compared after a warm-up (5 % of the visits) and at the end; widgets are the live
``Widget`` objects after the same closing visit. The warm-up ends with answers left on screen
while real time passes (scroll bars fade, the screen redraws): on this machine the picture is
drawn by Mesa's llvmpipe (software OpenGL, no GPU), whose pools grow by about 50 MB over the
first few dozen such redraws and then stay (without this, rare real-time steps in the soak
raised RSS in steps; with GALLIUM_DRIVER=softpipe they do not). Its cost is a row of the
table. Exit status 1 when RSS grew ≥ 5 %, threads, widgets or clock intervals grew, a visit
crashed, a fault was recorded or a check failed.
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kiosk.ui.harness  # noqa: E402, I001 - first: Kivy's settings for the offscreen window
import numpy as np  # noqa: E402
from kivy.animation import Animation  # noqa: E402
from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from bench.qa import Table, show  # noqa: E402
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
from kiosk.ui.launch import build_kiosk  # noqa: E402

DEMO = ROOT / "content" / "demo"
GROWTH_LIMIT = 0.05
"""RSS may grow less than this share between the warm-up and the end."""
DRIVER_WARM_UP = 40
"""Answers left on screen in real time at the end of the warm-up."""
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
    parts = build_kiosk(settings, DataDir(resolve_data_dir()), DEMO, voice=False, speak=False)
    parts["controller"].close()  # ours takes the fakes through its constructor
    pipeline = parts["pipeline"]
    recognizer = recognizer or ScriptedRecognizer([])
    pipeline.recognizer = BatchRecognizer(recognizer) if batch else recognizer
    pipeline.speaker = speaker or WordSpeaker()
    clock = ManualClock()
    holder: list[Rig] = []
    controller = Controller(pipeline, parts["content"].pack,
                            idle_reset_s=settings.session.idle_reset_s,
                            listen=lambda: holder[0].listen(), clock=clock,
                            content=parts["content"].label)
    app = kiosk.ui.harness.OffscreenKiosk(controller, images=parts["images"])
    rig = Rig(app, controller, recognizer, pipeline.speaker, clock)
    holder.append(rig)
    return rig


# -- what to measure -------------------------------------------------------------------------


def status_kb(field_name: str) -> int:
    """A line of /proc/self/status, in kB (VmRSS now, VmHWM at peak)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field_name))


@dataclass(frozen=True)
class Probe:
    """The process and the window at one moment (after a full garbage collection)."""

    rss_kb: int
    """Resident memory."""
    threads: int
    """Live Python threads."""
    window_widgets: int
    """Widgets in the window's tree (the screen shown and everything in it)."""
    live_widgets: int
    """Widget objects alive anywhere (every screen, their lists, anything leaked)."""
    clock_intervals: int
    """Repeating events on Kivy's clock (one-shot ones come and go; a leaked interval stays)."""
    objects: int
    """Objects the garbage collector tracks."""


def _is_widget(thing: object) -> bool:
    try:
        return isinstance(thing, Widget)
    except ReferenceError:  # a weak proxy whose object is gone
        return False


def _animating(event: object) -> bool:
    """An Animation in flight (a scroll bar fading): repeating only until it ends."""
    callback = event.get_callback()  # type: ignore[attr-defined]
    return isinstance(getattr(callback, "__self__", None), Animation)


def probe() -> Probe:
    gc.collect()
    objects = gc.get_objects()
    live = sum(1 for o in objects if _is_widget(o))
    in_window = sum(sum(1 for _ in child.walk(restrict=True)) for child in Window.children)
    return Probe(status_kb("VmRSS"), threading.active_count(), in_window, live,
                 sum(1 for e in Clock.get_events() if e.loop and not _animating(e)),
                 len(objects))


class FaultLog(logging.Handler):
    """Counts the kiosk's warnings and errors (a failed turn logs one)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


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
        from kiosk.ui.strings import language_name

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
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                self.k.frames(1)
                time.sleep(0.005)
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
        self.voice_turn(AMBIGUOUS["fr"][0], "fr")
        self.k.settle()
        self.voice_turn(OFF_TOPIC["fr"][0], "fr")
        self.k.settle()
        self.c.reset()
        self.k.settle()
        self.collect_faults()
        end = time.monotonic() + 1.0  # scroll bars fade, textures' triggers fire
        while time.monotonic() < end:
            self.k.frames(1)
            time.sleep(0.01)


# -- the soak ----------------------------------------------------------------------------------


@dataclass
class SoakResult:
    visits: Visits
    measured: int
    """Visits after the warm-up."""
    start: Probe
    end: Probe
    turns: int
    seconds: float
    peak_kb: int
    faults_logged: list[str]
    rss_trend: list[int]
    driver_kb: int = 0
    driver_answers: int = 0
    """RSS added by the answers left on screen at the end of the warm-up."""

    @property
    def growth(self) -> float:
        return (self.end.rss_kb - self.start.rss_kb) / self.start.rss_kb

    @property
    def problems(self) -> list[str]:
        """Why the soak failed (empty when it passed)."""
        s, e, v = self.start, self.end, self.visits
        out = [f"RSS grew {self.growth * 100:.1f} %"] if self.growth >= GROWTH_LIMIT else []
        out += [f"{name} grew {a} → {b}" for name, a, b in (
            ("threads", s.threads, e.threads), ("window widgets", s.window_widgets,
             e.window_widgets), ("live widgets", s.live_widgets, e.live_widgets),
            ("clock intervals", s.clock_intervals, e.clock_intervals)) if b > a]
        out += [f"{len(v.crashes)} crashes"] if v.crashes else []
        out += [f"{len(v.faults)} faults"] if v.faults else []
        out += [f"{len(v.failed)} failed checks"] if v.failed else []
        return out


def soak(rig: Rig, conversations: int, warm_up: int | None = None, seed: int = 0,
         progress: Callable[[int, float, int], None] | None = None,
         driver_warm_up: int = DRIVER_WARM_UP) -> SoakResult:
    """``conversations`` visits; the probes after ``warm_up`` of them (5 %, ≥ 20) and at the
    end, each after the same closing visit."""
    visits = Visits(rig, seed)
    log = FaultLog()
    logging.getLogger("kiosk").addHandler(log)
    warm_up = max(20, conversations // 20) if warm_up is None else warm_up
    max_fps = Clock._max_fps
    Clock._max_fps = 0.0  # the same loop, uncapped (Kivy reads maxfps only at start-up)
    try:
        for _ in range(warm_up):
            visits.visit()
        before_driver = status_kb("VmRSS")
        visits.answers_left_on_screen(driver_warm_up)
        driver_kb = status_kb("VmRSS") - before_driver
        visits.closing_visit()
        start, turns0, t0 = probe(), rig.controller.turns, time.perf_counter()
        trend = []
        for i in range(conversations - warm_up):
            visits.visit()
            if progress and (i + 1) % max(1, (conversations - warm_up) // 10) == 0:
                trend.append(status_kb("VmRSS"))
                progress(i + 1, time.perf_counter() - t0, trend[-1])
        seconds = time.perf_counter() - t0
        visits.closing_visit()
        turns = rig.controller.turns - turns0
        end = probe()
    finally:
        Clock._max_fps = max_fps
        logging.getLogger("kiosk").removeHandler(log)
    return SoakResult(visits, conversations - warm_up, start, end, turns, seconds,
                      status_kb("VmHWM"), log.records, trend, driver_kb, driver_warm_up)


def soak_table(result: SoakResult, command: str) -> Table:
    s, e, v = result.start, result.end, result.visits
    table = Table(f"soak: {v.steps['visits']} visits through the real app (offscreen), real "
                  "answerer on content/demo, fake mic/recognizer/speaker", command,
                  ["", "after warm-up", "end", "change"])

    def row(name: str, a: int, b: int, mb: bool = False) -> None:
        if mb:
            table.rows.append([f"{name} (MB)", f"{a / 1024:.1f}", f"{b / 1024:.1f}",
                               f"{(b - a) / a * 100:+.1f} %"])
        else:
            table.rows.append([name, str(a), str(b), f"{b - a:+d}"])

    row("RSS (VmRSS)", s.rss_kb, e.rss_kb, mb=True)
    row("threads", s.threads, e.threads)
    row("widgets in the window tree", s.window_widgets, e.window_widgets)
    row("live Widget objects", s.live_widgets, e.live_widgets)
    row("clock intervals (repeating events)", s.clock_intervals, e.clock_intervals)
    row("Python objects (gc)", s.objects, e.objects)
    table.notes += [
        f"{result.measured} visits measured after {v.steps['visits'] - result.measured} of "
        f"warm-up: {result.turns} turns, {result.seconds:.0f} s, "
        f"{result.measured / result.seconds:.1f} visits/s; peak RSS (VmHWM) "
        f"{result.peak_kb / 1024:.1f} MB",
        f"end of the warm-up: {result.driver_answers} answers left on screen 1.2 s each added "
        f"{result.driver_kb / 1024:+.1f} MB (the GL driver's pools; see the docstring)",
        "RSS at each tenth (MB): " + " ".join(f"{kb / 1024:.1f}" for kb in result.rss_trend),
        "visits by kind: " + ", ".join(f"{k} {v.steps[k]}" for k in Visits.KINDS),
        "steps: " + ", ".join(f"{k} {n}" for k, n in v.steps.items()
                              if k not in Visits.KINDS and k != "visits"),
        f"crashes {len(v.crashes)}, faults recorded (controller.errors) {len(v.faults)}, "
        f"warnings logged {len(result.faults_logged)}, failed checks {len(v.failed)}",
        *[f"  {line}" for line in (v.crashes + v.faults + v.failed)[:8]],
        "verdict: " + ("; ".join(result.problems) or
                       f"ok (RSS grew < {GROWTH_LIMIT * 100:.0f} %; nothing else grew)"),
    ]
    return table


# -- frames while turns run -------------------------------------------------------------------


class FrameStamps:
    """When each frame ran (a clock callback every frame, like ``KioskApp.frames``)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._event = Clock.schedule_interval(lambda _dt: self.times.append(
            time.perf_counter()), 0)

    def intervals_ms(self) -> list[float]:
        return [(b - a) * 1000 for a, b in zip(self.times, self.times[1:], strict=False)]

    def close(self) -> None:
        self._event.cancel()


def frames_while(rig: Rig, start: Callable[[], None], turns: int,
                 prepare: Callable[[], None] = lambda: None) -> list[float]:
    """Frame intervals (ms) while ``turns`` turns run, each begun by ``start`` (a tap) on the
    screen ``prepare`` opens."""
    intervals: list[float] = []
    for _ in range(turns):
        rig.controller.reset()
        rig.kiosk.settle()
        prepare()
        rig.kiosk.settle()
        stamps = FrameStamps()
        start()
        while rig.controller.busy or not stamps.times:
            EventLoop.idle()  # what App.run's loop does: no sleeping between frames
        stamps.close()
        intervals += stamps.intervals_ms()
    return intervals


def frame_row(name: str, turns: int, intervals: list[float]) -> list[str]:
    values = np.array(intervals)
    return [name, str(turns), str(len(values)), f"{1000 / values.mean():.0f}",
            f"{np.percentile(values, 50):.1f}", f"{np.percentile(values, 95):.1f}",
            f"{values.max():.1f}"]


def frames_section(command: str) -> Table:
    """Frame intervals: idle, a tapped question (real answerer + speech), a voice turn with a
    recognizer that sleeps 2 s, a streaming voice turn at the pace of speech."""
    rig = build_rig(ScriptedRecognizer([]), WordSpeaker(0.02))
    visits = Visits(rig, seed=1)
    table = Table("frame intervals while turns run (offscreen 800×480, Kivy maxfps "
                  f"{int(Clock._max_fps)})", command,
                  ["", "turns", "frames", "frames/s", "p50 ms", "p95 ms", "max ms"])
    try:
        stamps = FrameStamps()
        rig.kiosk.frames(300)
        stamps.close()
        table.rows.append(frame_row("idle (attract screen)", 0, stamps.intervals_ms()))

        def exhibit() -> None:
            rig.controller.open_exhibit(rig.controller.pack.exhibits[0].id)

        def tapped() -> None:
            rig.kiosk.tap(rig.kiosk.ids("questions").children[-1])
        table.rows.append(frame_row("tapped question: real answerer, speech 20 ms/word", 10,
                                    frames_while(rig, tapped, 10, exhibit)))

        def spoken() -> None:
            visits.voice_turn(visits.question(), "fr")
        rig.recognizer.delay_s = 2.0
        rig.controller.pipeline.recognizer = BatchRecognizer(rig.recognizer)
        table.rows.append(frame_row("voice: recognizer sleeps 2 s, answer, speech", 3,
                                    frames_while(rig, spoken, 3)))
        rig.recognizer.delay_s = 0.0
        rig.controller.pipeline.recognizer = rig.recognizer
        rig.realtime = True
        table.rows.append(frame_row("voice: streaming at speech pace, answer, speech", 3,
                                    frames_while(rig, spoken, 3)))
        rig.realtime = False
    finally:
        rig.close()
    table.notes.append("an interval is the time between two frames of the app's loop "
                       "(EventLoop.idle, as App.run calls it); the turn runs on the "
                       "controller's worker thread")
    return table


# -- cold start ----------------------------------------------------------------------------------


COLD_START = """
import time
from pathlib import Path
from kiosk.paths import DataDir, resolve_data_dir
from kiosk.settings import Settings
from kiosk.ui.launch import build_kiosk, prepare_kivy
data = DataDir(resolve_data_dir())
prepare_kivy(data, fullscreen=False, size=(800, 480))
parts = build_kiosk(Settings(), data, Path("content/demo"), voice=False, speak=False)
print("answerer", flush=True)
from kivy.core.window import Window
from kiosk.ui.app import KioskApp
app = KioskApp(parts["controller"], images=parts["images"])
def first(*_):
    print("frame", flush=True)
    Window.unbind(on_flip=first)
    app.stop()
Window.bind(on_flip=first)
app.run()
"""


def cold_start() -> dict[str, float]:
    """Seconds from starting a new process to the answerer ready and to the first frame."""
    import os
    import tempfile

    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen",
           "KIVY_HOME": tempfile.mkdtemp(prefix="kiosk-kivy-")}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", COLD_START], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    seen = {line.strip(): time.perf_counter() - start for line in child.stdout}
    child.wait(timeout=60)
    if "frame" not in seen:
        raise RuntimeError(f"the app drew no frame (exit status {child.returncode})")
    return seen


def cold_table(command: str, runs: int = 5) -> Table:
    times = [cold_start() for _ in range(runs)]
    table = Table(f"cold start of the app (new process, real answerer on content/demo, "
                  f"offscreen, no voice), {runs} runs", command,
                  ["seconds from process start to", "p50", "min", "max"])
    for key, label in (("answerer", "answerer ready (content, encoder)"),
                       ("frame", "first frame drawn")):
        values = [t[key] for t in times]
        table.rows.append([label, f"{statistics.median(values):.2f}", f"{min(values):.2f}",
                           f"{max(values):.2f}"])
    return table


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000, help="visits to soak")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="soak,frames,cold", help="sections, comma-separated")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    command = ".venv/bin/python bench/soak.py" + (f" --conversations {args.conversations}"
                                                  if args.conversations != 10_000 else "")
    status = 0
    if "soak" in sections:
        rig = build_rig()

        def progress(done: int, seconds: float, rss_kb: int) -> None:
            print(f"  … {done} visits, {seconds:.0f} s, {done / seconds:.1f}/s, "
                  f"RSS {rss_kb / 1024:.1f} MB", file=sys.stderr, flush=True)
        try:
            result = soak(rig, args.conversations, seed=args.seed, progress=progress)
        finally:
            rig.close()
        show(soak_table(result, f"{command} --only soak"))
        status = 1 if result.problems else 0
    if "frames" in sections:
        show(frames_section(".venv/bin/python bench/soak.py --only frames"))
    if "cold" in sections:
        show(cold_table(".venv/bin/python bench/soak.py --only cold"))
    return status


if __name__ == "__main__":
    sys.exit(main())
