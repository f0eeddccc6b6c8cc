"""espeak-ng through pyttsx3, in a worker process that a watchdog restarts if it hangs
(``tts.worker``).

The only module that imports pyttsx3 (inside the worker). Seen on these machines: the first
``runAndWait()`` of a process may return before the WAV is written, so the worker waits for
the ``finished-utterance`` callback and a complete file; one text at a time per engine; a hang
was reported after the first utterance on a Pi 4 — hence a separate process with a deadline.
"""

from __future__ import annotations

import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kiosk.audio.wav import read_wav
from kiosk.errors import SpeechError
from kiosk.ports import Samples
from kiosk.tts.synth import BySentence, Spoken
from kiosk.tts.worker import Target, Worker

__all__ = ["VOICES", "EspeakSynth", "Spoken"]

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


class EspeakSynth(BySentence):
    """Text → 16 kHz samples, per sentence, with a watchdog on the worker."""

    engine = "espeak-ng"

    def __init__(self, voices: dict[str, str] | None = None, rate: int = 165,
                 volume: float = 1.0, timeout_s: float = 10.0,
                 target: Target = _worker) -> None:
        self.voices = {**VOICES, **(voices or {})}
        self.rate = rate
        self.volume = volume
        self.timeout_s = timeout_s
        self._worker = Worker(target, "espeak-ng",
                              "that espeak-ng is installed (`apt install espeak-ng`)")
        self._dir = tempfile.TemporaryDirectory(prefix="kiosk-tts-")

    @property
    def restarts(self) -> int:
        """How many times the watchdog restarted a hung or dead worker."""
        return self._worker.restarts

    def speaks(self, lang: str) -> bool:
        """espeak-ng says every language (one it has no voice for, with the English one)."""
        return True

    def voice(self, lang: str) -> str:
        return self.voices.get(lang) or self.voices["en"]

    def speak(self, text: str, lang: str) -> Spoken:
        """The whole text as audio with its words' timing."""
        path = str(Path(self._dir.name) / f"u{time.monotonic_ns()}.wav")
        status, detail, *rest = self._worker.call(
            (text, self.voice(lang), self.rate, self.volume, path), self.timeout_s)
        if status != "ok":
            raise SpeechError(f"espeak-ng could not speak this text: {detail}")
        words = tuple((ms / 1000, start, start + length)
                      for ms, start, length in (rest[0] if rest else []) if length > 0)
        return Spoken(self._read(Path(detail)), words)

    def _read(self, path: Path) -> Samples:
        try:
            return read_wav(path, max_seconds=SPOKEN_MAX_S)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        self._worker.close()
        self._dir.cleanup()
