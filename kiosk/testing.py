"""Fakes for tests and for machines without the real thing, passed in through constructors.

Each fake has a real counterpart that is tested too:
- ``HashingEncoder`` ↔ ``kiosk.qa.encoder.OnnxEncoder`` (the real multilingual encoder);
- ``ScriptedRecognizer`` ↔ ``kiosk.asr.whisper.WhisperRecognizer`` (real speech, real model).

Later issues add the microphone and speaker fakes here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from kiosk.audio.wav import RATE
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

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in content_words(text) or ["<empty>"]:
                out[row, self._index(stem(token))] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-9), dtype=np.float32)


class ScriptedRecognizer:
    """Hears what it is told to: each call returns the next scripted (text, language)."""

    def __init__(self, script: Sequence[tuple[str, str]]) -> None:
        self.script = list(script)
        self.heard: list[float] = []
        """Seconds of audio of each call."""

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        self.heard.append(len(audio) / RATE)
        text, spoken = self.script.pop(0)
        return Transcript(text=text, lang=lang or spoken, audio_s=len(audio) / RATE)
