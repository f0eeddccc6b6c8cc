"""SVOX Pico through py-nanotts: clear French, English and Spanish (German, Italian too), in a
worker process with a watchdog (``tts.worker``).

Only ``tts.picoworker`` (the worker's side) imports py_nanotts. Read in its C source
(``_nanotts.c``, 0.1.1): each call loads the voice files, synthesises the whole text and
returns 16 kHz mono int16 PCM, all while holding the GIL — in-process, a sentence would freeze
the touchscreen's thread for its 5–50 ms, and a hang or a crash in the C library would take
the kiosk with it. The text is passed to Pico as markup: ``<speed level="20">`` in a content
text would change the voice, so angle brackets are never passed on. Pico tells nothing of its
words: ``tts.timing`` times them from the audio.

Measured on the demo pack's descriptions (105 sentences a language): at Pico's own pace
(speed 1.0) it says fr 207, en 182, es 154 words a minute, where espeak-ng at rate 165 says
fr 216, en 185, es 176. So ``rate`` 165 is Pico's own pace and the rate scales it: about the
pace of espeak-ng in English, Pico's own (clearer) pace in French and Spanish. At Pico's full
volume 0.7–1.1 % of English and Spanish samples clip; at half none do, so a volume of 1 is
Pico's 50.
"""

from __future__ import annotations

import re

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.errors import SpeechError
from kiosk.tts import timing
from kiosk.tts.picoworker import serve
from kiosk.tts.synth import BySentence, Spoken
from kiosk.tts.worker import Target, Worker

VOICES = {"fr": "fr-FR", "en": "en-US", "es": "es-ES", "de": "de-DE", "it": "it-IT"}
"""Pico voice per language (settings may override, e.g. ``en=en-GB``)."""

PICO_VOICES = ("fr-FR", "es-ES", "en-US", "en-GB", "de-DE", "it-IT")
"""The voices py-nanotts ships."""

OWN_RATE = 165
"""The ``rate`` (words a minute) at which Pico speaks at its own pace (speed 1.0)."""

SPEEDS = (0.4, 2.5)
"""Slowest and fastest speed asked of Pico (its own limits are 0.2–5)."""

GAIN = 0.5
"""Pico's volume for a kiosk volume of 1 (louder clips)."""

TAIL_S = 0.3
"""Silence kept after the voice ends. Pico ends each text with more (median on the demo pack:
fr 0.72 s, en 0.64 s, es 1.03 s), which would be heard between sentences."""


_TAG = re.compile(r"<[^<>]*>")


def plain(text: str) -> str:
    """``text`` with nothing Pico would read as markup: tags and angle brackets become spaces
    (the same length, so characters keep their places)."""
    text = _TAG.sub(lambda m: " " * len(m.group()), text)
    return text.replace("<", " ").replace(">", " ").replace("\0", " ")


class PicoSynth(BySentence):
    """Text → 16 kHz samples with Pico, per sentence, words timed from the audio."""

    engine = "pico"

    def __init__(self, voices: dict[str, str] | None = None, rate: int = OWN_RATE,
                 volume: float = 1.0, timeout_s: float = 10.0,
                 target: Target = serve) -> None:
        self.voices = {**VOICES, **(voices or {})}
        wrong = {lang: v for lang, v in self.voices.items() if v not in PICO_VOICES}
        if wrong:
            lang, v = next(iter(wrong.items()))
            raise SpeechError(f"Pico has no voice '{v}' (for '{lang}') — use one of "
                              f"{', '.join(PICO_VOICES)} in [speech] pico_voices")
        self.rate = rate
        self.volume = volume
        self.timeout_s = timeout_s
        self.broken = ""
        """Why Pico cannot speak at all here (py-nanotts did not load), once found."""
        self._worker = Worker(target, "pico", "that py-nanotts is installed "
                              "(`pip install py-nanotts==0.1.1`) or set [speech] engine = "
                              "\"espeak\"")
        self._worker.start()  # it loads while the kiosk starts: the first answer is not late

    @property
    def restarts(self) -> int:
        """How many times the watchdog restarted a hung or dead worker."""
        return self._worker.restarts

    @property
    def speed(self) -> float:
        """Pico's speed for the current ``rate``."""
        return min(max(self.rate / OWN_RATE, SPEEDS[0]), SPEEDS[1])

    def speaks(self, lang: str) -> bool:
        return lang in self.voices and not self.broken

    def voice(self, lang: str) -> str:
        if lang not in self.voices:
            raise SpeechError(f"Pico has no voice for '{lang}' (it has "
                              f"{', '.join(sorted(self.voices))}) — use [speech] engine = "
                              "\"espeak\" for it")
        return self.voices[lang]

    def speak(self, text: str, lang: str) -> Spoken:
        """The whole text as audio, with its words timed from the audio."""
        if self.broken:
            raise SpeechError(self.broken)
        if not timing.words(text):
            return Spoken(np.zeros(0, dtype=np.float32))  # punctuation alone: nothing to say
        volume = min(max(self.volume, 0.0), 1.0) * GAIN
        status, detail = self._worker.call(
            (plain(text), self.voice(lang), round(self.speed, 2), volume), self.timeout_s)
        if status == "unavailable":
            self.broken = f"{detail} — reinstall it or set [speech] engine = \"espeak\""
            raise SpeechError(self.broken)
        if status != "ok":
            raise SpeechError(f"Pico could not speak this text: {detail}")
        audio = np.frombuffer(detail, dtype="<i2").astype(np.float32) / 32768.0  # 16 kHz
        _start, end, _pauses = timing.voiced(audio)
        audio = audio[:int((end + TAIL_S) * RATE)]
        return Spoken(audio, timing.word_times(text, audio, lang))

    def close(self) -> None:
        self._worker.close()
