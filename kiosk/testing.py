"""Fakes for tests and for machines without the real thing, passed in through constructors.

Each fake has a real counterpart that is tested too:
- ``HashingEncoder`` ↔ ``kiosk.qa.encoder.OnnxEncoder`` (the real multilingual encoder);
- ``ScriptedRecognizer`` ↔ ``kiosk.asr.whisper.WhisperRecognizer`` (real speech, real model);
- ``SamplesMicrophone`` ↔ ``kiosk.audio.devices.Microphone`` (tested through PulseAudio);
- ``FakeSpeakers`` ↔ ``kiosk.audio.devices.Speakers`` (tested through a PulseAudio null sink);
- ``WordSpeaker`` ↔ ``kiosk.tts.speaker.EspeakSpeaker`` (espeak-ng into the null sink);
- ``EnergyVad`` ↔ ``kiosk.audio.vad.SileroVad``;
- ``ManualClock`` ↔ ``time.monotonic`` (the controller's clock).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.errors import AudioError
from kiosk.events import Transcript
from kiosk.ports import Samples, Vectors
from kiosk.qa.text import content_words, stem


class HashingEncoder:
    """A model-free encoder: hashed word stems → unit vectors (same words, close vectors).

    It knows no meaning and no languages, only shared words, so tests built on it check the
    answerer's logic (names, context, thresholds, languages), not the model's quality.
    """

    model_id = "hashing-test-encoder"
    sha256 = "0" * 64

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.calls = 0

    def _index(self, token: str) -> int:
        return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest()) % self.dim

    def encode(self, texts: Sequence[str], passage: bool = False) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in content_words(text) or ["<empty>"]:
                out[row, self._index(stem(token))] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-9), dtype=np.float32)


class ScriptedRecognizer:
    """Hears what it is told to: each call returns the next scripted (text, language)."""

    def __init__(self, script: Sequence[tuple[str, str]], delay_s: float = 0.0) -> None:
        self.script = list(script)
        self.delay_s = delay_s
        """How long each transcription takes (a slow model)."""
        self.heard: list[float] = []
        """Seconds of audio of each call."""

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        time.sleep(self.delay_s)
        self.heard.append(len(audio) / RATE)
        text, spoken = self.script.pop(0)
        return Transcript(text=text, lang=lang or spoken, audio_s=len(audio) / RATE)

    def stream(self, lang: str | None = None, hotwords: Sequence[str] = ()) -> ScriptedStream:
        """Like Vosk: one more word of the next scripted text every 0.3 s of audio fed."""
        text, spoken = self.script.pop(0)
        return ScriptedStream(text, lang or spoken, self.heard)


class ScriptedStream:
    """The stream of ``ScriptedRecognizer`` (its real counterpart: ``asr.vosk.VoskStream``)."""

    def __init__(self, text: str, lang: str, heard: list[float]) -> None:
        self.text, self.lang, self.heard = text, lang, heard
        self.samples = 0
        self._shown = 0

    def feed(self, samples: Samples, speech: bool = True) -> str | None:
        self.samples += len(samples)
        words = self.text.split()
        count = min(len(words), int(self.samples / (0.3 * RATE)))
        if count == self._shown:
            return None
        self._shown = count
        return " ".join(words[:count])

    def finish(self) -> Transcript:
        self.heard.append(self.samples / RATE)
        return Transcript(text=self.text, lang=self.lang, audio_s=self.samples / RATE)


class SamplesMicrophone:
    """A microphone that hears the given audio, then silence, in 100 ms chunks (as fast as
    they are read, or at the pace of speech). ``vanish_after_s``: it raises AudioError
    there, like an unplugged one."""

    def __init__(self, audio: Samples, silence_s: float = 3.0,
                 vanish_after_s: float | None = None, realtime: bool = False) -> None:
        self.audio = np.concatenate([audio, np.zeros(int(silence_s * RATE), np.float32)])
        self.vanish_after_s = vanish_after_s
        self.realtime = realtime
        """Deliver each chunk when a real microphone would: once it has been spoken."""
        self.t0 = 0.0
        """``time.perf_counter()`` when the audio started being 'spoken' (realtime)."""
        self.started = 0
        self.closed = False

    def start(self) -> None:
        self.started += 1

    def chunks(self) -> Iterator[Samples]:
        block = RATE // 10
        self.t0 = time.perf_counter()
        for start in range(0, len(self.audio), block):
            if self.realtime:
                time.sleep(max(0.0, self.t0 + (start + block) / RATE - time.perf_counter()))
            if self.vanish_after_s is not None and start / RATE >= self.vanish_after_s:
                raise AudioError("the microphone stopped sending sound (unplugged?) — plug it "
                                 "back in; the kiosk tries again every 2 s")
            yield self.audio[start:start + block]

    def drain(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class FakeSpeakers:
    """Speakers that keep what they are given (no sound card): same ``play`` as the real."""

    def __init__(self) -> None:
        self.played: list[Samples] = []
        self.stopped = False

    def play(self, samples: Samples, rate: int = RATE,
             on_position: Callable[[float], None] | None = None) -> bool:
        self.stopped = False
        for start in range(0, len(samples), rate // 10):
            if self.stopped:
                return False
            if on_position is not None:
                on_position(start / rate)
        self.played.append(samples)
        return True

    def stop(self) -> None:
        self.stopped = True


class WordSpeaker:
    """A speaker with no synthesiser and no sound card: tells each word of the text, one
    every ``word_s`` seconds, and keeps what it said. Same ``say``/``stop`` as the real."""

    def __init__(self, word_s: float = 0.0) -> None:
        self.word_s = word_s
        self.said: list[tuple[str, str]] = []
        """(text, language) of each call, finished or not."""
        self._stopped = False

    def say(self, text: str, lang: str, on_word: Callable[[int, int], None] | None = None,
            ) -> bool:
        self._stopped = False
        self.said.append((text, lang))
        position = 0
        for word in text.split():
            if self._stopped:
                return False
            start = text.index(word, position)
            position = start + len(word)
            if on_word is not None:
                on_word(start, position)
            if self.word_s:
                time.sleep(self.word_s)
        return not self._stopped

    def stop(self) -> None:
        self._stopped = True


class EnergyVad:
    """Speech probability from loudness (no model): 1.0 for a 32 ms frame above
    ``threshold`` RMS, else 0.0."""

    def __init__(self, threshold: float = 0.02) -> None:
        self.threshold = threshold

    def feed(self, samples: Samples) -> list[float]:
        frame = 512
        return [1.0 if float(np.sqrt(np.mean(samples[i:i + frame] ** 2) + 1e-12)) >
                self.threshold else 0.0 for i in range(0, len(samples) - frame + 1, frame)]

    def reset(self) -> None:
        pass


class ManualClock:
    """A monotonic clock that moves only when told (``clock.now += 91``): idle resets
    without waiting."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
