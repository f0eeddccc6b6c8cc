"""The kiosk's voice: synthesis sentence by sentence, played as soon as each is ready, with
each word told as it is heard (for captions)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from kiosk.audio.wav import RATE
from kiosk.ports import Samples, WordCallback
from kiosk.tts.synth import Synth


class Output(Protocol):
    """Where audio is played: ``audio.devices.Speakers``, or ``testing.FakeSpeakers``."""

    def play(self, samples: Samples, rate: int = RATE,
             on_position: Callable[[float], None] | None = None) -> bool: ...
    def stop(self) -> None: ...


class Speaker:
    """Implements ``ports.Speaker`` with any synthesiser (``tts.synth.Synth``) and an audio
    output."""

    def __init__(self, synth: Synth, speakers: Output) -> None:
        self.synth = synth
        self.speakers = speakers
        self._stopped = threading.Event()

    def say(self, text: str, lang: str, on_word: WordCallback | None = None) -> bool:
        self._stopped.clear()
        for _sentence, spoken in self.synth.spoken_sentences(text, lang):
            if self._stopped.is_set():
                return False
            if len(spoken.audio) == 0:
                continue  # (a "sentence" of punctuation alone)
            pending = list(spoken.words)

            def at(position: float, pending: list[tuple[float, int, int]] = pending) -> None:
                while pending and pending[0][0] <= position + 0.05 and on_word is not None:
                    _t, start, end = pending.pop(0)
                    on_word(start, end)

            if not self.speakers.play(spoken.audio, RATE, at):
                return False
            at(float("inf"))  # words in the last block
        return not self._stopped.is_set()

    def stop(self) -> None:
        self._stopped.set()
        self.speakers.stop()


EspeakSpeaker = Speaker
"""Its former name (it spoke espeak-ng only)."""
