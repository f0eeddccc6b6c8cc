"""What every synthesiser gives (``Spoken``: audio and when each word starts), the sentence by
sentence reading they share, and ``Fallback``: one engine, and another for what it cannot say.

The adapters, each in its own worker process: ``tts.espeak.EspeakSynth`` (espeak-ng through
pyttsx3, every language, word events from the engine) and ``tts.pico.PicoSynth`` (SVOX Pico
through py-nanotts: fr, en, es, de, it; words timed from the audio by ``tts.timing``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from kiosk.errors import SpeechError
from kiosk.ports import Samples
from kiosk.qa.text import sentences

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spoken:
    """A text as audio, with when each word starts."""

    audio: Samples
    """16 kHz mono."""
    words: tuple[tuple[float, int, int], ...] = ()
    """``(start s, first character, end character)`` of each word of the text."""


class Synth(Protocol):
    """Text → 16 kHz audio. ``rate`` (words per minute) and ``volume`` (0-1) may change
    between calls (slower speech)."""

    rate: int
    volume: float

    @property
    def engine(self) -> str:
        """What says it, e.g. "espeak-ng"."""
        ...

    @property
    def restarts(self) -> int:
        """How many times the watchdog restarted the engine's worker."""
        ...

    def speaks(self, lang: str) -> bool:
        """Whether it has a voice for ``lang`` (and has not been found broken)."""
        ...

    def voice(self, lang: str) -> str:
        """The voice it says ``lang`` with."""
        ...

    def speak(self, text: str, lang: str) -> Spoken: ...
    def synthesize(self, text: str, lang: str) -> Samples: ...
    def sentences(self, text: str, lang: str) -> Iterator[tuple[str, Samples]]: ...
    def spoken_sentences(self, text: str, lang: str) -> Iterator[tuple[str, Spoken]]: ...
    def close(self) -> None: ...


class BySentence:
    """The reading shared by the synthesisers: what they add is ``speak``."""

    def speak(self, text: str, lang: str) -> Spoken:
        raise NotImplementedError

    def synthesize(self, text: str, lang: str) -> Samples:
        """The whole text as audio (one worker call)."""
        return self.speak(text, lang).audio

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


class Fallback(BySentence):
    """``first`` where it can speak, ``then`` for a language it lacks or a text it fails on
    (each reason logged once, in one line)."""

    def __init__(self, first: Synth, then: Synth) -> None:
        self.first = first
        self.then = then
        self.fallbacks = 0
        """Texts said by ``then`` instead."""
        self._told: set[str] = set()

    @property
    def engine(self) -> str:
        return f"{self.first.engine}, else {self.then.engine}"

    @property
    def rate(self) -> int:  # type: ignore[override]
        return self.first.rate

    @rate.setter
    def rate(self, value: int) -> None:
        self.first.rate = self.then.rate = value

    @property
    def volume(self) -> float:  # type: ignore[override]
        return self.first.volume

    @volume.setter
    def volume(self, value: float) -> None:
        self.first.volume = self.then.volume = value

    @property
    def restarts(self) -> int:
        return self.first.restarts + self.then.restarts

    def speaks(self, lang: str) -> bool:
        return self.first.speaks(lang) or self.then.speaks(lang)

    def voice(self, lang: str) -> str:
        chosen = self.first if self.first.speaks(lang) else self.then
        return f"{chosen.engine} {chosen.voice(lang)}"

    def speak(self, text: str, lang: str) -> Spoken:
        if self.first.speaks(lang):
            try:
                return self.first.speak(text, lang)
            except SpeechError as exc:
                self._tell("failed", f"{self.first.engine} failed ({exc}); {self.then.engine} "
                           "speaks instead")
        else:
            self._tell(f"lacks {lang}", f"{self.first.engine} has no voice for '{lang}' (or "
                       f"cannot load); {self.then.engine} speaks it instead")
        self.fallbacks += 1
        return self.then.speak(text, lang)

    def _tell(self, key: str, message: str) -> None:
        if key not in self._told:
            self._told.add(key)
            log.warning("%s", message)

    def close(self) -> None:
        try:
            self.first.close()
        finally:
            self.then.close()
