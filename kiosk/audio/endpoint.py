"""End-pointing: from speech probabilities to one utterance (pure logic, no engine)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.ports import Samples


def level(samples: Samples) -> float:
    """Loudness 0-1 for a meter (RMS in dBFS: -60 dB → 0, 0 dB → 1)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    return max(0.0, min(1.0, 1.0 + 20.0 * math.log10(max(rms, 1e-6)) / 60.0))


class Outcome(StrEnum):
    """How listening ended."""

    UTTERANCE = "utterance"
    """Speech, then enough silence (or the maximum length)."""
    NOTHING = "nothing"
    """No speech before the timeout."""


@dataclass
class EndPointer:
    """Collects audio; says when an utterance started and when it is complete."""

    threshold: float = 0.5
    """Speech probability above which a frame is speech."""
    start_ms: float = 96
    """Speech this long starts an utterance (ignores clicks)."""
    trailing_silence_ms: float = 700
    """Silence this long after speech ends the utterance."""
    max_utterance_s: float = 12
    """An utterance is cut at this length."""
    no_speech_s: float = 6
    """With no speech after this long, listening ends with NOTHING."""
    pre_roll_ms: float = 300
    """Audio kept from before speech started (word onsets)."""
    _audio: list[Samples] = field(default_factory=list)
    _pushed: int = 0
    _frame_end: int = 0
    _heard: float = 0.0
    _speech_run: float = 0.0
    _silence_run: float = 0.0
    started: bool = False
    """Whether speech has started."""
    speech_end_s: float = 0.0
    """Where the last speech frame ended, in seconds since the first ``push``."""

    def push(self, samples: Samples, probabilities: list[float]) -> Outcome | None:
        """Add audio and its frames' probabilities; an Outcome when listening is over."""
        self._audio.append(samples)
        self._pushed += len(samples)
        frame_ms = 1000 * 512 / RATE
        for p in probabilities:
            self._frame_end += 512
            if p >= self.threshold:
                self.speech_end_s = self._frame_end / RATE
                self._speech_run += frame_ms
                self._silence_run = 0.0
                if not self.started and self._speech_run >= self.start_ms:
                    self.started = True
                    self._trim_to_pre_roll()
            else:
                self._speech_run = 0.0
                self._silence_run += frame_ms
        self._heard += len(samples) / RATE
        if self.started and (self._silence_run >= self.trailing_silence_ms
                             or self.duration_s >= self.max_utterance_s):
            return Outcome.UTTERANCE
        if not self.started and self._heard >= self.no_speech_s:
            return Outcome.NOTHING
        return None

    def _trim_to_pre_roll(self) -> None:
        """Keep the audio from ``pre_roll_ms`` before the first speech frame of this run."""
        onset = self._frame_end - int(self._speech_run * RATE / 1000)
        first = max(0, onset - int(self.pre_roll_ms * RATE / 1000))
        dropped = self._pushed - len(self.audio())
        self._audio = [self.audio()[max(0, first - dropped):]]

    @property
    def duration_s(self) -> float:
        return sum(len(a) for a in self._audio) / RATE

    def audio(self) -> Samples:
        """The utterance so far."""
        if not self._audio:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._audio).astype(np.float32)
