"""What the touchscreen shows, decided from the visitor's taps and the pipeline's events.

Pure: no Kivy here. The app calls the controller's methods from the UI thread (they return at
once); turns run on one worker thread; every change is a new frozen ``View`` handed to
``on_change`` (the app moves it to the UI thread). Idle reset, hot content reload and calm
faults are decided here, so they are tested without a window.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from kiosk.content.model import Pack
from kiosk.errors import KioskError, SpeechError
from kiosk.events import (
    Answer,
    Answered,
    AnswerKind,
    Caption,
    Heard,
    HeardNothing,
    Level,
    ListeningStarted,
    PartialTranscript,
    PipelineEvent,
    SpeakingDone,
    SpeakingStarted,
)
from kiosk.i18n import N_
from kiosk.pipeline import Pipeline
from kiosk.ports import Answerer, Microphone, VoiceActivity

log = logging.getLogger(__name__)


class Screen(StrEnum):
    """The app's screens."""

    ATTRACT = "attract"
    LISTENING = "listening"
    ANSWER = "answer"
    CLARIFY = "clarify"
    UNKNOWN = "unknown"
    BROWSE = "browse"
    EXHIBIT = "exhibit"
    ADMIN = "admin"


class Notice(StrEnum):
    """A calm one-line message over a screen; ``message`` is its English text (the catalogs' id)."""

    NONE = ""
    HEARD_NOTHING = "heard_nothing"
    FAULT = "fault"
    FAULT_SPEAK = "fault_speak"

    @property
    def message(self) -> str:
        return NOTICES[self]


NOTICES = {
    Notice.NONE: "",
    Notice.HEARD_NOTHING: N_("I didn't hear a question. Tap and ask again, or browse the works."),
    Notice.FAULT: N_("Sorry, I can't listen right now. You can still browse the works; "
                     "listening will be back in a moment."),
    Notice.FAULT_SPEAK: N_("Sorry, I can't speak right now; the answer is on the screen."),
}


@dataclass(frozen=True)
class View:
    """Everything a screen needs to draw itself."""

    screen: Screen = Screen.ATTRACT
    """The screen shown."""
    lang: str = "en"
    """The visit's language."""
    question: str = ""
    """The question being answered (typed, tapped or heard)."""
    partial: str = ""
    """What the recognizer hears so far, while listening."""
    level: float = 0.0
    """Microphone level, 0-1, while listening."""
    thinking: bool = False
    """A question was heard; its answer is being found."""
    answer: Answer | None = None
    """The answer, clarification or honest refusal shown."""
    spoken: str = ""
    """The text being said aloud."""
    said: int = 0
    """How many characters of ``spoken`` have been said (captions follow it)."""
    speaking: bool = False
    """The kiosk is talking."""
    exhibit_id: str | None = None
    """The work whose page is open (browse)."""
    notice: Notice = Notice.NONE
    """A calm one-line message (heard nothing, a fault), or none."""
    large_text: bool = False
    """Accessibility: larger text."""
    high_contrast: bool = False
    """Accessibility: high-contrast theme."""
    slow_speech: bool = False
    """Accessibility: slower speech."""
    content: str = ""
    """The content version in use (for the admin screen)."""
    generation: int = 0
    """Bumped when the content changes (screens rebuild their lists)."""


