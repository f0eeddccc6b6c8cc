"""Whisper (faster-whisper, CTranslate2 int8 on the CPU) behind ``ports.Recognizer``.

The only module that imports faster_whisper. The model is read from the kiosk's data
directory (``kiosk models install whisper-base``); nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kiosk.audio.wav import RATE
from kiosk.errors import AsrError, ModelError
from kiosk.events import Transcript
from kiosk.models import get_spec, installed_path
from kiosk.paths import DataDir
from kiosk.ports import Samples

TEMPERATURES = (0.0, 0.4)
"""Greedy first, one warmer retry when the text looks like a loop (not Whisper's six: a
visitor is waiting)."""


class WhisperRecognizer:
    """Transcribes whole utterances; the language is fixed by the session or detected."""

    def __init__(self, model_dir: Path, threads: int = 2, beam_size: int = 1,
                 max_tokens: int = 200) -> None:
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
        self.max_tokens = max_tokens
        """A cap on the words of one utterance (a question is short; it stops runaway loops)."""

    def transcribe(self, audio: Samples, lang: str | None = None,
                   hotwords: Sequence[str] = ()) -> Transcript:
        try:
            segments, info = self._model.transcribe(
                audio, language=lang, beam_size=self.beam_size,
                hotwords=", ".join(hotwords) or None, condition_on_previous_text=False,
                without_timestamps=True, vad_filter=False,
                max_new_tokens=self.max_tokens, temperature=TEMPERATURES)
            text = " ".join(s.text.strip() for s in segments).strip()
        except Exception as exc:  # the engine's own errors, translated here
            raise AsrError(f"Whisper failed on this audio: {exc}") from exc
        return Transcript(text=text, lang=info.language,
                          language_probability=float(info.language_probability),
                          audio_s=len(audio) / RATE)


def load_whisper(data: DataDir, model_id: str = "whisper-base", threads: int = 2,
                 beam_size: int = 1) -> WhisperRecognizer:
    """The installed Whisper model; ModelError naming the install command when missing."""
    spec = get_spec(model_id)
    if spec.role != "speech-recognizer":
        raise ModelError(f"model '{model_id}' is a {spec.role}, not a speech recognizer — "
                         "fix asr.whisper_model in the settings")
    for f in spec.files:
        installed_path(data, spec, f.name)
    return WhisperRecognizer(data.model_dir(spec.id), threads=threads, beam_size=beam_size)
