"""espeak-ng through pyttsx3, in a worker process that a watchdog restarts if it hangs.

The only module that imports pyttsx3 (inside the worker). Seen on these machines: the first
``runAndWait()`` of a process may return before the WAV is written, so the worker waits for
the ``finished-utterance`` callback and a complete file; one text at a time per engine; a hang
was reported after the first utterance on a Pi 4 — hence a separate process with a deadline.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kiosk.audio.wav import read_wav
from kiosk.errors import SpeechError
from kiosk.ports import Samples
from kiosk.qa.text import sentences

SPOKEN_MAX_S = 3600.0
"""What espeak-ng says is read back whole (an answer said through ``--say``, the doctor's check):
no question's limit applies to it."""

MIN_WAV_BYTES = 44 + 2 * 2205
"""A WAV header and at least 0.1 s of 22 kHz audio."""

VOICES = {"en": "gmw/en-us", "fr": "roa/fr", "es": "roa/es", "de": "gmw/de", "it": "roa/it",
          "ko": "ko"}
"""espeak-ng voice per language (settings may override)."""


def _worker(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 prints "Audio saved to ..." on every file
    import pyttsx3

    engine = pyttsx3.init("espeak")
    finished: list[bool] = []
    engine.connect("finished-utterance", lambda name, completed: finished.append(completed))
    words: list[tuple[int, int, int]] = []
    _tap_word_timings(engine, words)
    while True:
        request = conn.recv()
        if request is None:
            return
        text, voice, rate, volume, path = request
        try:
            engine.setProperty("voice", voice)
            engine.setProperty("rate", rate)
            engine.setProperty("volume", volume)
            for _attempt in range(3):
                # seen here: an utterance's end can land on the next one, which is then
                # saved empty (a 44-byte WAV); so check the file and say it again if so
                finished.clear()
                words.clear()
                engine.save_to_file(text, path)
                engine.runAndWait()
                deadline = time.monotonic() + 5
                while not finished and time.monotonic() < deadline:
                    time.sleep(0.005)
                if os.path.exists(path) and os.path.getsize(path) > MIN_WAV_BYTES:
                    conn.send(("ok", path, list(words)))
                    break
            else:
                conn.send(("error", "espeak-ng produced no audio three times"))
        except Exception as exc:  # reported to the parent, which raises SpeechError
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _tap_word_timings(engine: Any, words: list[tuple[int, int, int]],
                      ) -> None:  # pragma: no cover - runs in the child process
    """Collect ``(audio ms, first character, length)`` of each word as espeak-ng makes it.

    pyttsx3 tells words without their time in the audio; espeak-ng's events carry it, so the
    worker sees them first and then hands them to pyttsx3's own callback.
    """
    from pyttsx3.drivers import _espeak

    driver = engine.proxy._driver
    original = driver._onSynth

    def on_synth(wav: Any, numsamples: int, events: Any) -> int:
        i = 0
        while events[i].type != _espeak.EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _espeak.EVENT_WORD:
                words.append((event.audio_position, event.text_position - 1, event.length))
            i += 1
        return int(original(wav, numsamples, events))

    _espeak.SetSynthCallback(on_synth)


@dataclass(frozen=True)
class Spoken:
    """A text as audio, with when each word starts."""

    audio: Samples
    """16 kHz mono."""
    words: tuple[tuple[float, int, int], ...] = ()
    """``(start s, first character, end character)`` of each word of the text."""


class EspeakSynth:
    """Text → 16 kHz samples, per sentence, with a watchdog on the worker."""

    def __init__(self, voices: dict[str, str] | None = None, rate: int = 165,
                 volume: float = 1.0, timeout_s: float = 10.0,
                 target: Callable[[Connection], None] = _worker) -> None:
        self.voices = {**VOICES, **(voices or {})}
        self.rate = rate
        self.volume = volume
        self.timeout_s = timeout_s
        self.restarts = 0
        """How many times the watchdog restarted a hung or dead worker."""
        self._target = target
        self._dir = tempfile.TemporaryDirectory(prefix="kiosk-tts-")
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            ctx = mp.get_context("spawn")
            parent, child = ctx.Pipe()
            self._proc = ctx.Process(target=self._target, args=(child,), daemon=True)
            self._proc.start()
            self._conn = parent
        return self._conn

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(timeout=2)
        self._proc, self._conn = None, None

    def synthesize(self, text: str, lang: str) -> Samples:
        """The whole text as audio (one worker call; retried once after a restart)."""
        return self.speak(text, lang).audio

    def speak(self, text: str, lang: str) -> Spoken:
        """The whole text as audio with its words' timing."""
        voice = self.voices.get(lang) or self.voices["en"]
        path = str(Path(self._dir.name) / f"u{time.monotonic_ns()}.wav")
        for attempt in (1, 2):
            conn = self._start()
            try:
                conn.send((text, voice, self.rate, self.volume, path))
                if conn.poll(self.timeout_s):
                    status, detail, *rest = conn.recv()
                    if status == "ok":
                        words = tuple((ms / 1000, start, start + length)
                                      for ms, start, length in (rest[0] if rest else [])
                                      if length > 0)
                        return Spoken(self._read(Path(detail)), words)
                    raise SpeechError(f"espeak-ng could not speak this text: {detail}")
            except (EOFError, BrokenPipeError, ConnectionResetError):
                pass  # the worker died: restart below
            self._kill()
            self.restarts += 1
            if attempt == 2:
                break
        raise SpeechError(f"speech synthesis hung twice (over {self.timeout_s:.0f} s) — check "
                          "that espeak-ng is installed (`apt install espeak-ng`)")

    def _read(self, path: Path) -> Samples:
        try:
            return read_wav(path, max_seconds=SPOKEN_MAX_S)
        finally:
            path.unlink(missing_ok=True)

    def sentences(self, text: str, lang: str) -> Iterator[tuple[str, Samples]]:
        """Sentence by sentence, so a long answer can start playing after the first one."""
        for sentence, spoken in self.spoken_sentences(text, lang):
            yield sentence, spoken.audio

    def spoken_sentences(self, text: str, lang: str) -> Iterator[tuple[str, Spoken]]:
        """Sentence by sentence, with word timings whose characters count in ``text``."""
        at = 0
        for sentence in sentences(text) or [text]:
            offset = text.find(sentence, at)
            offset = at if offset < 0 else offset
            at = offset + len(sentence)
            spoken = self.speak(sentence, lang)
            yield sentence, Spoken(spoken.audio, tuple(
                (t, offset + a, offset + b) for t, a, b in spoken.words))

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        self._kill()
        self._dir.cleanup()
