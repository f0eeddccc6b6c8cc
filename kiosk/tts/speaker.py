"""The kiosk's voice: synthesis sentence by sentence, played as soon as each is ready."""

from __future__ import annotations

import threading

from kiosk.audio.devices import Speakers
from kiosk.tts.espeak import EspeakSynth


class EspeakSpeaker:
    """Implements ``ports.Speaker`` with espeak-ng and the sound card."""

    def __init__(self, synth: EspeakSynth, speakers: Speakers) -> None:
        self.synth = synth
        self.speakers = speakers
        self._stopped = threading.Event()

    def say(self, text: str, lang: str) -> bool:
        self._stopped.clear()
        for _sentence, audio in self.synth.sentences(text, lang):
            if self._stopped.is_set() or not self.speakers.play(audio):
                return False
        return not self._stopped.is_set()

    def stop(self) -> None:
        self._stopped.set()
        self.speakers.stop()
