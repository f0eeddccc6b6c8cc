"""Whisper (faster-whisper, CTranslate2 int8 on the CPU) behind ``ports.Recognizer``.

The only module that imports faster_whisper. The model is read from the kiosk's data
directory (``kiosk models install whisper-base``); nothing is downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kiosk.audio.wav import RATE
from kiosk.errors import AsrError, ModelError
from kiosk.events import Transcript
from kiosk.models import get_spec, installed_path
from kiosk.paths import DataDir
from kiosk.ports import Samples

if TYPE_CHECKING:
    from kiosk.content.model import Pack
    from kiosk.models import ModelSpec
    from kiosk.paths import DataDir
    from kiosk.settings import AsrSettings

TEMPERATURES = (0.0, 0.4)
"""Greedy first, one warmer retry when the text looks like a loop (not Whisper's six: a
visitor is waiting)."""


class WhisperRecognizer:
    """Transcribes whole utterances; the language is fixed by the session or detected."""

    def __init__(self, model_dir: Path, threads: int = 2, beam_size: int = 1,
                 max_tokens: int = 200, pause_ms: float = 250) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelError(f"faster-whisper is not installed ({exc}) — run `make setup`") \
                from exc
        try:
            self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                       cpu_threads=threads, local_files_only=True)
        except Exception as exc:  # CTranslate2 raises plain RuntimeError/ValueError
            raise ModelError(f"cannot load Whisper from {model_dir}: {exc} — reinstall it with "
                             "`kiosk models install whisper-base`") from exc
        self.beam_size = beam_size
        self.pause_ms = pause_ms
        """Silence after which a stream starts decoding what was said (a guess)."""
        self.max_tokens = max_tokens
        """A cap on the words of one utterance (a question is short; it stops runaway loops)."""

    def token_cap(self, seconds: float) -> int:
        """Tokens an utterance this long may need: people say at most ~4 words a second, a
        word is ~2 tokens. Seen here: Whisper base looping on synthetic speech ("5, 5, 5, …",
        "la la la …") up to the cap; a cap by length stops that early."""
        return max(16, min(self.max_tokens, int(10 + 8 * seconds)))

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        try:
            segments, info = self._model.transcribe(
                audio, language=lang, beam_size=self.beam_size,
                hotwords=", ".join(hotwords) or None, condition_on_previous_text=False,
                without_timestamps=True, vad_filter=False,
                max_new_tokens=self.token_cap(len(audio) / RATE), temperature=TEMPERATURES)
            text = " ".join(s.text.strip() for s in segments).strip()
        except Exception as exc:  # the engine's own errors, translated here
            raise AsrError(f"Whisper failed on this audio: {exc}") from exc
        return Transcript(text=text, lang=info.language,
                          language_probability=float(info.language_probability),
                          audio_s=len(audio) / RATE)

    def stream(self, lang: str | None = None, hotwords: Sequence[str] = ()) -> WhisperStream:
        """An utterance fed as it is spoken (see ``WhisperStream``)."""
        return WhisperStream(self, lang, hotwords, self.pause_ms)


class WhisperStream:
    """One utterance for Whisper, which only decodes whole utterances: when the visitor
    pauses, the words so far are decoded at once, in the background, while the end-pointer
    is still waiting to be sure the question is over. If the visitor goes on, that guess is
    dropped; if not, the transcript is ready (or nearly) when the end-pointer fires.
    """

    def __init__(self, recognizer: WhisperRecognizer, lang: str | None,
                 hotwords: Sequence[str], pause_ms: float) -> None:
        self._recognizer = recognizer
        self._lang = lang
        self._hotwords = tuple(hotwords)
        self._pause = int(pause_ms * RATE / 1000)
        self._chunks: list[Samples] = []
        self._samples = 0
        self._silence = 0
        self._heard_speech = False
        self._guess_at = -1
        """How many samples the running or finished guess covers (-1: none)."""
        self._guess: Transcript | BaseException | None = None
        self._thread: threading.Thread | None = None
        self._shown = False
        self.guesses = 0
        """How many background decodes were started (for the bench)."""

    def feed(self, samples: Samples, speech: bool = True) -> str | None:
        self._chunks.append(samples)
        self._samples += len(samples)
        if speech:
            self._heard_speech = True
            self._silence = 0
            self._guess_at = -1  # the visitor goes on: any guess is stale
            self._shown = False
        else:
            self._silence += len(samples)
        idle = self._thread is None or not self._thread.is_alive()
        if self._heard_speech and self._silence >= self._pause and self._guess_at < 0 and idle:
            self._start_guess()
            idle = False
        if self._guess_at >= 0 and idle and not self._shown \
                and isinstance(self._guess, Transcript):
            self._shown = True
            return self._guess.text  # the caption, while the end-pointer is still waiting
        return None

    def _start_guess(self) -> None:
        audio = np.concatenate(self._chunks)
        self._guess_at = len(audio)
        self._guess = None
        self.guesses += 1

        def run() -> None:
            try:
                self._guess = self._recognizer.transcribe(audio, self._lang, self._hotwords)
            except BaseException as exc:  # handed to finish(), which re-raises it
                self._guess = exc

        self._thread = threading.Thread(target=run, name="whisper-guess", daemon=True)
        self._thread.start()

    def finish(self) -> Transcript:
        if self._thread is not None:
            self._thread.join()
        audio_s = self._samples / RATE
        if self._guess_at >= 0 and self._guess is not None:
            if isinstance(self._guess, BaseException):
                raise self._guess
            # only silence came after the guess's audio: it is the transcript
            return Transcript(self._guess.text, self._guess.lang,
                              self._guess.language_probability, audio_s)
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        return self._recognizer.transcribe(audio, self._lang, self._hotwords)


def load_whisper(data: DataDir, model_id: str = "whisper-base", threads: int = 2,
                 beam_size: int = 1, pause_ms: float = 250) -> WhisperRecognizer:
    """The installed Whisper model; ModelError naming the install command when missing."""
    spec = get_spec(model_id)
    if spec.role != "speech-recognizer":
        raise ModelError(f"model '{model_id}' is a {spec.role}, not a speech recognizer — "
                         "fix asr.whisper_model in the settings")
    for f in spec.files:
        installed_path(data, spec, f.name)
    return WhisperRecognizer(data.model_dir(spec.id), threads=threads, beam_size=beam_size,
                             pause_ms=pause_ms)


def open_engine(data: DataDir, spec: ModelSpec, lang: str, pack: Pack,
                asr: AsrSettings) -> WhisperRecognizer:
    """The registry's loader (``kiosk.engines``): one Whisper for every language."""
    return load_whisper(data, spec.id, asr.threads, asr.beam_size, asr.whisper_pause_ms)
