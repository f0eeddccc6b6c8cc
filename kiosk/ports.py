"""The Protocols of the pipeline's stages. Adapters implement them; the core only sees these."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from kiosk.events import Answer, Question, Transcript

Vectors = npt.NDArray[np.float32]


class Encoder(Protocol):
    """Turns texts into unit-length vectors; similar meanings, close vectors, across languages."""

    model_id: str
    sha256: str

    def encode(self, texts: Sequence[str], passage: bool = False) -> Vectors:
        """Vectors of questions, or (``passage``) of texts that may answer them (encoders
        trained for retrieval read the two differently; others ignore it)."""
        ...


class ContentStore(Protocol):
    """Read-only access to one content version."""

    def museum(self) -> dict[str, Any]: ...
    def exhibits(self) -> list[dict[str, Any]]: ...
    def faq(self) -> list[dict[str, Any]]: ...
    def units(self) -> list[dict[str, Any]]: ...
    def vectors(self) -> Vectors: ...


class Answerer(Protocol):
    """Chooses an answer, a clarification or an honest refusal."""

    def answer(self, question: Question, about: str | None = None) -> Answer: ...


class Microphone(Protocol):
    """Gives 16 kHz mono audio in chunks, as floats."""

    def start(self) -> None: ...
    def chunks(self) -> Iterator[npt.NDArray[np.float32]]: ...
    def drain(self) -> None: ...
    def close(self) -> None: ...


Samples = npt.NDArray[np.float32]
"""Mono audio at 16 kHz, floats in [-1, 1]."""


class Recognizer(Protocol):
    """Turns speech into text."""

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript: ...


class RecognizerStream(Protocol):
    """One utterance given to a recognizer while it is being spoken."""

    def feed(self, samples: Samples, speech: bool = True) -> str | None:
        """More audio (``speech``: whether the VAD heard speech in it); the partial caption
        when it changed, else None."""
        ...

    def finish(self) -> Transcript:
        """The utterance is over: its transcript."""
        ...


@runtime_checkable
class StreamingRecognizer(Recognizer, Protocol):
    """A recognizer that can work while the visitor speaks."""

    def stream(self, lang: str | None = None,
               hotwords: Sequence[str] = ()) -> RecognizerStream: ...


WordCallback = Callable[[int, int], None]
"""Told ``(start, end)``, the characters of the spoken text being said now."""


class Speaker(Protocol):
    """Says a text aloud; returns False when stopped before the end."""

    def say(self, text: str, lang: str, on_word: WordCallback | None = None) -> bool: ...
    def stop(self) -> None: ...


class VoiceActivity(Protocol):
    """Speech probability of each frame of a stream."""

    def feed(self, samples: npt.NDArray[np.float32]) -> list[float]: ...
    def reset(self) -> None: ...