class Controller:
    """One kiosk's interaction logic between the touchscreen and the pipeline."""

    def __init__(self, pipeline: Pipeline, pack: Pack, *, idle_reset_s: float = 90.0,
                 listen: Callable[[], tuple[Microphone, VoiceActivity]] | None = None,
                 slow_speech: Callable[[bool], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, content: str = "",
                 root: Path | None = None,
                 observers: Sequence[Callable[[PipelineEvent], None]] = ()) -> None:
        self.pipeline = pipeline
        self.observers = tuple(observers)
        """Also told every event of the current turn (the insights log); their faults are
        logged and ignored."""
        self.pack = pack
        self.root = root
        """The content's folder (its images are relative to it)."""
        self.idle_reset_s = idle_reset_s
        self.listen = listen
        self.slow_speech = slow_speech or (lambda on: None)
        self.clock = clock
        self.on_change: Callable[[View], None] = lambda view: None
        self.errors: deque[tuple[float, str]] = deque(maxlen=20)
        """Recent faults, newest last (wall-clock time, message) — for the admin screen."""
        self.turns = 0
        """Turns run to their end since start (for soak tests; cancelled ones not counted)."""
        pipeline.listener = self._on_event
        self._lock = threading.Lock()
        self._content_lock = threading.Lock()
        self._view = View(lang=pipeline.session.language, content=content)
        self._last_touch = clock()
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._queued = 0
        """Jobs submitted and not finished (``busy`` while above zero)."""
        self._queued_lock = threading.Lock()
        self._turn = 0
        """Bumped by every new turn and every way out of one (cancel, home, browse, reset):
        a job or an event of an older turn is dropped."""
        self._running = -1
        """The turn whose job the worker runs now."""
        self._pending: tuple[Answerer, Pack, str, Path | None] | None = None
        self._worker = threading.Thread(target=self._work, name="kiosk-turns", daemon=True)
        self._worker.start()

    # -- what the UI reads ---------------------------------------------------------------
    @property
    def view(self) -> View:
        return self._view

    @property
    def languages(self) -> list[str]:
        return list(self.pack.museum.languages)

    @property
    def busy(self) -> bool:
        """A turn is running (listening, answering or speaking)."""
        return self._queued > 0

    @property
    def content_waiting(self) -> bool:
        """A new content version is ready and waits for the conversation to end."""
        return self._pending is not None

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every turn queued so far has run (tests, tools); False on timeout."""
        done = threading.Event()
        with self._queued_lock:  # counted like any job (the worker counts it off)
            self._queued += 1
        self._jobs.put(done.set)  # the worker runs jobs in order: this one comes last
        if not done.wait(timeout):
            return False
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.busy

    # -- what the visitor does (UI thread; never blocks) ---------------------------------
    def touch(self) -> None:
        """Any touch: the visit goes on."""
        self._last_touch = self.clock()

    def choose_language(self, lang: str) -> None:
        self.touch()
        self.pipeline.session.language = lang
        self._set(lang=lang, notice=Notice.NONE)

    def talk(self) -> None:
        """Tap-to-talk: listen for one question, answer it and say it."""
        self.touch()
        if self.listen is None:
            return
        self._stop_turn()
        self._set(screen=Screen.LISTENING, partial="", level=0.0, notice=Notice.NONE,
                  thinking=False)
        lang = self._view.lang
        self._submit(lambda: self._voice_turn(lang))

    def ask(self, question: str, about: str | None = None) -> None:
        """A tapped question (suggestion, exhibit page, clarify choice)."""
        self.touch()
        self._stop_turn()
        self._set(question=question, thinking=True, notice=Notice.NONE)
        lang = self._view.lang
        self._submit(lambda: self._text_turn(question, lang, about))

    def cancel(self) -> None:
        """Stop listening or speaking; back to where the visitor was."""
        self.touch()
        self._stop_turn()
        screen = Screen.ATTRACT if self._view.answer is None else _screen_for(self._view.answer)
        self._set(screen=screen, speaking=False, partial="", thinking=False)

    def stop_speech(self) -> None:
        self.touch()
        self._stop_turn()
        self._set(speaking=False)

    def replay(self) -> None:
        self.touch()
        answer = self._view.answer
        if answer is not None:
            self._stop_turn()
            self._submit(lambda: self._say(answer))

    def browse(self) -> None:
        self.touch()
        self._stop_turn()
        self._set(screen=Screen.BROWSE, notice=Notice.NONE)

    def open_exhibit(self, exhibit_id: str) -> None:
        self.touch()
        self.pipeline.session.current_exhibit = exhibit_id
        self._set(screen=Screen.EXHIBIT, exhibit_id=exhibit_id, notice=Notice.NONE)

    def home(self) -> None:
        """Back to the attract screen, keeping the visit (language, subject)."""
        self.touch()
        self._stop_turn()
        self._set(screen=Screen.ATTRACT, notice=Notice.NONE, speaking=False)

    def admin(self) -> None:
        self.touch()
        self._stop_turn()
        self._set(screen=Screen.ADMIN)

    def set_preference(self, name: str, on: bool) -> None:
        """large_text, high_contrast or slow_speech."""
        self.touch()
        if name not in ("large_text", "high_contrast", "slow_speech"):
            raise ValueError(name)
        if name == "slow_speech":
            self.slow_speech(on)
        self._set(**{name: on})

    # -- the clock and the content -------------------------------------------------------
    def tick(self) -> bool:
        """Called about once a second: forgets the visit after the idle delay; True if it did.

        A turn in progress counts as activity.
        """
        if self.busy:
            self._last_touch = self.clock()
            return False
        idle = self.clock() - self._last_touch
        if idle < self.idle_reset_s or (self._pristine() and self._pending is None):
            return False
        self.reset()
        return True

    def reset(self) -> None:
        """The visit is over: forget everything about it and show the attract screen."""
        self._stop_turn()
        self.pipeline.session.reset()
        self.slow_speech(False)
        with self._content_lock:
            self._apply_pending()
        self._last_touch = self.clock()
        with self._lock:
            self._view = View(lang=self.pipeline.session.language,
                              content=self._view.content, generation=self._view.generation)
            view = self._view
        self.on_change(view)

    def offer_content(self, answerer: Answerer, pack: Pack, label: str,
                      root: Path | None = None) -> None:
        """A new content version is active: used from the next conversation (now if idle)."""
        with self._content_lock:  # (called from a loader thread)
            self._pending = (answerer, pack, label, root)
            if self._at_rest() and not self.busy:
                self._apply_pending()
            else:
                return
        self._set()

    def close(self) -> None:
        self._stop_turn()
        self._jobs.put(None)
        self._worker.join(timeout=5)

    # -- inside ----------------------------------------------------------------------------
    def _at_rest(self) -> bool:
        """Nobody is in a conversation: attract screen, nothing asked."""
        view = self._view
        return view.screen is Screen.ATTRACT and view.answer is None and not view.question

    def _pristine(self) -> bool:
        """Nothing of a visit to forget."""
        session = self.pipeline.session
        fresh = View(lang=session.default_language, content=self._view.content,
                     generation=self._view.generation)
        return self._view == fresh and session.current_exhibit is None and not session.history

    def _apply_pending(self) -> None:
        if self._pending is None:
            return
        answerer, pack, label, root = self._pending
        self._pending = None
        self.pipeline.answerer = answerer
        self.pack = pack
        self.root = root or self.root
        session = self.pipeline.session
        session.languages = sorted({*pack.museum.languages, *session.languages})
        with self._lock:
            lang = self._view.lang if self._view.lang in pack.museum.languages else \
                pack.museum.default_language
            session.language = lang
            self._view = replace(self._view, content=label, lang=lang,
                                 generation=self._view.generation + 1)
        log.info("content switched to %s", label)

    def _stop_turn(self) -> None:
        """Whatever turn runs or waits is over (its later events are dropped)."""
        self._turn += 1
        self.pipeline.cancel()

    def _submit(self, job: Callable[[], None]) -> None:
        with self._queued_lock:
            self._queued += 1
        turn = self._turn
        self._jobs.put(lambda: self._run(turn, job))

    def _run(self, turn: int, job: Callable[[], None]) -> None:
        if turn != self._turn:
            return  # cancelled before it started
        self._running = turn
        job()
        self.turns += 1

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except SpeechError as exc:
                self._fault(str(exc), Notice.FAULT_SPEAK)
            except KioskError as exc:
                self._fault(str(exc))
            except Exception as exc:  # a failing stage must not end the kiosk  # noqa: BLE001
                log.exception("turn failed")
                self._fault(f"{type(exc).__name__}: {exc}")
            finally:
                self._last_touch = self.clock()
                with self._queued_lock:
                    self._queued -= 1

    def _voice_turn(self, lang: str) -> None:
        assert self.listen is not None
        mic, vad = self.listen()
        self.pipeline.ask_by_voice(mic, vad, lang)

    def _text_turn(self, question: str, lang: str, about: str | None) -> None:
        answer = self.pipeline.ask_text(question, lang, about=about)
        self._say(answer)

    def _say(self, answer: Answer) -> None:
        if self._running == self._turn:  # not if the visitor moved on meanwhile
            self.pipeline.speak(answer)

    def _fault(self, message: str, notice: Notice = Notice.FAULT) -> None:
        self.errors.append((time.time(), message))
        log.warning("stage failed: %s", message)
        if self._running != self._turn:
            return
        screen = self._view.screen
        if screen is Screen.LISTENING:
            screen = Screen.ATTRACT
        self._set(screen=screen, notice=notice, thinking=False, speaking=False, partial="")

    def _on_event(self, event: PipelineEvent) -> None:
        """The pipeline's events (worker thread) → a new view."""
        if self._running != self._turn:
            return  # a turn the visitor left
        for observer in self.observers:
            try:
                observer(event)
            except Exception:  # an observer must not break the turn  # noqa: BLE001
                log.exception("event observer failed")
        match event:
            case ListeningStarted():
                self._set(screen=Screen.LISTENING, partial="", level=0.0)
            case Level(value=value):
                self._set(level=value)
            case PartialTranscript(text=text):
                self._set(partial=text)
            case Heard(text=text):
                self._set(question=text, partial=text, thinking=True)
            case Answered(text=text, answer=answer):
                self._set(screen=_screen_for(answer), answer=answer, thinking=False,
                          question=text, lang=self.pipeline.session.language,
                          spoken="", said=0, partial="")
            case SpeakingStarted(text=text):
                self._set(spoken=text, said=0, speaking=True)
            case Caption(span=span):
                self._set(said=span[1])
            case SpeakingDone(finished=finished):
                view = self._view
                self._set(speaking=False, said=len(view.spoken) if finished else view.said)
            case HeardNothing():
                self._set(screen=Screen.ATTRACT if self._view.answer is None
                          else _screen_for(self._view.answer), notice=Notice.HEARD_NOTHING,
                          partial="")

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._view = replace(self._view, **changes)  # type: ignore[arg-type]
            view = self._view
        self.on_change(view)


def _screen_for(answer: Answer) -> Screen:
    return {AnswerKind.ANSWER: Screen.ANSWER, AnswerKind.CLARIFY: Screen.CLARIFY,
            AnswerKind.UNKNOWN: Screen.UNKNOWN}[answer.kind]
